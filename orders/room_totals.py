"""Each broadcast's orders in a few figures, for the HQ view of every live room."""

from __future__ import annotations

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from orders.models import Order, units_kept
from orders.statuses import SOLD


class RoomTotals(msgspec.Struct):
    orders: int = 0
    """Every order taken in the room, paid or not."""
    paid: int = 0
    """Orders paid for and not wholly refunded."""
    paid_fen: int = 0


async def room_totals(session: AsyncSession, broadcast_ids: list[int]) -> dict[int, RoomTotals]:
    """Totals per broadcast in one grouped query; a broadcast without orders is absent."""
    if not broadcast_ids:
        return {}
    kept = units_kept()
    rows = await session.execute(
        select(
            Order.broadcast_id,
            func.count(),
            func.count().filter(Order.status.in_(SOLD), kept > 0),
            func.coalesce(func.sum(Order.amount_fen).filter(Order.status.in_(SOLD), kept > 0), 0),
        )
        .where(Order.broadcast_id.in_(broadcast_ids))
        .group_by(Order.broadcast_id)
    )
    return {
        broadcast_id: RoomTotals(int(count), int(paid), int(paid_fen))
        for broadcast_id, count, paid, paid_fen in rows.all()
        if broadcast_id is not None
    }
