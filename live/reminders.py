"""Who hears of a slot before and after it: viewers who subscribed from a broadcast's share
page, the host reminded before go-live, HQ alerted of no-shows and missed slots.

The notices are rows; the host console and the HQ view read them. Delivering a viewer's
reminder as a WeChat subscribe message needs the mini-program's template ids and is not
wired yet: the rows are what such a sender would read."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from live.models import (
    Broadcast,
    BroadcastStatus,
    BroadcastSubscription,
    ScheduleNotice,
    ScheduleNoticeKind,
)
from live.schedule import NoSuchSlot, SlotOverlaps
from live.schedule_schemas import ScheduleNoticeRead
from server.auth import Principal, Role

HQ_ALERTS = (ScheduleNoticeKind.NO_SHOW, ScheduleNoticeKind.MISSED)


async def subscribe(session: AsyncSession, customer_id: int, broadcast_id: int) -> None:
    """Remind this viewer before the broadcast goes live; asking twice changes nothing."""
    async with session.begin():
        broadcast = await session.get(Broadcast, broadcast_id)
        if broadcast is None:
            raise NoSuchSlot("no such broadcast")
        if broadcast.status != BroadcastStatus.SCHEDULED:
            raise SlotOverlaps(f"a {broadcast.status} broadcast has nothing to remind of")
        exists = await session.scalar(
            select(BroadcastSubscription.id).where(
                BroadcastSubscription.broadcast_id == broadcast_id,
                BroadcastSubscription.customer_id == customer_id,
            )
        )
        if exists is None:
            session.add(BroadcastSubscription(broadcast_id=broadcast_id, customer_id=customer_id))


async def notices_for(
    session: AsyncSession, caller: Principal, limit: int = 100
) -> list[ScheduleNoticeRead]:
    """HQ: every no-show and missed alert. A host: their own reminders and the alerts of their
    store's slots. Newest first."""
    query = select(ScheduleNotice, Broadcast).join(
        Broadcast, Broadcast.id == ScheduleNotice.broadcast_id
    )
    if caller.role is Role.HQ:
        query = query.where(ScheduleNotice.kind.in_(HQ_ALERTS))
    else:
        query = query.where(
            or_(
                (ScheduleNotice.kind == ScheduleNoticeKind.HOST_REMINDER)
                & (ScheduleNotice.recipient_id == caller.sub),
                ScheduleNotice.kind.in_(HQ_ALERTS) & (Broadcast.store_id == caller.store_id),
            )
        )
    rows = await session.execute(
        query.order_by(ScheduleNotice.created_at.desc(), ScheduleNotice.id.desc()).limit(limit)
    )
    return [
        ScheduleNoticeRead(
            n.id,
            n.broadcast_id,
            n.kind,
            n.recipient_id,
            n.created_at,
            b.title,
            b.store_id,
            b.scheduled_start_at,
        )
        for n, b in rows
    ]
