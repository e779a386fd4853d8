"""Viewers' broadcast reminders go out as WeChat subscribe messages (against a local WeChat
stand-in): once each, before the broadcast starts; a viewer WeChat refuses is not retried,
and WeChat busy leaves the reminders for the next run."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from attribution.queries import openid_of
from attribution.wechat import WechatIdentityProvider
from live.models import Room, ScheduleNotice, ScheduleNoticeKind
from live.reminder_delivery import deliver_viewer_reminders
from live.schedule_watch import watch_schedule
from server.auth import Role
from tests.live.conftest import Chain
from tests.live.test_schedule import SLOT_DAY, store_slot
from tests.support.local_server import serving
from tests.support.wechat_api import APP_ID, APP_SECRET, FakeWechat

pytestmark = [pytest.mark.database, pytest.mark.demo]
TEMPLATE = "tmpl-broadcast-reminder"
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def wechat() -> Iterator[tuple[FakeWechat, WechatIdentityProvider]]:
    fake = FakeWechat()
    with serving(fake.app()) as url:
        yield fake, WechatIdentityProvider(url, APP_ID, APP_SECRET)


async def test_each_subscribed_viewer_is_reminded_once_through_wechat(
    chain: Chain, wechat: tuple[FakeWechat, WechatIdentityProvider]
) -> None:
    fake, sender = wechat
    planned = await chain.http.post(
        "/api/schedule", json=store_slot(chain, 0, 0, 2, title="冬季大衣专场"), headers=chain.hq
    )
    slot = planned.json()["id"]
    for customer in (3, 4):
        viewer = {"Authorization": f"Bearer {chain.token_for(Role.VIEWER, customer)}"}
        await chain.http.post(f"/api/broadcasts/{slot}/subscribe", headers=viewer)
    async with chain.services.sessionmaker() as session:
        reminded, refused = await openid_of(session, 3), await openid_of(session, 4)
        room_id = await session.scalar(select(Room.id).where(Room.broadcast_id == slot))
    assert reminded and refused
    fake.unsubscribed.add(refused)
    before = SLOT_DAY - timedelta(minutes=20)
    async with chain.services.sessionmaker() as session:
        await watch_schedule(session, before)

    fake.busy = True
    away = await deliver_viewer_reminders(chain.services.sessionmaker, sender, TEMPLATE, before)
    assert (away.sent, away.left) == (0, 2) and fake.messages == []
    fake.busy = False
    first = await deliver_viewer_reminders(chain.services.sessionmaker, sender, TEMPLATE, before)
    again = await deliver_viewer_reminders(chain.services.sessionmaker, sender, TEMPLATE, before)

    assert (first.sent, first.refused) == (1, 1)
    assert (again.sent, again.refused) == (0, 0)
    [message] = fake.messages
    assert message["touser"] == reminded and message["template_id"] == TEMPLATE
    assert message["page"] == f"pages/room/room?room={room_id}"
    assert message["data"] == {
        "thing1": {"value": "冬季大衣专场"},
        "time2": {"value": SLOT_DAY.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")},
    }
    assert message["data"]["time2"]["value"].endswith("19:00")
    async with chain.services.sessionmaker() as session:
        notices = {
            n.recipient_id: n
            for n in await session.scalars(
                select(ScheduleNotice).where(
                    ScheduleNotice.broadcast_id == slot,
                    ScheduleNotice.kind == ScheduleNoticeKind.VIEWER_REMINDER,
                )
            )
        }
    assert notices[3].delivered_at is not None and notices[3].delivery_error == ""
    assert notices[4].delivered_at is None and notices[4].delivery_error.startswith("43101")


async def test_a_reminder_is_not_sent_once_its_broadcast_has_started(
    chain: Chain, wechat: tuple[FakeWechat, WechatIdentityProvider]
) -> None:
    fake, sender = wechat
    planned = await chain.http.post(
        "/api/schedule", json=store_slot(chain, 0, 0, 2), headers=chain.hq
    )
    viewer = {"Authorization": f"Bearer {chain.token_for(Role.VIEWER, 3)}"}
    await chain.http.post(f"/api/broadcasts/{planned.json()['id']}/subscribe", headers=viewer)
    async with chain.services.sessionmaker() as session:
        await watch_schedule(session, SLOT_DAY - timedelta(minutes=20))

    late = SLOT_DAY + timedelta(minutes=1)
    report = await deliver_viewer_reminders(chain.services.sessionmaker, sender, TEMPLATE, late)
    assert report.sent == 0 and fake.messages == []
