"""HTTP endpoints of live/: room details, the socket URL, and host controls."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

import msgspec
from litestar import Request, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.exceptions import ClientException, NotFoundException, PermissionDeniedException
from litestar.params import JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from live.controls import BadTransition, NotAllowed, NotFound, end_broadcast, go_live, put_on_air
from live.counts import mute
from live.models import Broadcast
from live.protocol import Snapshot
from live.rooms import room_context
from live.snapshot import build_snapshot
from live.streams import StreamBus
from server.auth import PUBLIC, Principal, Role, allow
from server.services import Services

STAFF = allow(Role.HQ, Role.HOST)
T = TypeVar("T")


class ClientConfig(msgspec.Struct):
    ws_url: str


class OnAirChange(msgspec.Struct, forbid_unknown_fields=True):
    item_id: int | None


class MuteChatter(msgspec.Struct, forbid_unknown_fields=True):
    customer_id: int


class BroadcastStatus(msgspec.Struct):
    id: int
    status: str


def _bus(state: State) -> StreamBus:
    services: Services = state.services
    return StreamBus(services.redis)


async def _translate(coro: Awaitable[T]) -> T:
    try:
        return await coro
    except NotAllowed as exc:
        raise PermissionDeniedException(str(exc)) from exc
    except NotFound as exc:
        raise NotFoundException(str(exc)) from exc
    except BadTransition as exc:
        raise ClientException(str(exc), status_code=409) from exc


@get("/api/config", opt=PUBLIC, tags=["live"])
async def client_config(state: State) -> ClientConfig:
    """Where the pages open room sockets."""
    return ClientConfig(ws_url=state.services.settings.public_ws_url)


@get("/api/rooms/{room_id:int}", opt=allow(*Role), tags=["live"])
async def room_details(room_id: int, state: State, db: NamedDependency[AsyncSession]) -> Snapshot:
    """The room as a snapshot, for pages that render before their socket opens."""
    room = await room_context(db, room_id)
    if room is None:
        raise NotFoundException("no such room")
    return await build_snapshot(db, _bus(state), room)


@post("/api/broadcasts/{broadcast_id:int}/live", opt=STAFF, tags=["live"], status_code=200)
async def start_broadcast(
    broadcast_id: int, request: Request[Principal, str, State], db: NamedDependency[AsyncSession]
) -> BroadcastStatus:
    broadcast: Broadcast = await _translate(
        go_live(db, _bus(request.app.state), request.user, broadcast_id)
    )
    return BroadcastStatus(broadcast.id, broadcast.status)


@post("/api/broadcasts/{broadcast_id:int}/end", opt=STAFF, tags=["live"], status_code=200)
async def stop_broadcast(
    broadcast_id: int, request: Request[Principal, str, State], db: NamedDependency[AsyncSession]
) -> BroadcastStatus:
    broadcast: Broadcast = await _translate(
        end_broadcast(db, _bus(request.app.state), request.user, broadcast_id)
    )
    return BroadcastStatus(broadcast.id, broadcast.status)


@post("/api/broadcasts/{broadcast_id:int}/on-air", opt=STAFF, tags=["live"], status_code=204)
async def change_on_air(
    broadcast_id: int,
    data: JSONBody[OnAirChange],
    request: Request[Principal, str, State],
    db: NamedDependency[AsyncSession],
) -> None:
    await _translate(
        put_on_air(db, _bus(request.app.state), request.user, broadcast_id, data.item_id)
    )


@post("/api/broadcasts/{broadcast_id:int}/mute", opt=STAFF, tags=["live"], status_code=204)
async def mute_chatter(
    broadcast_id: int,
    data: JSONBody[MuteChatter],
    request: Request[Principal, str, State],
    db: NamedDependency[AsyncSession],
) -> None:
    from live.controls import check_control

    broadcast = await db.get(Broadcast, broadcast_id)
    if broadcast is None:
        raise NotFoundException("no such broadcast")
    try:
        check_control(request.user, broadcast)
    except NotAllowed as exc:
        raise PermissionDeniedException(str(exc)) from exc
    await mute(request.app.state.services.redis, broadcast_id, data.customer_id)


ROUTES = [client_config, room_details, start_broadcast, stop_broadcast, change_on_air, mute_chatter]
