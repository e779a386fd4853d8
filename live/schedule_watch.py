"""The schedule's watch, run by the worker every minute: reminders before go-live, HQ's alert
when a slot's store is not live 5 minutes after its start, and `missed` for a slot that never
went live. Each notice is unique per (broadcast, kind, recipient), so a rerun adds nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from live.models import (
    Broadcast,
    BroadcastStatus,
    BroadcastSubscription,
    ScheduleNotice,
    ScheduleNoticeKind,
    SlotApproval,
)
from server.model_base import utcnow

REMIND_BEFORE = timedelta(minutes=30)
NO_SHOW_AFTER = timedelta(minutes=5)
HQ = 0
"""The recipient of HQ's alerts."""


class WatchReport(msgspec.Struct):
    """The broadcast of each notice this run raised (a broadcast once per person reminded)."""

    reminded: list[int] = msgspec.field(default_factory=list)
    no_shows: list[int] = msgspec.field(default_factory=list)
    missed: list[int] = msgspec.field(default_factory=list)

    def count(self) -> int:
        return len(self.reminded) + len(self.no_shows) + len(self.missed)


async def watch_schedule(session: AsyncSession, now: datetime | None = None) -> WatchReport:
    now = now or utcnow()
    report = WatchReport()
    async with session.begin():
        waiting = list(
            await session.scalars(
                select(Broadcast).where(
                    Broadcast.status == BroadcastStatus.SCHEDULED,
                    Broadcast.approval == SlotApproval.APPROVED,
                    Broadcast.scheduled_start_at <= now + REMIND_BEFORE,
                )
            )
        )
        if not waiting:
            return report
        raised = await _already_raised(session, [b.id for b in waiting])
        subscribers = await _subscribers(session, [b.id for b in waiting])

        def add(
            broadcast: Broadcast, kind: ScheduleNoticeKind, recipient: int, into: list[int]
        ) -> None:
            if (broadcast.id, kind, recipient) not in raised:
                raised.add((broadcast.id, kind, recipient))
                session.add(
                    ScheduleNotice(broadcast_id=broadcast.id, kind=kind, recipient_id=recipient)
                )
                into.append(broadcast.id)

        for broadcast in waiting:
            if now >= broadcast.scheduled_end_at:
                broadcast.status = BroadcastStatus.MISSED
                add(broadcast, ScheduleNoticeKind.MISSED, HQ, report.missed)
            elif now >= broadcast.scheduled_start_at + NO_SHOW_AFTER:
                add(broadcast, ScheduleNoticeKind.NO_SHOW, HQ, report.no_shows)
            elif now < broadcast.scheduled_start_at:
                if broadcast.host_id is not None:
                    add(
                        broadcast,
                        ScheduleNoticeKind.HOST_REMINDER,
                        broadcast.host_id,
                        report.reminded,
                    )
                for customer_id in subscribers.get(broadcast.id, []):
                    add(broadcast, ScheduleNoticeKind.VIEWER_REMINDER, customer_id, report.reminded)
    return report


async def _already_raised(
    session: AsyncSession, broadcast_ids: list[int]
) -> set[tuple[int, ScheduleNoticeKind, int]]:
    rows = await session.execute(
        select(ScheduleNotice.broadcast_id, ScheduleNotice.kind, ScheduleNotice.recipient_id).where(
            ScheduleNotice.broadcast_id.in_(broadcast_ids)
        )
    )
    return {(b, ScheduleNoticeKind(k), r) for b, k, r in rows.all()}


async def _subscribers(session: AsyncSession, broadcast_ids: list[int]) -> dict[int, list[int]]:
    rows = await session.execute(
        select(BroadcastSubscription.broadcast_id, BroadcastSubscription.customer_id).where(
            BroadcastSubscription.broadcast_id.in_(broadcast_ids)
        )
    )
    found: dict[int, list[int]] = {}
    for broadcast_id, customer_id in rows.all():
        found.setdefault(broadcast_id, []).append(customer_id)
    return found
