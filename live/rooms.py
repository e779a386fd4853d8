"""Public read functions of live/ about rooms, for the other packages."""

from __future__ import annotations

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from live.models import Broadcast, Room


class RoomContext(msgspec.Struct, frozen=True):
    """What another package needs to know of a room: its broadcast and the store it sells for."""

    room_id: int
    broadcast_id: int
    store_id: int | None
    """None for the hub room."""
    hub_broadcast_id: int | None
    """The hub broadcast this room relays (its own id for the hub room)."""
    status: str


async def room_and_broadcast(session: AsyncSession, room_id: int) -> tuple[Room, Broadcast] | None:
    row = (
        await session.execute(
            select(Room, Broadcast)
            .join(Broadcast, Broadcast.id == Room.broadcast_id)
            .where(Room.id == room_id)
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def room_context(session: AsyncSession, room_id: int) -> RoomContext | None:
    found = await room_and_broadcast(session, room_id)
    if found is None:
        return None
    room, broadcast = found
    hub = broadcast.id if broadcast.kind == "hub" else broadcast.relays_id
    return RoomContext(room.id, broadcast.id, room.store_id, hub, broadcast.status)
