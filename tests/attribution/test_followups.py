"""Guides work their follow-up queue: they see their own tasks and their store's pool, close
them once with an outcome, and the figures, conversion and handover follow from the tasks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from attribution.care import after_sale
from attribution.followups_figures import figures
from attribution.followups_outcomes import move_open_tasks, retouch_due
from attribution.models import FollowupTask
from live.followups_job import tasks_for_end
from server.auth import Role
from server.model_base import utcnow
from server.services import Services
from tests.support.followups_world import FollowupWorld, build_followup_world

pytestmark = pytest.mark.database
Client = AsyncTestClient[Litestar]


@pytest.fixture
async def world(services: Services) -> FollowupWorld:
    async with services.sessionmaker() as session, session.begin():
        world = await build_followup_world(session)
    await tasks_for_end(services, world.hub_id)
    return world


def guide(world: FollowupWorld, token_for: Callable[..., str], name: str) -> dict[str, str]:
    guide_id, store_id = world.guides[name]
    return {"Authorization": f"Bearer {token_for(Role.GUIDE, guide_id, store_id)}"}


async def task_of(services: Services, customer_id: int) -> FollowupTask:
    async with services.sessionmaker() as session:
        task = await session.scalar(
            select(FollowupTask).where(FollowupTask.customer_id == customer_id)
        )
        assert task is not None
        return task


async def test_a_guide_sees_only_their_own_queue_and_their_stores_pool(
    client: Client, world: FollowupWorld, token_for: Callable[..., str]
) -> None:
    c = world.customers
    seen = {}
    for name in ("a1", "a2", "b1"):
        response = await client.get("/api/followups/queue", headers=guide(world, token_for, name))
        assert response.status_code == 200, response.text
        seen[name] = {t["customer_id"]: t["in_pool"] for t in response.json()["tasks"]}

    assert seen["a1"] == {c[0]: False, c[2]: False, c[3]: False, c[9]: True}
    assert seen["a2"] == {c[5]: False, c[9]: True}
    assert seen["b1"] == {c[6]: False, c[7]: True, c[8]: True}


async def test_the_queue_counts_each_kind_and_carries_what_the_customer_did_and_a_script(
    client: Client, world: FollowupWorld, token_for: Callable[..., str]
) -> None:
    response = await client.get("/api/followups/queue", headers=guide(world, token_for, "a2"))
    body = response.json()

    assert body["counts"] == {
        "watched": 1,
        "ordered_unpaid": 1,
        "care": 0,
        "retouch": 0,
        "recall": 0,
    }
    first = body["tasks"][0]
    assert first["kind"] == "ordered_unpaid" and first["ordered"] == ["双面羊绒大衣"]
    assert first["watch_seconds"] == 360 and first["phone_masked"] == "138****0005"
    assert "双面羊绒大衣" in first["script_zh"] and "not paid" in first["script_en"]
    assert "13800000005" not in response.text


async def test_a_guide_completes_a_task_with_an_outcome_once(
    client: Client, world: FollowupWorld, token_for: Callable[..., str], services: Services
) -> None:
    task = await task_of(services, world.customers[0])
    headers = guide(world, token_for, "a1")

    done = await client.post(
        f"/api/followups/tasks/{task.id}/done", json={"outcome": "reached"}, headers=headers
    )
    again = await client.post(
        f"/api/followups/tasks/{task.id}/done", json={"outcome": "no_answer"}, headers=headers
    )

    assert done.status_code == 200 and done.json()["status"] == "done"
    assert again.status_code == 409, again.text
    closed = await task_of(services, world.customers[0])
    assert (closed.status, closed.outcome) == ("done", "reached")


@pytest.mark.parametrize(
    ("who", "body", "status"),
    [
        ("a2", {"outcome": "reached"}, 403),  # another guide's task
        ("b1", {"outcome": "reached"}, 403),  # another store's guide
        ("a1", {"outcome": "sold_a_car"}, 400),  # no such outcome
        ("a1", {"outcome": "reached", "extra": 1}, 400),
    ],
)
async def test_bad_marks_are_refused_and_change_nothing(
    client: Client,
    world: FollowupWorld,
    token_for: Callable[..., str],
    services: Services,
    who: str,
    body: dict[str, object],
    status: int,
) -> None:
    task = await task_of(services, world.customers[0])

    response = await client.post(
        f"/api/followups/tasks/{task.id}/done", json=body, headers=guide(world, token_for, who)
    )

    assert response.status_code == status, response.text
    assert set(response.json()) >= {"status_code", "detail"}
    assert (await task_of(services, world.customers[0])).status == "open"


async def test_an_unknown_task_is_404_and_a_host_may_not_work_the_queue(
    client: Client, world: FollowupWorld, token_for: Callable[..., str]
) -> None:
    missing = await client.post(
        "/api/followups/tasks/999999/skip", json={}, headers=guide(world, token_for, "a1")
    )
    host = {"Authorization": f"Bearer {token_for(Role.HOST, 1, world.store_a)}"}
    queue = await client.get("/api/followups/queue", headers=host)

    assert missing.status_code == 404
    assert queue.status_code == 403


async def test_a_pool_task_becomes_the_guides_who_works_it(
    client: Client, world: FollowupWorld, token_for: Callable[..., str], services: Services
) -> None:
    task = await task_of(services, world.customers[9])

    skipped = await client.post(
        f"/api/followups/tasks/{task.id}/skip",
        json={"reason": "已到店"},
        headers=guide(world, token_for, "a2"),
    )

    assert skipped.status_code == 200, skipped.text
    after = await task_of(services, world.customers[9])
    assert (after.status, after.guide_id, after.skip_reason) == (
        "skipped",
        world.guide("a2"),
        "已到店",
    )


async def test_a_customers_open_tasks_move_with_them_to_their_new_guide(
    client: Client, world: FollowupWorld, token_for: Callable[..., str], services: Services
) -> None:
    c2 = world.customers[2]
    async with services.sessionmaker() as session, session.begin():
        moved = await move_open_tasks(
            session, c2, to_guide_id=world.guide("b1"), to_store_id=world.store_b
        )

    assert moved == 1
    a1 = await client.get("/api/followups/queue", headers=guide(world, token_for, "a1"))
    b1 = await client.get("/api/followups/queue", headers=guide(world, token_for, "b1"))
    assert c2 not in {t["customer_id"] for t in a1.json()["tasks"]}
    assert c2 in {t["customer_id"] for t in b1.json()["tasks"]}


async def test_a_payment_within_seven_days_of_the_touch_converts_it_and_the_figures_say_so(
    client: Client, world: FollowupWorld, token_for: Callable[..., str], services: Services
) -> None:
    c = world.customers
    headers = guide(world, token_for, "a1")
    for customer, outcome in ((c[0], "reached"), (c[2], "booked_visit")):
        task = await task_of(services, customer)
        response = await client.post(
            f"/api/followups/tasks/{task.id}/done", json={"outcome": outcome}, headers=headers
        )
        assert response.status_code == 200
    now = utcnow()
    async with services.sessionmaker() as session, session.begin():
        for customer, order_id, days in ((c[0], "o-soon", 2), (c[2], "o-late", 8)):
            await after_sale(
                session,
                order_id=order_id,
                customer_id=customer,
                guide_id=world.guide("a1"),
                store_id=world.store_a,
                paid_at=now + timedelta(days=days),
                ordered=[],
            )

    assert (await task_of(services, c[0])).converted_order_id == "o-soon"
    assert (await task_of(services, c[2])).converted_order_id is None
    async with services.sessionmaker() as session:
        mine = await figures(
            session,
            since=now - timedelta(days=1),
            until=now + timedelta(minutes=1),
            guide_id=world.guide("a1"),
        )
    # a1 was issued c0, c2, c3 and did two; both done were touches, one converted
    assert (mine.issued, mine.done, mine.execution_rate) == (3, 2, 0.6667)
    assert (mine.touched, mine.converted, mine.conversion_rate) == (2, 1, 0.5)
    response = await client.get("/api/followups/figures", headers=headers)
    assert response.json()["execution_rate"] == 0.6667
    assert "done" in response.json()["execution_rate_means"]


async def test_a_guide_asking_for_another_guides_figures_is_refused(
    client: Client, world: FollowupWorld, token_for: Callable[..., str]
) -> None:
    response = await client.get(
        f"/api/followups/figures?guide_id={world.guide('a2')}",
        headers=guide(world, token_for, "a1"),
    )

    assert response.status_code == 403


async def test_a_guide_gets_a_share_link_with_a_qr_code_drawn_by_the_server(
    client: Client, world: FollowupWorld, token_for: Callable[..., str]
) -> None:
    response = await client.get("/api/guides/me/share", headers=guide(world, token_for, "a1"))

    body = response.json()
    assert response.status_code == 200, response.text
    assert body["url"].endswith(f"room={world.room_a}&share=a1")
    assert body["qr_svg"].startswith("<svg") and "path" in body["qr_svg"]


async def test_a_follow_up_not_converted_after_fourteen_days_gets_one_re_touch(
    client: Client, world: FollowupWorld, token_for: Callable[..., str], services: Services
) -> None:
    c = world.customers
    headers = guide(world, token_for, "a1")
    for customer, outcome in ((c[0], "reached"), (c[2], "not_interested"), (c[3], "no_answer")):
        task = await task_of(services, customer)
        response = await client.post(
            f"/api/followups/tasks/{task.id}/done", json={"outcome": outcome}, headers=headers
        )
        assert response.status_code == 200
    now = utcnow()
    async with services.sessionmaker() as session, session.begin():
        await after_sale(  # c3 paid two days after the touch: converted, no re-touch
            session,
            order_id="o-c3",
            customer_id=c[3],
            guide_id=world.guide("a1"),
            store_id=world.store_a,
            paid_at=now + timedelta(days=2),
            ordered=[],
        )

    async with services.sessionmaker() as session, session.begin():
        assert await retouch_due(session, now + timedelta(days=13)) == 0
    for _ in range(2):  # the second run finds nothing more to do
        async with services.sessionmaker() as session, session.begin():
            await retouch_due(session, now + timedelta(days=14, minutes=1))

    async with services.sessionmaker() as session:
        retouches = list(
            await session.scalars(select(FollowupTask).where(FollowupTask.kind == "retouch"))
        )
    assert [(t.customer_id, t.guide_id) for t in retouches] == [(c[0], world.guide("a1"))]
    async with services.sessionmaker() as session, session.begin():
        assert await retouch_due(session, now + timedelta(days=40)) == 0  # once, never again
