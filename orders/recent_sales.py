"""What sold in the last minutes, per product and broadcast: the chain's pulse while a hub
broadcast is on (live/chain_pulse.py turns it into top items and room comparisons)."""

from __future__ import annotations

from datetime import datetime

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from orders.models import Order, Product
from orders.statuses import OrderStatus

TAKEN = (OrderStatus.PENDING_PAYMENT, OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED)
"""Orders that count as selling now: taken and not expired, cancelled or wholly refunded."""


class RecentSale(msgspec.Struct):
    product_id: int
    product_name: str
    product_name_en: str
    broadcast_id: int
    units: int
    amount_fen: int


async def recent_sales(
    session: AsyncSession, broadcast_ids: list[int], since: datetime
) -> list[RecentSale]:
    if not broadcast_ids:
        return []
    rows = await session.execute(
        select(
            Order.product_id,
            Product.name,
            Product.name_en,
            Order.broadcast_id,
            func.sum(Order.quantity),
            func.sum(Order.amount_fen),
        )
        .join(Product, Product.id == Order.product_id)
        .where(
            Order.broadcast_id.in_(broadcast_ids),
            Order.accepted_at >= since,
            Order.status.in_(TAKEN),
        )
        .group_by(Order.product_id, Product.name, Product.name_en, Order.broadcast_id)
    )
    return [
        RecentSale(product_id, name, name_en, broadcast_id, int(units), int(amount))
        for product_id, name, name_en, broadcast_id, units, amount in rows.all()
        if broadcast_id is not None
    ]
