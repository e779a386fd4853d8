"""HQ's view of every room on air now: viewers, likes, orders and sales so far, and whether
the room has what it needs to be watched (a stream URL)."""

from __future__ import annotations

from datetime import datetime

import msgspec
import redis.asyncio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.queries import store_names
from live.counts import room_counts
from live.models import Broadcast, BroadcastStatus, Room
from orders.room_totals import room_totals


class LiveRoom(msgspec.Struct):
    room_id: int
    broadcast_id: int
    kind: str
    title: str
    store_id: int | None
    store_name: str
    """The store's name; 总部 for the hub."""
    started_at: datetime | None
    viewers: int
    likes: int
    orders: int
    paid: int
    paid_fen: int
    has_stream: bool
    """A play URL is set: without one, viewers see the poster only."""


async def rooms_on_air(session: AsyncSession, client: redis.asyncio.Redis) -> list[LiveRoom]:
    rows = (
        await session.execute(
            select(Room.id, Broadcast)
            .join(Broadcast, Broadcast.id == Room.broadcast_id)
            .where(Broadcast.status == BroadcastStatus.LIVE)
            .order_by(Broadcast.kind, Broadcast.started_at, Room.id)
        )
    ).all()
    broadcasts = [broadcast for _, broadcast in rows]
    totals = await room_totals(session, [b.id for b in broadcasts])
    names = await store_names(session, sorted({b.store_id for b in broadcasts if b.store_id}))
    found = []
    for room_id, broadcast in rows:
        viewers, likes = await room_counts(client, broadcast.id)
        sold = totals.get(broadcast.id)
        found.append(
            LiveRoom(
                room_id=room_id,
                broadcast_id=broadcast.id,
                kind=broadcast.kind,
                title=broadcast.title,
                store_id=broadcast.store_id,
                store_name=names.get(broadcast.store_id, "") if broadcast.store_id else "总部",
                started_at=broadcast.started_at,
                viewers=viewers,
                likes=likes,
                orders=sold.orders if sold else 0,
                paid=sold.paid if sold else 0,
                paid_fen=sold.paid_fen if sold else 0,
                has_stream=bool(broadcast.play_url),
            )
        )
    return found
