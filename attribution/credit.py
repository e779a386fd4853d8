"""Sale credit (业绩归属): which guide and store a paid sale counts for.

Decided once, when the sale is paid, from the customer's binding at that moment,
and never changed: org changes do not move earned performance. A refund writes the
reverse of exactly that credit.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.models import Binding, SaleCredit
from server.model_base import utcnow

RULE_BOUND_GUIDE = "bound_guide"
"""Online sale of a bound customer: the guide and the guide's store (seed 002, line two)."""
RULE_ROOM_STORE = "room_store"
"""Online sale of an unbound customer: the store whose room it happened in."""
RULE_HQ_LINE = "hq_line"
"""Online sale of an unbound customer in the hub room (no store's room): HQ's own line, kept
as a credit with no store and no guide, so per-store sums stay the stores' own."""
RULE_PHYSICAL_STORE = "physical_store"
"""A purchase at the till counts for that store (seed 002, line one)."""


async def credit_sale(
    session: AsyncSession,
    *,
    order_id: str,
    customer_id: int,
    amount_fen: int,
    room_store_id: int | None,
    in_store: bool = False,
    at: datetime | None = None,
) -> SaleCredit:
    """Write the one credit of a paid order, inside the caller's transaction. Idempotent."""
    existing = await session.scalar(
        select(SaleCredit).where(SaleCredit.order_id == order_id, SaleCredit.kind == "sale")
    )
    if existing is not None:
        return existing
    binding = None
    if not in_store:
        binding = await session.scalar(
            select(Binding).where(Binding.customer_id == customer_id, Binding.ended_at.is_(None))
        )
    if binding is not None:
        guide_id, store_id, rule = binding.guide_id, binding.store_id, RULE_BOUND_GUIDE
    elif room_store_id is not None:
        guide_id, store_id = None, room_store_id
        rule = RULE_PHYSICAL_STORE if in_store else RULE_ROOM_STORE
    else:
        guide_id, store_id, rule = None, None, RULE_HQ_LINE
    credit = SaleCredit(
        order_id=order_id,
        kind="sale",
        customer_id=customer_id,
        guide_id=guide_id,
        store_id=store_id,
        room_store_id=room_store_id,
        rule=rule,
        amount_fen=amount_fen,
        created_at=at or utcnow(),
    )
    session.add(credit)
    return credit


async def reverse_credit(
    session: AsyncSession, *, order_id: str, refund_id: str, amount_fen: int
) -> SaleCredit | None:
    """Reverse `amount_fen` of an order's credit to the same guide and store. Idempotent per refund."""
    sale = await session.scalar(
        select(SaleCredit).where(SaleCredit.order_id == order_id, SaleCredit.kind == "sale")
    )
    if sale is None:
        return None
    rule = f"refund:{refund_id}"[:32]
    existing = await session.scalar(
        select(SaleCredit).where(SaleCredit.order_id == order_id, SaleCredit.rule == rule)
    )
    if existing is not None:
        return existing
    reversal = SaleCredit(
        order_id=order_id,
        kind="reversal",
        customer_id=sale.customer_id,
        guide_id=sale.guide_id,
        store_id=sale.store_id,
        room_store_id=sale.room_store_id,
        rule=rule,
        amount_fen=-amount_fen,
    )
    session.add(reversal)
    return reversal
