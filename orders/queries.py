"""Read-side functions of orders/ that other packages call."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.followups_schemas import BuyerRecord
from orders.models import Deal, Order, Product
from orders.statuses import SOLD


async def buyers_of(session: AsyncSession, broadcast_ids: list[int]) -> list[BuyerRecord]:
    """Every customer who ordered in these broadcasts (a hub and its relays): paid (any order
    paid, refunds included) or not, with the names of what they left unpaid."""
    if not broadcast_ids:
        return []
    rows = await session.execute(
        select(Order.customer_id, Order.status, Product.name)
        .join(Deal, Deal.id == Order.deal_id)
        .join(Product, Product.id == Order.product_id)
        .where((Order.broadcast_id.in_(broadcast_ids)) | (Deal.broadcast_id.in_(broadcast_ids)))
        .order_by(Order.accepted_at)
    )
    paid: set[int] = set()
    unpaid: dict[int, list[str]] = {}
    for customer_id, status, name in rows.all():
        if status in SOLD:
            paid.add(customer_id)
        else:
            names = unpaid.setdefault(customer_id, [])
            if name not in names:
                names.append(name)
    return [
        BuyerRecord(customer_id, customer_id in paid, [] if customer_id in paid else names)
        for customer_id, names in {**{c: [] for c in paid}, **unpaid}.items()
    ]
