"""The rooms a newcomer can open: what the index page lists as links.

Public: a room's title, its store and whether it is live are what its posters show anyway.
Console links carry no token (a console asks its host for one); `storecast demo` prints
signed links for each role.
"""

from __future__ import annotations

import msgspec
from litestar import Controller, get
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.queries import store_names
from live.models import Broadcast, Room
from server.auth import PUBLIC


class RoomLink(msgspec.Struct):
    room_id: int
    kind: str
    """`hub` (HQ's room) or `store`."""
    title: str
    store_name: str | None
    status: str
    """The room's own broadcast: scheduled, live or ended."""
    relaying_live_hub: bool
    """A store room whose own broadcast is not live, showing the live hub's."""
    viewer_url: str
    console_url: str


class RoomDirectory(msgspec.Struct):
    rooms: list[RoomLink]
    """The hub's room first, then the stores' rooms by id."""


class RoomDirectoryController(Controller):
    path = "/api/rooms"
    tags = ("live",)

    @get("/", opt=PUBLIC)
    async def list_rooms(self, db: AsyncSession) -> RoomDirectory:
        rows = (
            await db.execute(
                select(Room.id, Room.store_id, Broadcast).join(
                    Broadcast, Broadcast.id == Room.broadcast_id
                )
            )
        ).all()
        statuses = {broadcast.id: broadcast.status for _, _, broadcast in rows}
        names = await store_names(db, [s for _, s, _ in rows if s is not None])
        links = [
            RoomLink(
                room_id=room_id,
                kind=broadcast.kind,
                title=broadcast.title,
                store_name=None if store_id is None else names.get(store_id),
                status=broadcast.status,
                relaying_live_hub=broadcast.relays_id is not None
                and broadcast.status != "live"
                and statuses.get(broadcast.relays_id) == "live",
                viewer_url=f"/static/room.html?room={room_id}",
                console_url=f"/static/host.html?room={room_id}",
            )
            for room_id, store_id, broadcast in rows
        ]
        links.sort(key=lambda link: (link.kind != "hub", link.room_id))
        return RoomDirectory(links)
