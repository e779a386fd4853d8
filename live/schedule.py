"""The schedule (排班): HQ plans hub and store broadcasts on a calendar, hosts propose their
own, and no host or store is booked twice at once.

A slot is a broadcast row in its scheduled state (with its room): what the calendar shows is
what goes live, so there is nothing to keep in step.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec
from sqlalchemy import or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.queries import staff_member, store_names
from live.models import Broadcast, BroadcastStatus, Room, SlotApproval
from live.schedule_schemas import Slot, SlotMove, SlotPlan
from server.auth import Principal, Role
from server.errors import Conflict, Forbidden, Invalid, NotFound
from server.model_base import utcnow

LONGEST_SLOT = timedelta(hours=12)
SCHEDULE_LOCK = 7_301_112
"""PostgreSQL advisory lock id held by every schedule write: two plans checked for overlap
at the same instant must not both pass. (SQLite has one writer at a time already.)"""


class SlotRefused(Invalid):
    """The plan itself is wrong: its times, its store, its host or what it relays."""


class SlotOverlaps(Conflict):
    """The host or the store already has a slot at that time."""


class NoSuchSlot(NotFound):
    pass


class NotYourSlot(Forbidden):
    pass


def slot_view(broadcast: Broadcast) -> Slot:
    return Slot(
        id=broadcast.id,
        kind=broadcast.kind,
        title=broadcast.title,
        store_id=broadcast.store_id,
        host_id=broadcast.host_id,
        relays_id=broadcast.relays_id,
        starts_at=broadcast.scheduled_start_at,
        ends_at=broadcast.scheduled_end_at,
        status=broadcast.status,
        approval=broadcast.approval,
    )


async def plan_slot(session: AsyncSession, caller: Principal, plan: SlotPlan) -> Slot:
    """HQ's plan is on the calendar at once; a host's (their own store only) waits for HQ."""
    if caller.role is Role.HOST:
        if plan.kind != "store" or plan.store_id != caller.store_id:
            raise NotYourSlot("a host proposes slots for their own store's broadcasts only")
        plan = msgspec.structs.replace(plan, host_id=plan.host_id or caller.sub)
    async with session.begin():
        await _serialize(session)
        await _check_plan(session, plan)
        await _refuse_overlaps(session, plan.store_id, plan.host_id, plan.starts_at, plan.ends_at)
        broadcast = Broadcast(
            kind=plan.kind,
            title=plan.title,
            store_id=plan.store_id,
            host_id=plan.host_id,
            relays_id=plan.relays_id,
            scheduled_start_at=plan.starts_at,
            scheduled_end_at=plan.ends_at,
            approval=SlotApproval.APPROVED if caller.role is Role.HQ else SlotApproval.PROPOSED,
        )
        session.add(broadcast)
        await session.flush()
        session.add(Room(broadcast_id=broadcast.id, store_id=plan.store_id))
    return slot_view(broadcast)


async def decide_proposal(session: AsyncSession, slot_id: int, *, approve: bool) -> Slot:
    """HQ approves a host's proposal (checked again for overlaps) or rejects it."""
    async with session.begin():
        await _serialize(session)
        broadcast = await _slot(session, slot_id)
        if broadcast.approval != SlotApproval.PROPOSED:
            raise SlotOverlaps(f"slot {slot_id} is {broadcast.approval}, not a proposal")
        if approve:
            await _refuse_overlaps(
                session,
                broadcast.store_id,
                broadcast.host_id,
                broadcast.scheduled_start_at,
                broadcast.scheduled_end_at,
                leaving_out=broadcast.id,
            )
        broadcast.approval = SlotApproval.APPROVED if approve else SlotApproval.REJECTED
    return slot_view(broadcast)


async def move_slot(session: AsyncSession, caller: Principal, slot_id: int, move: SlotMove) -> Slot:
    """A new time for a slot that has not started (HQ's calendar drag; a host, their own)."""
    async with session.begin():
        await _serialize(session)
        broadcast = await _slot(session, slot_id)
        if caller.role is Role.HOST and broadcast.store_id != caller.store_id:
            raise NoSuchSlot("no such slot")
        if broadcast.status != BroadcastStatus.SCHEDULED:
            raise SlotOverlaps(f"a {broadcast.status} broadcast keeps its time")
        _check_times(move.starts_at, move.ends_at)
        await _refuse_overlaps(
            session,
            broadcast.store_id,
            broadcast.host_id,
            move.starts_at,
            move.ends_at,
            leaving_out=broadcast.id,
        )
        broadcast.scheduled_start_at, broadcast.scheduled_end_at = move.starts_at, move.ends_at
        if caller.role is Role.HOST and broadcast.approval == SlotApproval.APPROVED:
            broadcast.approval = SlotApproval.PROPOSED  # HQ sees and approves the new time
    return slot_view(broadcast)


async def slots_between(
    session: AsyncSession, caller: Principal, start: datetime, end: datetime
) -> list[Slot]:
    """The calendar from `start` to `end`: HQ sees every slot, a host their store's and the
    hub's (which their room relays)."""
    query = select(Broadcast).where(
        Broadcast.scheduled_start_at < end, Broadcast.scheduled_end_at > start
    )
    if caller.role is not Role.HQ:
        query = query.where(or_(Broadcast.store_id == caller.store_id, Broadcast.kind == "hub"))
    rows = await session.scalars(query.order_by(Broadcast.scheduled_start_at, Broadcast.id))
    return [slot_view(broadcast) for broadcast in rows]


async def _serialize(session: AsyncSession) -> None:
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": SCHEDULE_LOCK})


async def _slot(session: AsyncSession, slot_id: int) -> Broadcast:
    broadcast = await session.get(Broadcast, slot_id)
    if broadcast is None:
        raise NoSuchSlot("no such slot")
    return broadcast


def _check_times(starts_at: datetime, ends_at: datetime) -> None:
    if ends_at <= starts_at:
        raise SlotRefused("a slot ends after it starts")
    if starts_at < utcnow() - timedelta(minutes=1):
        raise SlotRefused("a slot cannot start in the past")
    if ends_at - starts_at > LONGEST_SLOT:
        raise SlotRefused(f"a slot lasts at most {LONGEST_SLOT.seconds // 3600} hours")


async def _check_plan(session: AsyncSession, plan: SlotPlan) -> None:
    _check_times(plan.starts_at, plan.ends_at)
    if plan.kind == "hub":
        if plan.store_id is not None or plan.relays_id is not None:
            raise SlotRefused("the hub broadcast has no store and relays nothing")
    elif plan.store_id is None or not await store_names(session, [plan.store_id]):
        raise SlotRefused(f"no store {plan.store_id}")
    if plan.host_id is not None:
        host = await staff_member(session, plan.host_id)
        if host is None:
            raise SlotRefused(f"no member of staff {plan.host_id}")
        if plan.kind == "store" and host.store_id != plan.store_id:
            raise SlotRefused(f"{host.name} hosts another store's broadcasts")
        if plan.kind == "hub" and host.role != Role.HQ:
            raise SlotRefused(f"{host.name} is a store host; HQ staff host the hub")
    if plan.relays_id is not None:
        hub = await session.get(Broadcast, plan.relays_id)
        if hub is None or hub.kind != "hub":
            raise SlotRefused(f"broadcast {plan.relays_id} is not a hub broadcast to relay")


async def _refuse_overlaps(
    session: AsyncSession,
    store_id: int | None,
    host_id: int | None,
    starts_at: datetime,
    ends_at: datetime,
    leaving_out: int | None = None,
) -> None:
    booked = []
    if store_id is not None:
        booked.append(Broadcast.store_id == store_id)
    if host_id is not None:
        booked.append(Broadcast.host_id == host_id)
    if not booked:
        return
    query = select(Broadcast).where(
        or_(*booked),
        Broadcast.approval != SlotApproval.REJECTED,
        Broadcast.status.in_([BroadcastStatus.SCHEDULED, BroadcastStatus.LIVE]),
        Broadcast.scheduled_start_at < ends_at,
        Broadcast.scheduled_end_at > starts_at,
    )
    if leaving_out is not None:
        query = query.where(Broadcast.id != leaving_out)
    clashes = list(await session.scalars(query.order_by(Broadcast.scheduled_start_at)))
    if clashes:
        named = "; ".join(
            f"#{b.id} {b.title} {b.scheduled_start_at:%Y-%m-%d %H:%M}–{b.scheduled_end_at:%H:%M} UTC"
            f" ({'same store' if store_id is not None and b.store_id == store_id else 'same host'})"
            for b in clashes
        )
        raise SlotOverlaps(f"overlaps {named}")
