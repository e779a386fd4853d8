"""After-sale care: a paid order's care steps fall due at their offsets for the credited guide,
and a refund cancels the steps not yet done. The payment and refund are the real ones."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
import time_machine
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from attribution.followups_queue import queue_for
from attribution.models import FollowupTask
from orders.refunds import refund_order
from server import factories
from server.auth import Principal, Role
from server.model_base import utcnow
from server.services import Services
from tests.orders.conftest import make_deal, seed_world, written_order
from tests.orders.test_payments import pay

pytestmark = pytest.mark.database
MIN, DAY = timedelta(minutes=1), timedelta(days=1)


async def bound_buyer_pays(services: Services) -> tuple[str, Principal, datetime]:
    """Customer 0 of a store, bound to its guide, buys and pays now."""
    world = await seed_world(services, customers=2)
    async with services.sessionmaker() as session, session.begin():
        guide = await factories.add_guide(session, world.store_id)
        await factories.add_binding(session, world.customer_ids[0], guide.id, world.store_id)
    deal = await make_deal(services, world)
    placed = await written_order(services, world, deal)
    paid_at = utcnow()
    await pay(services, placed.order_id, placed.amount_fen)
    return placed.order_id, Principal(Role.GUIDE, guide.id, world.store_id), paid_at


async def care_tasks(services: Services, order_id: str) -> list[FollowupTask]:
    async with services.sessionmaker() as session:
        rows = await session.scalars(
            select(FollowupTask)
            .where(FollowupTask.order_id == order_id)
            .order_by(FollowupTask.due_at)
        )
        return list(rows)


async def due_care(services: Services, guide: Principal) -> list[str]:
    """The guide's care tasks due now (by the clock time-machine moves), as their Chinese script."""
    async with services.sessionmaker() as session:
        queue = await queue_for(session, guide, utcnow())
    return [t.script_zh for t in queue.tasks if t.kind == "care"]


async def test_a_paid_order_gets_the_3315_steps_for_its_guide_at_3_minutes_3_15_and_60_days(
    services: Services,
) -> None:
    order_id, guide, paid_at = await bound_buyer_pays(services)

    steps = await care_tasks(services, order_id)
    assert [round((t.due_at - paid_at) / MIN) for t in steps] == [3, 3 * 1440, 15 * 1440, 60 * 1440]
    assert {t.guide_id for t in steps} == {guide.sub}
    assert steps[0].ordered == ["双面羊绒大衣"]

    with time_machine.travel(paid_at + 2 * MIN, tick=False):
        assert await due_care(services, guide) == []
    with time_machine.travel(paid_at + 4 * MIN, tick=False):
        assert len(await due_care(services, guide)) == 1
    with time_machine.travel(paid_at + 15 * DAY + MIN, tick=False):
        (due,) = await due_care(services, guide)  # the earlier steps have expired
        assert "两周" in due


async def test_a_refund_cancels_the_care_steps_not_yet_done(services: Services) -> None:
    order_id, guide, paid_at = await bound_buyer_pays(services)

    await refund_order(services, order_id)

    assert {t.status for t in await care_tasks(services, order_id)} == {"cancelled"}
    with time_machine.travel(paid_at + 3 * DAY + MIN, tick=False):
        assert await due_care(services, guide) == []


async def test_hq_switches_to_the_3369_plan_and_new_orders_follow_it(
    services: Services, client: AsyncTestClient[Litestar], token_for: Callable[..., str]
) -> None:
    hq = {"Authorization": f"Bearer {token_for(Role.HQ, 1)}"}
    plans = {p["code"]: p for p in (await client.get("/api/care-plans", headers=hq)).json()}
    assert plans["3315"]["active"] and not plans["3369"]["active"]
    for code, active in (("3315", False), ("3369", True)):
        plan = plans[code]
        response = await client.put(
            f"/api/care-plans/{plan['id']}",
            json={"active": active, "steps": plan["steps"]},
            headers=hq,
        )
        assert response.status_code == 200, response.text

    order_id, _, paid_at = await bound_buyer_pays(services)

    offsets = [round((t.due_at - paid_at) / MIN) for t in await care_tasks(services, order_id)]
    assert offsets == [30, 3 * 1440, 30 * 1440, 60 * 1440, 90 * 1440]


async def test_a_guide_may_not_edit_care_plans_and_an_unknown_plan_is_404(
    client: AsyncTestClient[Litestar], token_for: Callable[..., str], services: Services
) -> None:
    body = {"active": True, "steps": []}
    guide = {"Authorization": f"Bearer {token_for(Role.GUIDE, 1, 1)}"}
    hq = {"Authorization": f"Bearer {token_for(Role.HQ, 1)}"}

    assert (await client.put("/api/care-plans/1", json=body, headers=guide)).status_code == 403
    assert (await client.put("/api/care-plans/9999", json=body, headers=hq)).status_code == 404
