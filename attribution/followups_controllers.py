"""HTTP endpoints of follow-ups: a guide's queue, a task's card, done and skip; the figures;
HQ's rules and care plans."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from litestar import Controller, get, post, put
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.care import add_plan, edit_plan, list_plans
from attribution.followups import current_rules, set_rules
from attribution.followups_campaigns import campaign_progress, start_campaign
from attribution.followups_figures import figures
from attribution.followups_outcomes import complete, skip
from attribution.followups_queue import customer_card, queue_for, task_reads
from attribution.followups_schemas import (
    CampaignNew,
    CampaignProgress,
    CampaignRead,
    CarePlanEdit,
    CarePlanNew,
    CarePlanRead,
    CustomerCard,
    Figures,
    Queue,
    Rules,
    TaskDone,
    TaskRead,
    TaskSkip,
)
from attribution.models import Guide
from server.auth import Principal, Role, allow
from server.bounds import INT32_MAX, PathId
from server.errors import Forbidden, Invalid
from server.model_base import utcnow

QueryId = Annotated[int | None, Parameter(ge=1, le=INT32_MAX)]
"""An optional row id in a query string (Litestar reads its bounds from `Parameter`)."""
FIGURES_DAYS = 30
"""The period of the figures when none is asked for: the last 30 days."""


class BadPeriod(Invalid):
    pass


class NotYourFigures(Forbidden):
    pass


class FollowupController(Controller):
    path = "/api/followups"
    tags = ["followups"]  # noqa: RUF012

    @get("/queue", opt=allow(Role.GUIDE))
    async def queue(self, db: AsyncSession, caller: Principal) -> Queue:
        """My open tasks due now and my store's pool (unbound customers), best first, with
        counts per kind."""
        return await queue_for(db, caller, utcnow())

    @get("/tasks/{task_id:int}", opt=allow(Role.GUIDE, Role.HQ))
    async def card(self, task_id: PathId, db: AsyncSession, caller: Principal) -> CustomerCard:
        """A task with its customer's card: masked phone, what they watched, past purchases."""
        return await customer_card(db, caller, task_id)

    @post("/tasks/{task_id:int}/done", opt=allow(Role.GUIDE), status_code=200)
    async def done(
        self, task_id: PathId, data: TaskDone, db: AsyncSession, caller: Principal
    ) -> TaskRead:
        """Mark my task (or a pool task, which becomes mine) done with its outcome."""
        async with db.begin():
            task = await complete(db, caller, task_id, data.outcome, utcnow())
            (read,) = await task_reads(db, [task])
        return read

    @post("/tasks/{task_id:int}/skip", opt=allow(Role.GUIDE), status_code=200)
    async def skip_task(
        self, task_id: PathId, data: TaskSkip, db: AsyncSession, caller: Principal
    ) -> TaskRead:
        async with db.begin():
            task = await skip(db, caller, task_id, data.reason, utcnow())
            (read,) = await task_reads(db, [task])
        return read

    @get("/figures", opt=allow(Role.GUIDE, Role.HOST, Role.HQ))
    async def task_figures(
        self,
        db: AsyncSession,
        caller: Principal,
        since: datetime | None = None,
        until: datetime | None = None,
        guide_id: QueryId = None,
        store_id: QueryId = None,
        region_id: QueryId = None,
    ) -> Figures:
        """Execution rate, touch-to-pay conversion, add-fan and repurchase rates for a guide,
        a store, a region or the chain, each with its definition. A guide sees their own; a
        host their store's."""
        end = until or utcnow()
        try:
            start = since or end - timedelta(days=FIGURES_DAYS)
        except OverflowError as error:
            raise BadPeriod("until is too early") from error
        if start.tzinfo is None or end.tzinfo is None or start >= end:
            raise BadPeriod("since and until are UTC times with a zone, since before until")
        if caller.role is Role.GUIDE:
            if guide_id not in (None, caller.sub) or store_id not in (None, caller.store_id):
                raise NotYourFigures("a guide sees their own figures")
            if region_id is not None:
                raise NotYourFigures("a guide sees their own figures")
            guide_id, store_id = caller.sub, None
        elif caller.role is Role.HOST:
            if store_id not in (None, caller.store_id) or region_id is not None:
                raise NotYourFigures("a host sees their own store's figures")
            store_id = caller.store_id
            if guide_id is not None:
                guide = await db.get(Guide, guide_id)
                if guide is None or guide.store_id != caller.store_id:
                    raise NotYourFigures("this guide is another store's")
        return await figures(
            db, since=start, until=end, guide_id=guide_id, store_id=store_id, region_id=region_id
        )

    @get("/rules", opt=allow(Role.HQ))
    async def rules(self, db: AsyncSession) -> Rules:
        """The brand's do-not-disturb windows, task expiry and conversion window, in days."""
        return await current_rules(db)

    @put("/rules", opt=allow(Role.HQ))
    async def edit_rules(self, data: Rules, db: AsyncSession) -> Rules:
        async with db.begin():
            return await set_rules(db, data)


class CarePlanController(Controller):
    path = "/api/care-plans"
    tags = ["followups"]  # noqa: RUF012

    @get("/", opt=allow(Role.HQ))
    async def plans(self, db: AsyncSession) -> list[CarePlanRead]:
        """The care plans (presets 3315 and 3369 ship); active ones apply to new paid orders."""
        async with db.begin():
            return await list_plans(db)

    @post("/", opt=allow(Role.HQ), status_code=201)
    async def create(self, data: CarePlanNew, db: AsyncSession) -> list[CarePlanRead]:
        async with db.begin():
            await add_plan(db, data)
        async with db.begin():
            return await list_plans(db)

    @put("/{plan_id:int}", opt=allow(Role.HQ))
    async def edit(
        self, plan_id: PathId, data: CarePlanEdit, db: AsyncSession
    ) -> list[CarePlanRead]:
        """Replace a plan's steps and say whether it applies; tasks already issued keep theirs."""
        async with db.begin():
            await edit_plan(db, plan_id, data)
        async with db.begin():
            return await list_plans(db)


class CampaignController(Controller):
    path = "/api/campaigns"
    tags = ["followups"]  # noqa: RUF012

    @post("/", opt=allow(Role.HQ), status_code=201)
    async def start(self, data: CampaignNew, db: AsyncSession) -> CampaignRead:
        """Touch a segment (sleeping customers of min_days to max_days) with an invitation:
        a task per customer outside do-not-disturb, core customers protected. An empty
        segment is a 409 and writes nothing."""
        async with db.begin():
            return await start_campaign(db, data, utcnow())

    @get("/{campaign_id:int}/progress", opt=allow(Role.HQ))
    async def progress(self, campaign_id: PathId, db: AsyncSession) -> CampaignProgress:
        """Touched, paid and reactivation rate, in total and per region, store and guide."""
        return await campaign_progress(db, campaign_id)


CONTROLLERS = [FollowupController, CarePlanController, CampaignController]
