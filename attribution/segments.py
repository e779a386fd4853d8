"""Customer segments, computed in SQL over every purchase a customer made: online sales as
credited (sale_credits, net of refunds) and in-store till sales linked to them.

Per customer, over the period (the last `PERIOD_DAYS` up to "today"):
  R  days since the last purchase          F  purchases
  M  spend in fen, net of refunds           L  days from the first purchase to the last
The RFM class compares R, F and M with the brand's medians (over every customer who bought in
the period): "recent" is fewer days than the median, "frequent" and "high spend" are above it;
a value on the median counts as low, so a brand where most bought once calls repeat buyers
frequent. Tiers rank customers by spend (ties share a tier): the top 10% are core, the next 30%
high-potential, the rest ordinary. Sleeping: the last purchase 180 to 720 days ago.

`refresh_segments` rewrites the `customer_segments` table in one transaction (a worker job
runs it daily); readers filter that table.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    and_,
    case,
    delete,
    func,
    insert,
    literal,
    select,
    text,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from attribution.models import CustomerSegment, InstoreSale, SaleCredit
from attribution.segments_classes import RfmClass, Tier, rfm_class
from server.model_base import UTCDateTime

PERIOD_DAYS = 720
"""The RFML period: long enough to hold every sleeping customer (up to 720 days, seed 000)."""
SLEEPING_FROM_DAYS = 180
"""Repurchase falls below 3% after 180 days without a purchase (seed 000)."""
SLEEPING_TO_DAYS = 720
"""MIIDII recalls sleepers up to two years; beyond that a customer counts as lost."""
CORE_SHARE = 10
HIGH_POTENTIAL_SHARE = 30
"""Percent of customers by spend (seed 004's 631 rule); the other 60% are ordinary."""


class days_between(FunctionElement[int]):
    """Whole days from the second timestamp to the first, on either backend."""

    type = Integer()
    inherit_cache = True


@compiles(days_between, "sqlite")
def _days_sqlite(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(clause, **kw) for clause in element.clauses)
    # Whole seconds, then whole days: julianday()'s floating days can land a hair under 10.
    seconds = (
        f"(CAST(strftime('%s', {later}) AS INTEGER) - CAST(strftime('%s', {earlier}) AS INTEGER))"
    )
    return f"({seconds} / 86400)"


@compiles(days_between, "postgresql")
def _days_postgresql(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM ({later} - {earlier})) / 86400) AS INTEGER)"


def _purchases(start: datetime, today: datetime) -> Select[Any]:
    """(customer_id, amount_fen, at): one row per purchase in the period. An online order is
    its credit net of its reversals, dated by its sale; a till sale is its amount net of its
    returns; a fully refunded or returned one is no purchase. Till sales are read from their
    own table, not their credit rows, which carry no order to group by."""
    online = (
        select(
            SaleCredit.customer_id.label("customer_id"),
            func.sum(SaleCredit.amount_fen).label("amount_fen"),
            func.min(SaleCredit.created_at).label("at"),
        )
        .where(SaleCredit.order_id.is_not(None))
        .group_by(SaleCredit.order_id, SaleCredit.customer_id)
        .having(func.sum(SaleCredit.amount_fen) > 0)
    )
    in_store = (
        select(
            InstoreSale.customer_id.label("customer_id"),
            func.sum(InstoreSale.amount_fen).label("amount_fen"),
            func.min(InstoreSale.sold_at).label("at"),
        )
        .where(InstoreSale.customer_id.is_not(None))
        .group_by(func.coalesce(InstoreSale.return_of_id, InstoreSale.id), InstoreSale.customer_id)
        .having(func.sum(InstoreSale.amount_fen) > 0)
    )
    every = union_all(online, in_store).subquery("every_purchase")
    return select(every).where(
        every.c.at >= literal(start, UTCDateTime()), every.c.at <= literal(today, UTCDateTime())
    )


def _per_customer(today: datetime) -> Select[Any]:
    """(customer_id, recency_days, frequency, monetary_fen, length_days, last_at)."""
    purchases = _purchases(today - timedelta(days=PERIOD_DAYS), today).subquery("purchases")
    last_at = func.max(purchases.c.at)
    return select(
        purchases.c.customer_id,
        days_between(literal(today, UTCDateTime()), last_at).label("recency_days"),
        func.count().label("frequency"),
        func.sum(purchases.c.amount_fen).label("monetary_fen"),
        days_between(last_at, func.min(purchases.c.at)).label("length_days"),
        last_at.label("last_at"),
    ).group_by(purchases.c.customer_id)


async def _median(session: AsyncSession, per_customer: Any, column: str) -> float:
    """The median of one figure over the customers, with window functions both backends have
    (SQLite has no percentile function): the middle value, or the mean of the middle two."""
    value = per_customer.c[column]
    ranked = select(
        value.label("value"),
        func.row_number().over(order_by=value).label("position"),
        func.count().over().label("total"),
    ).subquery("ranked")
    middle = (ranked.c.total + 1) // 2, (ranked.c.total + 2) // 2
    median = await session.scalar(
        select(func.avg(ranked.c.value)).where(ranked.c.position.in_(middle))
    )
    return float(median or 0)


def _class_case(
    per_customer: Any, r_median: float, f_median: float, m_median: float
) -> ColumnElement[str]:
    recent = per_customer.c.recency_days < r_median
    frequent = per_customer.c.frequency > f_median
    high_spend = per_customer.c.monetary_fen > m_median
    whens = []
    for is_recent in (True, False):
        for is_frequent in (True, False):
            for is_high in (True, False):
                condition = and_(
                    recent if is_recent else ~recent,
                    frequent if is_frequent else ~frequent,
                    high_spend if is_high else ~high_spend,
                )
                label = rfm_class(recent=is_recent, frequent=is_frequent, high_spend=is_high)
                whens.append((condition, literal(label.value)))
    return case(*whens, else_=literal(RfmClass.ORDINARY_WIN_BACK.value))


async def _lock_refresh(session: AsyncSession) -> None:
    """Two workers refreshing at once would both delete, then collide inserting; on PostgreSQL
    the second waits for the first (SQLite lets one writer in at a time anyway)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtext('customer_segments'))"))


async def refresh_segments(session: AsyncSession, *, today: datetime) -> int:
    """Rewrite every customer's segment as of `today`; returns how many customers have one.
    Idempotent: the table is replaced whole in one transaction."""
    async with session.begin():
        await _lock_refresh(session)
        per_customer = _per_customer(today).subquery("per_customer")
        r_median = await _median(session, per_customer, "recency_days")
        f_median = await _median(session, per_customer, "frequency")
        m_median = await _median(session, per_customer, "monetary_fen")
        spend_rank = func.rank().over(order_by=per_customer.c.monetary_fen.desc())
        customers = func.count().over()
        # rank r of n is in the top p% when (r - 1) * 100 < p * n: integer arithmetic only.
        tier = case(
            ((spend_rank - 1) * 100 < CORE_SHARE * customers, literal(Tier.CORE.value)),
            (
                (spend_rank - 1) * 100 < (CORE_SHARE + HIGH_POTENTIAL_SHARE) * customers,
                literal(Tier.HIGH_POTENTIAL.value),
            ),
            else_=literal(Tier.ORDINARY.value),
        )
        rows = select(
            per_customer.c.customer_id,
            per_customer.c.recency_days,
            per_customer.c.frequency,
            per_customer.c.monetary_fen,
            per_customer.c.length_days,
            _class_case(per_customer, r_median, f_median, m_median),
            tier,
            per_customer.c.recency_days.between(SLEEPING_FROM_DAYS, SLEEPING_TO_DAYS),
            per_customer.c.last_at,
            literal(today, UTCDateTime()),
        )
        await session.execute(delete(CustomerSegment))
        columns = [
            "customer_id",
            "recency_days",
            "frequency",
            "monetary_fen",
            "length_days",
            "rfm_class",
            "tier",
            "sleeping",
            "last_purchase_at",
            "computed_at",
        ]
        await session.execute(insert(CustomerSegment).from_select(columns, rows))
        count = await session.scalar(select(func.count()).select_from(CustomerSegment))
    return int(count or 0)
