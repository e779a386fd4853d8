"""Viewers' broadcast reminders sent as WeChat subscribe messages, after the schedule watch
wrote them (live/schedule_watch.py) and while the broadcast has not started yet.

Each reminder is sent once: its row records when it was delivered, or why WeChat refused it
(a viewer whose one-time subscription is used up is refused for good). WeChat busy or away
ends the run; what is left goes at the next minute's. A send whose commit then fails (the
database away between the two) is sent again at the next run: a viewer may get a reminder
twice, never lose it silently.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Protocol

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from attribution.identity import IdentityProviderDown
from attribution.queries import openid_of
from attribution.wechat import MessageRefused
from live.models import Broadcast, BroadcastStatus, Room, ScheduleNotice, ScheduleNoticeKind
from server.model_base import utcnow

BATCH = 200
"""Reminders sent per run at most: a minute's worth at WeChat's pace, the rest next minute."""
BEIJING = timezone(timedelta(hours=8))
"""The viewers' clock: the start is written in China's time, as the mini-program shows it."""


class Sender(Protocol):
    async def send_subscribe_message(
        self, openid: str, template_id: str, page: str, data: dict[str, str]
    ) -> None: ...


class Delivery(msgspec.Struct):
    sent: int = 0
    refused: int = 0
    left: int = 0
    """Not tried this run: WeChat was away."""


async def deliver_viewer_reminders(
    sessions: async_sessionmaker[AsyncSession],
    sender: Sender,
    template_id: str,
    now: datetime | None = None,
) -> Delivery:
    now = now or utcnow()
    async with sessions() as session:
        due = (
            await session.execute(
                select(ScheduleNotice.id, ScheduleNotice.recipient_id, Broadcast, Room.id)
                .join(Broadcast, Broadcast.id == ScheduleNotice.broadcast_id)
                .join(Room, Room.broadcast_id == Broadcast.id)
                .where(
                    ScheduleNotice.kind == ScheduleNoticeKind.VIEWER_REMINDER,
                    ScheduleNotice.delivered_at.is_(None),
                    ScheduleNotice.delivery_error == "",
                    Broadcast.status == BroadcastStatus.SCHEDULED,
                    Broadcast.scheduled_start_at > now,
                )
                .order_by(ScheduleNotice.id)
                .limit(BATCH)
            )
        ).all()
        openids = {customer: await openid_of(session, customer) for _, customer, _, _ in due}
    report = Delivery()
    for n, (notice_id, customer_id, broadcast, room_id) in enumerate(due):
        data = {
            "thing1": broadcast.title[:20],  # WeChat's `thing` fields hold 20 characters
            "time2": broadcast.scheduled_start_at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M"),
        }
        error = ""
        openid = openids.get(customer_id)
        try:
            if not openid:
                error = "no openid"
            else:
                await sender.send_subscribe_message(
                    openid, template_id, f"pages/room/room?room={room_id}", data
                )
        except MessageRefused as refused:
            error = str(refused)[:200]
        except IdentityProviderDown:
            report.left = len(due) - n
            break
        async with sessions() as session, session.begin():
            notice = await session.get(ScheduleNotice, notice_id)
            assert notice is not None
            if error:
                notice.delivery_error = error
                report.refused += 1
            else:
                notice.delivered_at = utcnow()
                report.sent += 1
    return report
