"""Task follow-through for HQ: tasks issued, done, open and overdue per region, store and guide,
and the chase (催办) that puts a reminder on the workbench of every guide with overdue tasks."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

import msgspec
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from attribution.followups_schemas import TaskStatus
from attribution.models import FollowupTask, Guide, GuideReminder, Region, Store
from server.bounds import Id
from server.errors import Invalid, NotFound
from server.model_base import utcnow

OVERDUE_AFTER = timedelta(hours=24)
"""A task still open a day after it fell due is overdue: a follow-up loses its point within
days (tasks expire after the rules' `expire_days`, 3 by default), so a day late is the moment
to chase, not the moment it lapses."""
CHASE_WINDOW = timedelta(minutes=30)
"""Chasing a guide again within the same half hour reminds nobody twice: two HQ operators
(or one double click) chasing the same store add one reminder per guide."""

MEANS = (
    "下达 = 期内生成的任务（不含已取消的关怀步骤）；完成 = 其中已完成；逾期 = 其中仍未完成且已到期超过 24 小时；"
    "已过期 = 其中未完成即失效。 Issued: tasks created in the period (refund-cancelled care steps"
    " left out); done: of those, done; overdue: still open over 24 hours after falling due;"
    " expired: lapsed undone."
)


class Level(StrEnum):
    REGION = "region"
    STORE = "store"
    GUIDE = "guide"


class FollowThroughRow(msgspec.Struct):
    id: int
    """The region's, store's or guide's id, as `level` says."""
    name: str
    region_id: int
    store_id: int | None
    issued: int
    done: int
    open: int
    """Open and not overdue (yet)."""
    overdue: int
    expired: int
    execution_rate: float
    """done / issued."""


class FollowThrough(msgspec.Struct):
    level: Level
    since: datetime
    until: datetime
    rows: list[FollowThroughRow]
    """Most overdue first: who to chase."""
    means: str


class ChaseOrder(msgspec.Struct, forbid_unknown_fields=True):
    """Chase one store's guides or one guide: exactly one of the two."""

    store_id: Id | None = None
    guide_id: Id | None = None


class Chased(msgspec.Struct):
    reminded: list[int]
    """Guides who got a reminder now."""
    already: list[int]
    """Guides with overdue tasks already reminded in this chase window."""


class ReminderRead(msgspec.Struct):
    id: int
    overdue: int
    created_at: datetime


class BadChase(Invalid):
    pass


class NoSuchTarget(NotFound):
    pass


def _overdue(now: datetime) -> ColumnElement[bool]:
    return (FollowupTask.status == TaskStatus.OPEN) & (FollowupTask.due_at < now - OVERDUE_AFTER)


async def follow_through(
    session: AsyncSession, *, level: Level, since: datetime, until: datetime
) -> FollowThrough:
    now = utcnow()
    overdue = _overdue(now)
    key = {
        Level.REGION: Store.region_id,
        Level.STORE: FollowupTask.store_id,
        Level.GUIDE: FollowupTask.guide_id,
    }[level]
    query = (
        select(
            key,
            func.count(),
            func.count().filter(FollowupTask.status == TaskStatus.DONE),
            func.count().filter(FollowupTask.status == TaskStatus.OPEN, ~overdue),
            func.count().filter(overdue),
            func.count().filter(FollowupTask.status == TaskStatus.EXPIRED),
        )
        .join(Store, Store.id == FollowupTask.store_id)
        .where(
            FollowupTask.created_at >= since,
            FollowupTask.created_at < until,
            FollowupTask.status != TaskStatus.CANCELLED,
            key.is_not(None),
        )
        .group_by(key)
    )
    counts: dict[int, tuple[int, int, int, int, int]] = {
        key_id: (issued, done, still_open, late, expired)
        for key_id, issued, done, still_open, late, expired in await session.execute(query)
        if key_id is not None
    }
    places = await _places(session, level, list(counts))
    rows = [
        FollowThroughRow(
            id=key_id,
            name=name,
            region_id=region_id,
            store_id=store_id,
            issued=issued,
            done=done,
            open=still_open,
            overdue=late,
            expired=expired,
            execution_rate=round(done / issued, 4) if issued else 0.0,
        )
        for key_id, (issued, done, still_open, late, expired) in counts.items()
        for name, region_id, store_id in [places[key_id]]
    ]
    rows.sort(key=lambda r: (-r.overdue, r.execution_rate, r.id))
    return FollowThrough(level, since, until, rows, MEANS)


async def _places(
    session: AsyncSession, level: Level, ids: list[int]
) -> dict[int, tuple[str, int, int | None]]:
    """Each id's name, region and store (None for a region)."""
    if level is Level.REGION:
        rows = await session.execute(select(Region.id, Region.name).where(Region.id.in_(ids)))
        return {rid: (name, rid, None) for rid, name in rows}
    if level is Level.STORE:
        stores = await session.execute(
            select(Store.id, Store.name, Store.region_id).where(Store.id.in_(ids))
        )
        return {sid: (name, region, sid) for sid, name, region in stores}
    guides = await session.execute(
        select(Guide.id, Guide.name, Store.region_id, Guide.store_id)
        .join(Store, Store.id == Guide.store_id)
        .where(Guide.id.in_(ids))
    )
    return {gid: (name, region, store) for gid, name, region, store in guides}


async def chase(session: AsyncSession, chaser_id: int, order: ChaseOrder) -> Chased:
    """Remind every guide of the store (or the one guide) who has overdue tasks. Idempotent
    within a chase window: a guide already reminded in it is listed as `already`."""
    if (order.store_id is None) == (order.guide_id is None):
        raise BadChase("name a store_id or a guide_id, not both")
    now = utcnow()
    async with session.begin():
        if order.guide_id is not None and await session.get(Guide, order.guide_id) is None:
            raise NoSuchTarget("no such guide")
        if order.store_id is not None and await session.get(Store, order.store_id) is None:
            raise NoSuchTarget("no such store")
        scope = (
            FollowupTask.guide_id == order.guide_id
            if order.guide_id is not None
            else FollowupTask.store_id == order.store_id
        )
        late = (
            await session.execute(
                select(FollowupTask.guide_id, func.count())
                .where(scope, _overdue(now), FollowupTask.guide_id.is_not(None))
                .group_by(FollowupTask.guide_id)
                .order_by(FollowupTask.guide_id)
            )
        ).all()
        window = int(now.timestamp() // CHASE_WINDOW.total_seconds())
        postgresql = session.get_bind().dialect.name == "postgresql"
        insert = pg_insert if postgresql else sqlite_insert
        reminded: list[int] = []
        already: list[int] = []
        for guide_id, overdue in late:
            assert guide_id is not None
            # ON CONFLICT DO NOTHING: two chases racing in one window leave one reminder.
            added = await session.execute(
                insert(GuideReminder)
                .values(
                    guide_id=guide_id,
                    chase_window=window,
                    overdue=overdue,
                    chased_by=chaser_id,
                    created_at=now,
                )
                .on_conflict_do_nothing(index_elements=["guide_id", "chase_window"])
                .returning(GuideReminder.id)
            )
            (reminded if added.first() is not None else already).append(guide_id)
    return Chased(reminded, already)


async def reminders_for(session: AsyncSession, guide_id: int) -> list[ReminderRead]:
    """The guide's chase reminders not yet dismissed, newest first."""
    rows = await session.scalars(
        select(GuideReminder)
        .where(GuideReminder.guide_id == guide_id, GuideReminder.seen_at.is_(None))
        .order_by(GuideReminder.id.desc())
        .limit(20)
    )
    return [ReminderRead(r.id, r.overdue, r.created_at) for r in rows]


async def dismiss(session: AsyncSession, guide_id: int, reminder_id: int) -> None:
    """The guide has read it (idempotent); another guide's reminder is not found."""
    async with session.begin():
        reminder = await session.get(GuideReminder, reminder_id)
        if reminder is None or reminder.guide_id != guide_id:
            raise NoSuchTarget("no such reminder")
        if reminder.seen_at is None:
            reminder.seen_at = utcnow()
