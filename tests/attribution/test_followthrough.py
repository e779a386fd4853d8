"""HQ sees how the guides follow through their tasks per region, store and guide, and chases
(催办) the late ones: each guide with overdue tasks finds one reminder on their workbench."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from server import factories
from server.auth import Role
from server.model_base import utcnow
from server.services import Services

pytestmark = pytest.mark.database
Client = AsyncTestClient[Litestar]


class World(msgspec.Struct):
    east: int
    north: int
    shanghai: int
    hangzhou: int
    beijing: int
    chen: int
    """Shanghai: two overdue, one done, one open (due an hour ago)."""
    lin: int
    """Shanghai: all done."""
    wang: int
    """Beijing: one overdue, one expired."""
    zhou: int
    """Hangzhou: nothing late."""


@pytest.fixture
async def world(services: Services) -> World:
    now = utcnow()
    day_ago = now - timedelta(hours=30)
    async with services.sessionmaker() as session, session.begin():
        east = await factories.add_region(session, "华东")
        north = await factories.add_region(session, "华北")
        shanghai = await factories.add_store(session, region_id=east.id)
        hangzhou = await factories.add_store(session, region_id=east.id, code="HZ01", name="杭州店")
        beijing = await factories.add_store(session, region_id=north.id, code="BJ01", name="北京店")
        guides = {}
        for n, (name, store) in enumerate(
            [("chen", shanghai), ("lin", shanghai), ("wang", beijing), ("zhou", hangzhou)]
        ):
            guides[name] = await factories.add_guide(
                session, store.id, name=name, phone=f"1390000000{n}", share_code=f"g-{name}"
            )
        customers = await factories.add_customers(session, 10, [shanghai.id], "ft")
        c = iter(customers)

        async def task(guide: str | None, store: int, status: str = "open", at=day_ago) -> None:  # type: ignore[no-untyped-def]
            await factories.add_task(
                session,
                next(c).id,
                store,
                guide_id=guides[guide].id if guide else None,
                due_at=at,
                status=status,
            )

        await task("chen", shanghai.id)
        await task("chen", shanghai.id)
        await task("chen", shanghai.id, "done")
        await task("chen", shanghai.id, at=now - timedelta(hours=1))
        await task("lin", shanghai.id, "done")
        await task(None, shanghai.id)  # the store's pool: late, but nobody's to chase
        await task("wang", beijing.id)
        await task("wang", beijing.id, "expired")
        await task("zhou", hangzhou.id, "done")
        await task("zhou", hangzhou.id, "done", at=now - timedelta(days=10))  # before the week
    return World(
        east.id,
        north.id,
        shanghai.id,
        hangzhou.id,
        beijing.id,
        guides["chen"].id,
        guides["lin"].id,
        guides["wang"].id,
        guides["zhou"].id,
    )


@pytest.fixture
def hq(token_for: Callable[..., str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(Role.HQ, 1)}"}


def as_guide(token_for: Callable[..., str], guide_id: int, store_id: int) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(Role.GUIDE, guide_id, store_id)}"}


def figures(body: dict) -> dict[int, tuple[int, int, int, int, int]]:  # type: ignore[type-arg]
    return {
        r["id"]: (r["issued"], r["done"], r["open"], r["overdue"], r["expired"])
        for r in body["rows"]
    }


async def test_tasks_issued_done_and_overdue_per_region_store_and_guide(
    client: Client, world: World, hq: dict[str, str]
) -> None:
    by = {}
    for level in ("region", "store", "guide"):
        answer = await client.get("/api/hq/tasks", params={"by": level}, headers=hq)
        assert answer.status_code == 200, answer.text
        by[level] = answer.json()

    assert figures(by["guide"]) == {
        world.chen: (4, 1, 1, 2, 0),
        world.lin: (1, 1, 0, 0, 0),
        world.wang: (2, 0, 0, 1, 1),
        world.zhou: (1, 1, 0, 0, 0),
    }
    assert figures(by["store"]) == {
        world.shanghai: (6, 2, 1, 3, 0),  # the pool's late task counts for its store
        world.beijing: (2, 0, 0, 1, 1),
        world.hangzhou: (1, 1, 0, 0, 0),
    }
    assert figures(by["region"]) == {world.east: (7, 3, 1, 3, 0), world.north: (2, 0, 0, 1, 1)}
    assert by["store"]["rows"][0]["id"] == world.shanghai  # most overdue first
    assert by["guide"]["rows"][0]["store_id"] == world.shanghai
    assert "逾期" in by["store"]["means"]


async def test_chasing_a_store_reminds_each_of_its_late_guides_once(
    client: Client, world: World, hq: dict[str, str], token_for: Callable[..., str]
) -> None:
    first = await client.post("/api/hq/tasks/chase", json={"store_id": world.shanghai}, headers=hq)
    again = await client.post("/api/hq/tasks/chase", json={"store_id": world.shanghai}, headers=hq)

    assert first.status_code == 200, first.text
    assert first.json() == {"reminded": [world.chen], "already": []}
    assert again.json() == {"reminded": [], "already": [world.chen]}
    chen = as_guide(token_for, world.chen, world.shanghai)
    [reminder] = (await client.get("/api/guide/reminders", headers=chen)).json()
    assert reminder["overdue"] == 2
    lin = as_guide(token_for, world.lin, world.shanghai)
    assert (await client.get("/api/guide/reminders", headers=lin)).json() == []

    assert (
        await client.post(f"/api/guide/reminders/{reminder['id']}/seen", headers=lin)
    ).status_code == 404
    seen = await client.post(f"/api/guide/reminders/{reminder['id']}/seen", headers=chen)
    assert seen.status_code == 204
    assert (await client.get("/api/guide/reminders", headers=chen)).json() == []


async def test_chasing_one_guide_reminds_only_them(
    client: Client, world: World, hq: dict[str, str], token_for: Callable[..., str]
) -> None:
    answer = await client.post("/api/hq/tasks/chase", json={"guide_id": world.wang}, headers=hq)
    assert answer.json() == {"reminded": [world.wang], "already": []}
    on_time = await client.post("/api/hq/tasks/chase", json={"guide_id": world.zhou}, headers=hq)
    assert on_time.json() == {"reminded": [], "already": []}
    chen = as_guide(token_for, world.chen, world.shanghai)
    assert (await client.get("/api/guide/reminders", headers=chen)).json() == []


async def test_a_chase_names_one_known_store_or_guide(
    client: Client, world: World, hq: dict[str, str]
) -> None:
    for body, status in [
        ({}, 400),
        ({"store_id": world.shanghai, "guide_id": world.chen}, 400),
        ({"store_id": 999_999}, 404),
        ({"guide_id": 999_999}, 404),
        ({"guide_id": 0}, 400),
    ]:
        answer = await client.post("/api/hq/tasks/chase", json=body, headers=hq)
        assert answer.status_code == status, (body, answer.text)


async def test_only_hq_sees_follow_through_and_chases(
    client: Client, world: World, token_for: Callable[..., str]
) -> None:
    for token in (
        token_for(Role.HOST, 2, world.shanghai),
        token_for(Role.GUIDE, world.chen, world.shanghai),
        token_for(Role.VIEWER, 3),
    ):
        headers = {"Authorization": f"Bearer {token}"}
        assert (await client.get("/api/hq/tasks", headers=headers)).status_code == 403
        chased = await client.post(
            "/api/hq/tasks/chase", json={"guide_id": world.chen}, headers=headers
        )
        assert chased.status_code == 403
    hq = {"Authorization": f"Bearer {token_for(Role.HQ, 1)}"}
    assert (await client.get("/api/guide/reminders", headers=hq)).status_code == 403


async def test_a_bad_period_is_a_400(client: Client, world: World, hq: dict[str, str]) -> None:
    for params in (
        {"until": "0001-01-02T00:00:00Z"},
        {"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
        {"since": "2026-01-01T00:00:00"},
        {"by": "planet"},
    ):
        answer = await client.get("/api/hq/tasks", params=params, headers=hq)
        assert answer.status_code == 400, (params, answer.text)
