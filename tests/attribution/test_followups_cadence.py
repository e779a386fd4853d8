"""Seed 002's cadence, a brand setting: a customer who bought less than 40 days ago is not
marketed to before day 40 of their 45-day cycle; past the cycle, or mid-order, nothing waits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.followups import set_rules
from attribution.followups_outcomes import complete, retouch_due
from attribution.followups_queue import queue_for
from attribution.followups_schemas import Outcome, Rules
from attribution.models import FollowupTask, SaleCredit
from live.followups_job import tasks_for_end
from server.auth import Principal, Role
from server.services import Services
from tests.support.followups_world import FollowupWorld, build_followup_world

pytestmark = pytest.mark.database

T = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
MIN = timedelta(minutes=1)


def bought(world: FollowupWorld, customer: int, order: str, at: datetime) -> SaleCredit:
    return SaleCredit(
        order_id=order,
        kind="sale",
        customer_id=customer,
        guide_id=world.guide("a1"),
        store_id=world.store_a,
        room_store_id=None,
        rule="bound_guide",
        amount_fen=50000,
        created_at=at,
    )


async def ended_with_history(services: Services, *, cadence: bool) -> FollowupWorld:
    """c0 bought 10 days before the broadcast, c2 5 days before, c3 50 days before (past the
    cycle); c5 (who ordered in it and did not pay) 5 days before."""
    with time_machine.travel(T, tick=False):
        async with services.sessionmaker() as session, session.begin():
            world = await build_followup_world(session, ended_at=T)
            c = world.customers
            session.add_all(
                [
                    bought(world, c[0], "h0", T - 10 * DAY),
                    bought(world, c[2], "h2", T - 5 * DAY),
                    bought(world, c[3], "h3", T - 50 * DAY),
                    bought(world, c[5], "h5", T - 5 * DAY),
                ]
            )
            await set_rules(session, Rules(cadence=cadence))
        await tasks_for_end(services, world.hub_id)
    return world


async def dues(session: AsyncSession, world: FollowupWorld) -> dict[int, datetime]:
    rows = await session.execute(select(FollowupTask.customer_id, FollowupTask.due_at))
    return {customer: at for customer, at in rows.all()}


def a1(world: FollowupWorld) -> Principal:
    return Principal(Role.GUIDE, world.guide("a1"), world.store_a)


async def test_with_the_cadence_marketing_waits_for_day_40_of_the_cycle(
    services: Services,
) -> None:
    world = await ended_with_history(services, cadence=True)
    c = world.customers

    async with services.sessionmaker() as session:
        due = await dues(session, world)
        assert due[c[0]] == T - 10 * DAY + 40 * DAY
        assert due[c[2]] == T - 5 * DAY + 40 * DAY
        assert due[c[3]] == T  # past the 45-day cycle
        assert due[c[5]] == T  # an unpaid order is not marketing
        assert due[c[6]] == T  # never bought
        now_queue = await queue_for(session, a1(world), T + MIN)
        day_40 = T + 35 * DAY + MIN
        later = await queue_for(session, a1(world), day_40)
    assert {t.customer_id for t in now_queue.tasks if not t.in_pool} == {c[3]}
    assert {t.customer_id for t in later.tasks if not t.in_pool} == {c[2]}  # c0's expired


async def test_without_the_cadence_every_follow_up_is_due_at_once(services: Services) -> None:
    world = await ended_with_history(services, cadence=False)
    async with services.sessionmaker() as session:
        assert set((await dues(session, world)).values()) == {T}


async def test_a_re_touch_inside_a_new_cycle_waits_for_its_day_40(services: Services) -> None:
    world = await ended_with_history(services, cadence=True)
    c3 = world.customers[3]
    async with services.sessionmaker() as session, session.begin():
        task = await session.scalar(select(FollowupTask).where(FollowupTask.customer_id == c3))
        assert task is not None
        await complete(session, a1(world), task.id, Outcome.NO_ANSWER, T + MIN)
        # She bought at a till-side order 10 days after the touch (past the 7-day conversion
        # window): a new cycle begins, so the re-touch waits for its day 40.
        session.add(bought(world, c3, "again", T + 10 * DAY))
    async with services.sessionmaker() as session, session.begin():
        assert await retouch_due(session, T + 14 * DAY + 2 * MIN) == 1
    async with services.sessionmaker() as session:
        retouch = await session.scalar(select(FollowupTask).where(FollowupTask.kind == "retouch"))
    assert retouch is not None and retouch.customer_id == c3
    assert retouch.due_at == T + 10 * DAY + 40 * DAY
