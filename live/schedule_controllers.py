"""HTTP of the schedule (the calendar, plans and proposals, moves, HQ's decisions, notices, a
viewer's reminder subscription) and of HQ's view of the rooms on air."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from litestar import Controller, get, patch, post
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.queries import staff_members
from attribution.schemas import StaffRead
from live.chain_pulse import ChainPulse, chain_pulse, check_relays
from live.hq_view import LiveRoom, rooms_on_air
from live.reminders import notices_for, subscribe
from live.schedule import SlotRefused, decide_proposal, move_slot, plan_slot, slots_between
from live.schedule_schemas import ScheduleNoticeRead, Slot, SlotMove, SlotPlan
from server.auth import Principal, Role, allow
from server.bounds import PathId
from server.services import Services

STAFF = allow(Role.HQ, Role.HOST)
LONGEST_VIEW = timedelta(days=62)


class ScheduleController(Controller):
    path = "/api/schedule"
    tags = ("schedule",)

    @get("/", opt=STAFF)
    async def calendar(
        self,
        db: AsyncSession,
        caller: Principal,
        start: Annotated[datetime, Parameter(query="from")],
        end: Annotated[datetime, Parameter(query="to")],
    ) -> list[Slot]:
        """Slots overlapping [from, to): HQ sees all, a host their store's and the hub's."""
        if end <= start or end - start > LONGEST_VIEW:
            raise SlotRefused("'to' comes after 'from', at most 62 days later")
        return await slots_between(db, caller, start, end)

    @post("/", opt=STAFF)
    async def plan(self, data: SlotPlan, db: AsyncSession, caller: Principal) -> Slot:
        """HQ plans a slot (approved as made); a host proposes one for their store, for HQ to
        approve. 409 names the slots it overlaps for the same host or store."""
        return await plan_slot(db, caller, data)

    @patch("/{slot_id:int}", opt=STAFF)
    async def move(
        self, slot_id: PathId, data: SlotMove, db: AsyncSession, caller: Principal
    ) -> Slot:
        """A new time for a slot not yet started; a host's move goes back to HQ for approval."""
        return await move_slot(db, caller, slot_id, data)

    @post("/{slot_id:int}/approve", opt=allow(Role.HQ), status_code=200)
    async def approve(self, slot_id: PathId, db: AsyncSession) -> Slot:
        return await decide_proposal(db, slot_id, approve=True)

    @post("/{slot_id:int}/reject", opt=allow(Role.HQ), status_code=200)
    async def reject(self, slot_id: PathId, db: AsyncSession) -> Slot:
        return await decide_proposal(db, slot_id, approve=False)

    @get("/hosts", opt=allow(Role.HQ))
    async def hosts(self, db: AsyncSession) -> list[StaffRead]:
        """Who can host a slot: HQ's staff (the hub) and each store's hosts."""
        return await staff_members(db)

    @get("/notices", opt=STAFF)
    async def notices(self, db: AsyncSession, caller: Principal) -> list[ScheduleNoticeRead]:
        """HQ: no-show and missed alerts. A host: their reminders and their store's alerts."""
        return await notices_for(db, caller)


class ReminderController(Controller):
    path = "/api/broadcasts"
    tags = ("schedule",)

    @post("/{broadcast_id:int}/subscribe", opt=allow(Role.VIEWER), status_code=204)
    async def subscribe(self, broadcast_id: PathId, db: AsyncSession, caller: Principal) -> None:
        """Remind me before this broadcast goes live (idempotent)."""
        await subscribe(db, caller.sub, broadcast_id)


class HqLiveController(Controller):
    path = "/api/hq/live"
    tags = ("hq",)

    @get("/", opt=allow(Role.HQ))
    async def rooms(self, db: AsyncSession, services: Services) -> list[LiveRoom]:
        """Every room on air now with its viewers, likes, orders and sales so far."""
        return await rooms_on_air(db, services.redis)

    @get("/pulse/{hub_id:int}", opt=allow(Role.HQ, Role.HOST))
    async def pulse(self, hub_id: PathId, db: AsyncSession, caller: Principal) -> ChainPulse:
        """What sells across the hub's rooms in the last 15 minutes (top items by units and by
        rooms selling them) and each room against the chain's median. A host sees the chain's
        figures too (comparing with the others is the point), for a hub their store relays."""
        async with db.begin():
            if caller.role is Role.HOST:
                await check_relays(db, caller.store_id, hub_id)
            return await chain_pulse(db, hub_id)


ROUTES = [ScheduleController, ReminderController, HqLiveController]
