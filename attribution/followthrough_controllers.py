"""HTTP of task follow-through: HQ's table per region, store and guide and its chase (催办); a
guide's reminders on the workbench."""

from __future__ import annotations

from datetime import datetime, timedelta

from litestar import Controller, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.followthrough import (
    BadChase,
    Chased,
    ChaseOrder,
    FollowThrough,
    Level,
    ReminderRead,
    chase,
    dismiss,
    follow_through,
    reminders_for,
)
from server.auth import Principal, Role, allow
from server.bounds import PathId
from server.model_base import utcnow

PERIOD_DAYS = 7
"""The period of the table when none is asked for: the tasks of the last week."""


class FollowThroughController(Controller):
    path = "/api/hq/tasks"
    tags = ("hq",)

    @get("/", opt=allow(Role.HQ))
    async def table(
        self,
        db: AsyncSession,
        by: Level = Level.STORE,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> FollowThrough:
        """Tasks issued, done, open, overdue and expired per region, store or guide (`by`),
        most overdue first, with the definitions."""
        end = until or utcnow()
        try:
            start = since or end - timedelta(days=PERIOD_DAYS)
        except OverflowError as error:
            raise BadChase("until is too early") from error
        if start.tzinfo is None or end.tzinfo is None or start >= end:
            raise BadChase("since and until are UTC times with a zone, since before until")
        return await follow_through(db, level=by, since=start, until=end)

    @post("/chase", opt=allow(Role.HQ), status_code=200)
    async def chase(self, data: ChaseOrder, db: AsyncSession, caller: Principal) -> Chased:
        """催办: every guide of the store (or the one guide) with overdue tasks gets a reminder
        on their workbench; chasing again within 30 minutes reminds nobody twice."""
        return await chase(db, caller.sub, data)


class GuideReminderController(Controller):
    path = "/api/guide/reminders"
    tags = ("followups",)

    @get("/", opt=allow(Role.GUIDE))
    async def mine(self, db: AsyncSession, caller: Principal) -> list[ReminderRead]:
        """HQ's chase reminders this guide has not dismissed, newest first."""
        return await reminders_for(db, caller.sub)

    @post("/{reminder_id:int}/seen", opt=allow(Role.GUIDE), status_code=204)
    async def seen(self, reminder_id: PathId, db: AsyncSession, caller: Principal) -> None:
        await dismiss(db, caller.sub, reminder_id)


ROUTES = [FollowThroughController, GuideReminderController]
