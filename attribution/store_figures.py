"""Per-store and per-guide figures of attribution's own facts over a period (credited sales,
new fans, task execution, sleeping customers woken, members' purchases), grouped in one query
each so HQ's KPIs of every store cost a handful of queries, not a handful per store.

The live/ KPIs (live/kpis.py) add what live/ owns (broadcasts, rooms, viewers) to these."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import Select, case, func, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from attribution.followups_schemas import TaskStatus
from attribution.models import (
    Binding,
    Customer,
    FollowupTask,
    Guide,
    InstoreSale,
    Region,
    SaleCredit,
    Store,
)
from attribution.segments import SLEEPING_FROM_DAYS, SLEEPING_TO_DAYS

NEW_FAN_SOURCES = ("share", "scan")
"""A fan is new when a customer bound themselves through a guide's share or QR; an HQ import or
a transfer moves an existing relationship and adds no fan."""


class StoreInfo(msgspec.Struct):
    id: int
    code: str
    name: str
    region_id: int
    region: str


class TaskExecution(msgspec.Struct):
    """Tasks due in the period (cancelled care steps aside) and how many of them were done."""

    due: int = 0
    done: int = 0


class Sleepers(msgspec.Struct):
    """Customers asleep when the period began (last purchase 180-720 days before) and how many
    of them bought again within it."""

    asleep: int = 0
    woken: int = 0


class MemberPurchases(msgspec.Struct):
    """A store's members' purchases (online sales credited anywhere and till sales with their
    phone) over a span."""

    members: int
    purchases: int
    sales_fen: int


class GuideFigures(msgspec.Struct):
    guide_id: int
    guide: str
    store_id: int
    store: str
    credited_fen: int
    tasks_due: int
    tasks_done: int


async def stores(session: AsyncSession) -> list[StoreInfo]:
    rows = await session.execute(
        select(Store.id, Store.code, Store.name, Store.region_id, Region.name)
        .join(Region, Region.id == Store.region_id)
        .order_by(Store.id)
    )
    return [StoreInfo(*row) for row in rows.all()]


async def live_credited_fen(
    session: AsyncSession, *, since: datetime, until: datetime
) -> dict[int, int]:
    """Per store: sales bought in a broadcast's room and credited to the store, net of refunds."""
    rows = await session.execute(
        select(SaleCredit.store_id, func.sum(SaleCredit.amount_fen))
        .where(
            SaleCredit.store_id.is_not(None),
            SaleCredit.broadcast_id.is_not(None),
            SaleCredit.created_at >= since,
            SaleCredit.created_at < until,
        )
        .group_by(SaleCredit.store_id)
    )
    return {store_id: int(fen or 0) for store_id, fen in rows.all() if store_id is not None}


async def new_fans(session: AsyncSession, *, since: datetime, until: datetime) -> dict[int, int]:
    """Per store: customers who bound themselves to one of its guides in the period."""
    rows = await session.execute(
        select(Binding.store_id, func.count(func.distinct(Binding.customer_id)))
        .where(
            Binding.source.in_(NEW_FAN_SOURCES),
            Binding.bound_at >= since,
            Binding.bound_at < until,
        )
        .group_by(Binding.store_id)
    )
    return {store_id: int(n) for store_id, n in rows.all()}


async def till_transactions(
    session: AsyncSession, *, since: datetime, until: datetime
) -> dict[int, int]:
    """Per store: its till receipts in the period, the add-fan rate's denominator (as
    attribution/followups_rates.py counts a store's transactions)."""
    rows = await session.execute(
        select(InstoreSale.store_id, func.count())
        .where(InstoreSale.sold_at >= since, InstoreSale.sold_at < until)
        .group_by(InstoreSale.store_id)
    )
    return {store_id: int(n) for store_id, n in rows.all()}


def _due(since: datetime, until: datetime) -> list[ColumnElement[bool]]:
    # The same tasks as attribution/followups_figures.py's execution rate counts.
    return [
        FollowupTask.due_at >= since,
        FollowupTask.due_at < until,
        FollowupTask.status != TaskStatus.CANCELLED,
    ]


def _done() -> ColumnElement[int]:
    return func.sum(case((FollowupTask.status == TaskStatus.DONE, 1), else_=0))


async def execution_by_store(
    session: AsyncSession, *, since: datetime, until: datetime
) -> dict[int, TaskExecution]:
    rows = await session.execute(
        select(FollowupTask.store_id, func.count(), _done())
        .where(FollowupTask.store_id.is_not(None), *_due(since, until))
        .group_by(FollowupTask.store_id)
    )
    return {
        store_id: TaskExecution(int(due), int(done or 0))
        for store_id, due, done in rows.all()
        if store_id is not None
    }


def _purchases() -> Select[Any]:
    """Every purchase with its customer: online sales (not reversals) and named till sales.
    A till sale's own credit row (no order) is left out: the till table is read for it."""
    online = select(
        SaleCredit.customer_id.label("customer_id"),
        SaleCredit.created_at.label("at"),
        SaleCredit.amount_fen.label("fen"),
    ).where(SaleCredit.kind == "sale", SaleCredit.order_id.is_not(None))
    till = select(
        InstoreSale.customer_id.label("customer_id"),
        InstoreSale.sold_at.label("at"),
        InstoreSale.amount_fen.label("fen"),
    ).where(InstoreSale.customer_id.is_not(None))
    both = union_all(online, till).subquery("purchases")
    return select(both.c.customer_id, both.c.at, both.c.fen)


def _customer_store() -> Select[int, int | None]:
    """Each customer's store: their open binding's, else the store whose room they entered."""
    return select(
        Customer.id.label("customer_id"),
        func.coalesce(Binding.store_id, Customer.home_store_id).label("store_id"),
    ).outerjoin(Binding, (Binding.customer_id == Customer.id) & Binding.ended_at.is_(None))


async def sleepers_woken(
    session: AsyncSession, *, since: datetime, until: datetime
) -> dict[int, Sleepers]:
    """Per store: its customers asleep at `since` and those of them who bought in the period."""
    purchases = _purchases().subquery("p")
    last_before = (
        select(purchases.c.customer_id, func.max(purchases.c.at).label("last_at"))
        .where(purchases.c.at < since)
        .group_by(purchases.c.customer_id)
        .subquery("last_before")
    )
    asleep = (
        select(last_before.c.customer_id)
        .where(
            last_before.c.last_at <= since - timedelta(days=SLEEPING_FROM_DAYS),
            last_before.c.last_at > since - timedelta(days=SLEEPING_TO_DAYS),
        )
        .subquery("asleep")
    )
    bought = (
        select(purchases.c.customer_id)
        .where(purchases.c.at >= since, purchases.c.at < until)
        .distinct()
        .subquery("bought")
    )
    home = _customer_store().subquery("home")
    rows = await session.execute(
        select(home.c.store_id, asleep.c.customer_id, bought.c.customer_id.is_not(None))
        .join(home, home.c.customer_id == asleep.c.customer_id)
        .outerjoin(bought, bought.c.customer_id == asleep.c.customer_id)
        .where(home.c.store_id.is_not(None))
    )
    figures: dict[int, Sleepers] = defaultdict(Sleepers)
    for store_id, _, woke in rows.all():
        figures[store_id].asleep += 1
        figures[store_id].woken += 1 if woke else 0
    return dict(figures)


async def member_purchases(
    session: AsyncSession, store_id: int, *, since: datetime, until: datetime
) -> MemberPurchases:
    """The store's members (customers whose store it is now) and their purchases in the span."""
    home = (
        _customer_store()
        .where(
            or_(
                Binding.store_id == store_id,
                (Binding.id.is_(None)) & (Customer.home_store_id == store_id),
            )
        )
        .subquery("home")
    )
    members = await session.scalar(select(func.count()).select_from(home)) or 0
    purchases = _purchases().subquery("p")
    count, fen = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(purchases.c.fen), literal(0)))
            .join(home, home.c.customer_id == purchases.c.customer_id)
            .where(purchases.c.at >= since, purchases.c.at < until)
        )
    ).one()
    return MemberPurchases(members=members, purchases=int(count), sales_fen=int(fen))


async def guide_figures(
    session: AsyncSession, *, since: datetime, until: datetime
) -> list[GuideFigures]:
    """Every active guide's credited sales (net of refunds) and task execution in the period."""
    credited = dict(
        (
            await session.execute(
                select(SaleCredit.guide_id, func.sum(SaleCredit.amount_fen))
                .where(
                    SaleCredit.guide_id.is_not(None),
                    SaleCredit.created_at >= since,
                    SaleCredit.created_at < until,
                )
                .group_by(SaleCredit.guide_id)
            )
        ).all()
    )
    tasks = {
        guide_id: (int(due), int(done or 0))
        for guide_id, due, done in await session.execute(
            select(FollowupTask.guide_id, func.count(), _done())
            .where(FollowupTask.guide_id.is_not(None), *_due(since, until))
            .group_by(FollowupTask.guide_id)
        )
    }
    guides = await session.execute(
        select(Guide.id, Guide.name, Store.id, Store.name)
        .join(Store, Store.id == Guide.store_id)
        .where(Guide.active.is_(True))
        .order_by(Guide.id)
    )
    return [
        GuideFigures(
            guide_id=guide_id,
            guide=name,
            store_id=store_id,
            store=store,
            credited_fen=int(credited.get(guide_id) or 0),
            tasks_due=tasks.get(guide_id, (0, 0))[0],
            tasks_done=tasks.get(guide_id, (0, 0))[1],
        )
        for guide_id, name, store_id, store in guides.all()
    ]
