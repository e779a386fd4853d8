"""The orders landing in a room, for the host console: newest first, with the room's totals.

A store host sees their own store's room; HQ sees any room, and the hub room's feed counts
the sales of every store room relaying it.
"""

from __future__ import annotations

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.queries import masked_names
from orders.models import Order, Product, units_kept
from orders.statuses import SOLD, OrderStatus

FEED_LENGTH = 50


class RoomOrder(msgspec.Struct):
    order_id: str
    product_name: str
    quantity: int
    amount_fen: int
    status: OrderStatus
    buyer: str
    """Masked: 林**."""
    accepted_ms: int


class RoomOrders(msgspec.Struct):
    orders: list[RoomOrder]
    count: int
    paid_count: int
    """Orders paid for and not wholly refunded."""
    paid_fen: int
    units: int
    """Units sold: paid for, less those refunded (`orders.models.units_kept`)."""


async def room_orders(session: AsyncSession, broadcast_ids: list[int]) -> RoomOrders:
    in_room = Order.broadcast_id.in_(broadcast_ids)
    rows = (
        await session.execute(
            select(Order, Product.name)
            .join(Product, Product.id == Order.product_id)
            .where(in_room)
            .order_by(Order.accepted_at.desc(), Order.id.desc())
            .limit(FEED_LENGTH)
        )
    ).all()
    names = await masked_names(session, sorted({order.customer_id for order, _ in rows}))
    count = await session.scalar(select(func.count()).where(in_room))
    kept = units_kept()
    paid_count, paid_fen, units = (
        await session.execute(
            select(
                func.count().filter(kept > 0),
                func.coalesce(func.sum(Order.amount_fen).filter(kept > 0), 0),
                func.coalesce(func.sum(kept), 0),
            ).where(in_room, Order.status.in_(SOLD))
        )
    ).one()
    return RoomOrders(
        orders=[
            RoomOrder(
                order_id=order.id,
                product_name=name,
                quantity=order.quantity,
                amount_fen=order.amount_fen,
                status=order.status,
                buyer=names.get(order.customer_id, "**"),
                accepted_ms=int(order.accepted_at.timestamp() * 1000),
            )
            for order, name in rows
        ],
        count=int(count or 0),
        paid_count=int(paid_count),
        paid_fen=int(paid_fen),
        units=int(units),
    )
