"""Reading coupons: a customer's list with what each saves on a deal, and a price quote."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from orders.coupons import Chosen, chosen_of, discount
from orders.coupons_models import Coupon
from orders.coupons_schemas import CouponRead, CouponState, Quote
from orders.models import Deal
from server.errors import NotFound

LIST_LIMIT = 200


def _state(coupon: Coupon, at: datetime) -> CouponState:
    if coupon.used_order_id is not None:
        return CouponState.USED
    return CouponState.USABLE if at < coupon.valid_until else CouponState.EXPIRED


def _saves(chosen: Chosen, deal: Deal | None, quantity: int, at: datetime) -> tuple[int, int]:
    if deal is None:
        return 0, 0
    gross = deal.price_fen * quantity
    off = discount([chosen], deal.product_id, gross, at)
    if isinstance(off, int):
        return off, 0
    return 0, max(chosen.min_spend_fen - gross, 0)


async def customer_coupons(
    db: AsyncSession, customer_id: int, at: datetime, deal_id: int | None, quantity: int = 1
) -> list[CouponRead]:
    """Usable first (biggest saving first), then used and expired, newest first."""
    deal = await db.get(Deal, deal_id) if deal_id is not None else None
    if deal_id is not None and deal is None:
        raise NotFound(f"no deal {deal_id}")
    rows = await db.scalars(
        select(Coupon)
        .where(Coupon.customer_id == customer_id)
        .order_by(Coupon.issued_at.desc(), Coupon.id)
        .limit(LIST_LIMIT)
    )
    found = []
    for coupon in rows:
        state = _state(coupon, at)
        saves, short = (
            _saves(chosen_of(coupon), deal, quantity, at) if state is CouponState.USABLE else (0, 0)
        )
        found.append(
            CouponRead(
                id=coupon.id,
                amount_off_fen=coupon.amount_off_fen,
                min_spend_fen=coupon.min_spend_fen,
                stackable=coupon.stackable,
                product_ids=list(coupon.product_ids),
                valid_from=coupon.valid_from.isoformat(),
                valid_until=coupon.valid_until.isoformat(),
                state=state,
                saves_fen=saves,
                short_by_fen=short,
            )
        )
    order = {CouponState.USABLE: 0, CouponState.USED: 1, CouponState.EXPIRED: 2}
    return sorted(found, key=lambda c: (order[c.state], -c.saves_fen))


async def quote(
    db: AsyncSession,
    customer_id: int,
    deal_id: int,
    quantity: int,
    coupon_ids: list[int],
    at: datetime,
) -> Quote:
    deal = await db.get(Deal, deal_id)
    if deal is None:
        raise NotFound(f"no deal {deal_id}")
    gross = deal.price_fen * max(quantity, 1)
    if not coupon_ids:
        return Quote(gross, 0, gross)
    rows = {
        c.id: c
        for c in await db.scalars(
            select(Coupon).where(Coupon.id.in_(coupon_ids), Coupon.customer_id == customer_id)
        )
    }
    missing = [i for i in coupon_ids if i not in rows]
    if missing:
        return Quote(gross, 0, gross, f"coupon {missing[0]} is not yours")
    off = discount([chosen_of(rows[i]) for i in coupon_ids], deal.product_id, gross, at)
    if isinstance(off, str):
        return Quote(gross, 0, gross, off)
    return Quote(gross, off, gross - off)
