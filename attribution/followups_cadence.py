"""Seed 002's cadence, where the brand turns it on (FollowupRules.cadence, off by default).

A customer's buying cycle is about 45 days from their last purchase. Its first 15 days are for
routine care (the care plans' steps, which keep their offsets); marketing touches (a broadcast
they watched without buying, a re-touch) wait for day 40, when the next purchase is near. A
customer past the cycle, or who never bought, is marketed to as usual; an order left unpaid is
not marketing (the customer is mid-purchase) and is never deferred.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.models import InstoreSale, SaleCredit

CYCLE_DAYS = 45
CARE_DAYS = 15
"""Routine care only, no marketing, in these first days of the cycle."""
MARKETING_DAY = 40
"""The day of the cycle from which marketing touches are due."""


async def last_purchases(session: AsyncSession, customer_ids: list[int]) -> dict[int, datetime]:
    """When each customer last bought, online (a sale credit) or at a till."""
    if not customer_ids:
        return {}
    last: dict[int, datetime] = {}
    for query in (
        select(SaleCredit.customer_id, func.max(SaleCredit.created_at))
        .where(SaleCredit.customer_id.in_(customer_ids), SaleCredit.kind == "sale")
        .group_by(SaleCredit.customer_id),
        select(InstoreSale.customer_id, func.max(InstoreSale.sold_at))
        .where(InstoreSale.customer_id.in_(customer_ids))
        .group_by(InstoreSale.customer_id),
    ):
        for customer_id, at in (await session.execute(query)).all():
            if customer_id is not None and at is not None:
                last[customer_id] = max(at, last.get(customer_id, at))
    return last


def marketing_due(last_purchase: datetime | None, due: datetime) -> datetime:
    """When a marketing touch due at `due` may be made: day 40 of the customer's cycle if
    `due` falls before it, else `due`."""
    if last_purchase is None or due >= last_purchase + timedelta(days=CYCLE_DAYS):
        return due
    return max(due, last_purchase + timedelta(days=MARKETING_DAY))
