"""Public read functions of live/ about rooms, for the other packages."""

from __future__ import annotations

import collections

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.models import Broadcast, BroadcastStatus, Room


class RoomContext(msgspec.Struct, frozen=True):
    """What another package needs to know of a room: its broadcast and the store it sells for."""

    room_id: int
    broadcast_id: int
    store_id: int | None
    """None for the hub room."""
    hub_broadcast_id: int | None
    """The hub broadcast this room relays (its own id for the hub room)."""
    status: BroadcastStatus


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


async def broadcasts_selling_in(session: AsyncSession, broadcast_id: int) -> list[int]:
    """The broadcast and, for a hub, every store broadcast relaying it: where its sales land."""
    relaying = await session.scalars(
        select(Broadcast.id).where(Broadcast.relays_id == broadcast_id)
    )
    return [broadcast_id, *relaying]


async def store_of_broadcast(session: AsyncSession, broadcast_id: int) -> int | None:
    """The store a broadcast belongs to (None for a hub broadcast or no such broadcast)."""
    return await session.scalar(select(Broadcast.store_id).where(Broadcast.id == broadcast_id))


class RoomContexts:
    """A process's room contexts, so admitting a socket reads no SQL once its room is known.

    A room's broadcast, store and hub never change; its `status` here is the one of the
    first read (the live status a room shows comes from its snapshot)."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], capacity: int = 4096
    ) -> None:
        self.sessionmaker = sessionmaker
        self.capacity = capacity
        self._rooms: collections.OrderedDict[int, RoomContext] = collections.OrderedDict()

    async def get(self, room_id: int) -> RoomContext | None:
        room = self._rooms.get(room_id)
        if room is None:
            async with self.sessionmaker() as session:
                room = await room_context(session, room_id)
            if room is None:
                return None  # not kept: a room id that does not exist costs a read each time
            self._rooms[room_id] = room
            if len(self._rooms) > self.capacity:
                self._rooms.popitem(last=False)
        self._rooms.move_to_end(room_id)
        return room
