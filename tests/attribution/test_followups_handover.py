"""Tasks follow their customers when HQ transfers them, and the queue puts core, high-spending
customers first among the equally engaged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from attribution.bindings_hq import transfer_customers
from attribution.followups_outcomes import complete
from attribution.followups_queue import queue_for
from attribution.followups_schemas import Outcome, TaskStatus
from attribution.models import CustomerSegment, FollowupTask
from attribution.schemas import BindingMode, ShareOutcome, TransferRequest
from live.followups_job import tasks_for_end
from server.auth import Principal, Role
from server.model_base import utcnow
from server.services import Services
from tests.attribution.chain import share, use_rule
from tests.support.followups_world import FollowupWorld, build_followup_world

pytestmark = pytest.mark.database


def guide_of(world: FollowupWorld, name: str) -> Principal:
    guide_id, store_id = world.guides[name]
    return Principal(sub=guide_id, role=Role.GUIDE, store_id=store_id)


async def owners(services: Services, customers: list[int]) -> dict[int, tuple[int | None, str]]:
    async with services.sessionmaker() as session:
        rows = await session.execute(
            select(FollowupTask.customer_id, FollowupTask.guide_id, FollowupTask.status).where(
                FollowupTask.customer_id.in_(customers)
            )
        )
        return {customer: (guide, status) for customer, guide, status in rows.all()}


async def test_a_transfer_moves_the_customers_open_tasks_and_leaves_the_done_ones(
    services: Services,
) -> None:
    async with services.sessionmaker() as session, session.begin():
        world = await build_followup_world(session)
    await tasks_for_end(services, world.hub_id)
    c = world.customers
    a1, a2 = world.guide("a1"), world.guide("a2")
    async with services.sessionmaker() as session, session.begin():
        done = await session.scalar(select(FollowupTask).where(FollowupTask.customer_id == c[0]))
        assert done is not None
        await complete(session, guide_of(world, "a1"), done.id, Outcome.REACHED, utcnow())

    async with services.sessionmaker() as session, session.begin():
        await transfer_customers(session, a1, TransferRequest(to_guide_id=a2), staff_id=1)

    assert await owners(services, [c[0], c[2], c[3]]) == {
        c[0]: (a1, TaskStatus.DONE),  # her work stays hers
        c[2]: (a2, TaskStatus.OPEN),
        c[3]: (a2, TaskStatus.OPEN),
    }


async def test_a_customer_who_follows_another_guides_share_takes_their_open_tasks_along(
    services: Services,
) -> None:
    """Under the `latest` rule a share moves the customer to the new guide: the tasks waiting
    for them go too, to the guide they now belong to; the tasks already done stay."""
    async with services.sessionmaker() as session, session.begin():
        world = await build_followup_world(session)
    await tasks_for_end(services, world.hub_id)
    c = world.customers
    await use_rule(services, BindingMode.LATEST)
    assert await owners(services, [c[2]]) == {c[2]: (world.guide("a1"), TaskStatus.OPEN)}

    assert await share(services, c[2], "b1") is ShareOutcome.MOVED

    assert await owners(services, [c[2]]) == {c[2]: (world.guide("b1"), TaskStatus.OPEN)}
    async with services.sessionmaker() as session:
        store = await session.scalar(
            select(FollowupTask.store_id).where(FollowupTask.customer_id == c[2])
        )
        queue = await queue_for(session, guide_of(world, "b1"), utcnow())
    assert store == world.store_b
    assert c[2] in {t.customer_id for t in queue.tasks}


async def test_a_transfer_to_the_pool_puts_the_open_tasks_in_the_stores_pool(
    services: Services,
) -> None:
    async with services.sessionmaker() as session, session.begin():
        world = await build_followup_world(session)
    await tasks_for_end(services, world.hub_id)
    c = world.customers
    async with services.sessionmaker() as session, session.begin():
        await transfer_customers(
            session, world.guide("a1"), TransferRequest(customer_ids=[c[2]]), staff_id=1
        )
        queue = await queue_for(session, guide_of(world, "a2"), utcnow())

    assert await owners(services, [c[2], c[3]]) == {
        c[2]: (None, TaskStatus.OPEN),
        c[3]: (world.guide("a1"), TaskStatus.OPEN),
    }
    assert c[2] in {t.customer_id for t in queue.tasks if t.in_pool}  # a colleague may take it


async def test_core_and_important_customers_come_first_among_the_equally_engaged(
    services: Services,
) -> None:
    now = utcnow()
    async with services.sessionmaker() as session, session.begin():
        world = await build_followup_world(session)
        c = world.customers
        # c2 did more in the room than c3 (taps), but c3 is a core, important customer.
        for customer, tier, rfm in (
            (c[2], "ordinary", "ordinary_keep"),
            (c[3], "core", "important_value"),
        ):
            session.add(
                CustomerSegment(
                    customer_id=customer,
                    recency_days=20,
                    frequency=3,
                    monetary_fen=300000,
                    length_days=200,
                    rfm_class=rfm,
                    tier=tier,
                    sleeping=False,
                    last_purchase_at=now - timedelta(days=20),
                    computed_at=now,
                )
            )
    await tasks_for_end(services, world.hub_id)
    async with services.sessionmaker() as session:
        queue = await queue_for(session, guide_of(world, "a1"), utcnow())

    order = [t.customer_id for t in queue.tasks]
    assert order.index(c[3]) < order.index(c[2])
    scores = {t.customer_id: t.score for t in queue.tasks}
    assert scores[c[3]] - scores[c[2]] == (4 + 3) + 30 + 10 - (3 + 10)
