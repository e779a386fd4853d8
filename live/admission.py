"""Admission, before the 101: a room socket needs a room that exists, an allowed origin and
a valid token; HQ's live view (`/ws/hq`) an HQ token. The admission rides on the connection
from `process_request` to the handler, so an upgrade that passes admission and then fails its
handshake leaves nothing behind."""

from __future__ import annotations

from collections.abc import Collection
from http import HTTPStatus
from typing import NamedTuple
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request, Response

from live.moderation import staff_chat_name
from live.rooms import RoomContext, RoomContexts
from server.auth import Principal, Role, TokenError, TokenSigner
from server.bounds import INT32_MAX


def room_id_in(text: str) -> int | None:
    """The room id of a socket path, or None when it cannot be one (not ASCII digits, or past
    the database's integer: such a path is a 404, never a query)."""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(INT32_MAX)):
        return None
    room_id = int(text)
    return room_id if 1 <= room_id <= INT32_MAX else None


class Admission(NamedTuple):
    """Who passed admission, into which room, and the name staff chat under (None: a
    customer, named at their first chat, or staff who only watch, as a guide does)."""

    principal: Principal
    room: RoomContext
    chat_name: str | None


class AdmittedConnection(ServerConnection):
    """A room socket carries its own admission, from `process_request` to the handler: an
    upgrade that passes admission but fails its handshake leaves nothing in the gateway."""

    admission: Admission | None = None
    hq: bool = False
    """An HQ live-view socket (`/ws/hq`, live/hq_feed.py), not a room's."""


class Admitter:
    """The gateway's `process_request`: reads no SQL once a room is known."""

    def __init__(
        self, allowed_origins: Collection[str], signer: TokenSigner, rooms: RoomContexts
    ) -> None:
        self.allowed_origins = allowed_origins
        self.signer = signer
        self.rooms = rooms

    async def __call__(self, connection: ServerConnection, request: Request) -> Response | None:
        """`process_request`: None admits (the admission rides on the connection), else the
        refusal to send."""
        url = urlsplit(request.path)
        parts = url.path.strip("/").split("/")
        if parts == ["ws", "hq"]:
            return self._hq(connection, request)
        if len(parts) != 3 or parts[:2] != ["ws", "rooms"] or room_id_in(parts[2]) is None:
            return connection.respond(HTTPStatus.NOT_FOUND, "no such room\n")
        origin = request.headers.get("Origin")
        if origin is not None and origin not in self.allowed_origins:
            return connection.respond(HTTPStatus.FORBIDDEN, "origin not allowed\n")
        token = (parse_qs(url.query).get("token") or [""])[0]
        try:
            principal = self.signer.verify(token)
        except TokenError as exc:
            return connection.respond(HTTPStatus.UNAUTHORIZED, f"{exc}\n")
        # No SQL once the room is known: a join storm (a node's viewers all coming back)
        # must not become a storm of database reads. A customer's name is read at their
        # first chat line, and the token they hold was signed for them.
        room = await self.rooms.get(int(parts[2]))
        if room is None:
            return connection.respond(HTTPStatus.NOT_FOUND, "no such room\n")
        assert isinstance(connection, AdmittedConnection)
        # An observer (HQ's "watch" link) is admitted read-only: no name to chat under.
        observing = parse_qs(url.query).get("observe") == ["1"] and principal.role is Role.HQ
        chat_name = None if observing else staff_chat_name(principal, room)
        connection.admission = Admission(principal, room, chat_name)
        return None

    def _hq(self, connection: ServerConnection, request: Request) -> Response | None:
        """HQ's live view: an HQ token or nothing."""
        origin = request.headers.get("Origin")
        if origin is not None and origin not in self.allowed_origins:
            return connection.respond(HTTPStatus.FORBIDDEN, "origin not allowed\n")
        token = (parse_qs(urlsplit(request.path).query).get("token") or [""])[0]
        try:
            principal = self.signer.verify(token)
        except TokenError as exc:
            return connection.respond(HTTPStatus.UNAUTHORIZED, f"{exc}\n")
        if principal.role is not Role.HQ:
            return connection.respond(HTTPStatus.FORBIDDEN, "HQ only\n")
        assert isinstance(connection, AdmittedConnection)
        connection.hq = True
        return None
