"""A follow-up task says which items its customer tapped and how long each was on air while they
watched: the room's own choice first, else the hub's it relays."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from attribution.followups_queue import task_reads
from attribution.models import FollowupTask
from live.followups_job import ENDED_STREAM, consume_ended
from live.host_actions import put_on_air
from live.models import OnAirChange
from server import factories
from server.auth import Principal, Role
from server.services import Services
from tests.support.followups_world import build_followup_world

pytestmark = pytest.mark.database

MINUTE = 60


async def test_a_task_names_the_items_tapped_and_their_time_on_air_while_watched(
    services: Services,
) -> None:
    async with services.sessionmaker() as session, session.begin():
        world = await build_followup_world(session)
        start = world.ended_at - timedelta(hours=2)
        coat = await factories.add_product(
            session, sku="I1", name="大衣", image_url="/img/coat.jpg"
        )
        scarf = await factories.add_product(
            session, sku="I2", name="围巾", image_url="/img/scarf.jpg"
        )
        boots = await factories.add_product(session, sku="I3", name="短靴")
        i1, i2 = await factories.add_window(
            session, world.hub_id, [(coat.id, 99900), (scarf.id, 19900)]
        )
        (i3,) = await factories.add_window(session, world.relay_a_id, [(boots.id, 29900)])
        # The hub: coat for 30 minutes, the scarf for 30, then nothing.
        await factories.add_on_air(session, world.hub_id, i1.id, start)
        await factories.add_on_air(session, world.hub_id, i2.id, start + timedelta(minutes=30))
        await factories.add_on_air(session, world.hub_id, None, start + timedelta(minutes=60))
        # Store A shows its boots over the hub's scarf from minute 40 to 50.
        await factories.add_on_air(session, world.relay_a_id, i3.id, start + timedelta(minutes=40))
        await factories.add_on_air(session, world.relay_a_id, None, start + timedelta(minutes=50))
        # c3 was in store A's room from minute 25 to 45 and tapped the scarf twice, boots once.
        await factories.add_viewer_session(
            session,
            world.room_a,
            world.customers[3],
            joined_at=start + timedelta(minutes=25),
            watch_seconds=20 * MINUTE,
            tapped_items={i2.id: 2, i3.id: 1},
        )
    await services.redis.xadd(ENDED_STREAM, {"broadcast_id": world.hub_id})

    assert await consume_ended(services, settle_seconds=0) == 1

    async with services.sessionmaker() as session:
        found = {
            t.customer_id: t
            for t in await session.scalars(select(FollowupTask).order_by(FollowupTask.id))
        }
        c3 = (await task_reads(session, [found[world.customers[3]]]))[0]
        c6 = (await task_reads(session, [found[world.customers[6]]]))[0]
    # Minute 0-4 of the world's own stay (coat), 25-30 coat, 30-40 scarf, 40-45 boots.
    assert [(i.name, i.taps, i.on_air_seconds) for i in c3.items] == [
        ("围巾", 2, 10 * MINUTE),
        ("短靴", 1, 5 * MINUTE),
        ("大衣", 0, 4 * MINUTE + 5 * MINUTE),
    ]
    assert c3.items[0].image_url == "/img/scarf.jpg"
    # c6 watched store B's room for 7 minutes from the start: only the hub's coat was on air.
    assert [(i.name, i.taps, i.on_air_seconds) for i in c6.items] == [("大衣", 0, 7 * MINUTE)]


async def test_a_hosts_on_air_changes_are_recorded_once_each(services: Services) -> None:
    async with services.sessionmaker() as session, session.begin():
        hub = await factories.add_broadcast(session, status="live")
        product = await factories.add_product(session)
        (item,) = await factories.add_window(session, hub.id, [(product.id, 9900)])
    hq = Principal(Role.HQ, 1)
    for choice in (item.id, item.id, None):  # putting on air what is on air changes nothing
        async with services.sessionmaker() as session:
            await put_on_air(session, hq, hub.id, choice)

    async with services.sessionmaker() as session:
        changes = (
            await session.execute(
                select(OnAirChange.broadcast_id, OnAirChange.item_id).order_by(OnAirChange.id)
            )
        ).all()
    assert [tuple(c) for c in changes] == [(hub.id, item.id), (hub.id, None)]
