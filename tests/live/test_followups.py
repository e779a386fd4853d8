"""A broadcast's end turns its non-buyers into follow-up tasks, once, in the right queues."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from attribution.followups_schemas import TaskKind, TaskStatus
from attribution.models import FollowupTask
from live.followups_job import ENDED_STREAM, GROUP, consume_ended, tasks_for_end
from live.models import Broadcast
from server.services import Services
from tests.support.followups_world import FollowupWorld, build_followup_world

pytestmark = pytest.mark.database


async def ended_world(services: Services) -> FollowupWorld:
    async with services.sessionmaker() as session, session.begin():
        world = await build_followup_world(session)
    await services.redis.xadd(ENDED_STREAM, {"broadcast_id": world.hub_id})
    return world


async def tasks(services: Services) -> list[FollowupTask]:
    async with services.sessionmaker() as session:
        return list(await session.scalars(select(FollowupTask).order_by(FollowupTask.id)))


async def test_ten_viewers_two_buyers_make_eight_tasks_in_the_right_queues(
    services: Services,
) -> None:
    world = await ended_world(services)

    assert await consume_ended(services, settle_seconds=0) == 1

    made = {t.customer_id: t for t in await tasks(services)}
    c = world.customers
    assert len(made) == 8
    assert not set(world.buyers) & made.keys()
    a1, a2, b1 = world.guide("a1"), world.guide("a2"), world.guide("b1")
    queues = {cid: (t.guide_id, t.store_id) for cid, t in made.items()}
    assert queues == {
        c[0]: (a1, world.store_a),
        c[2]: (a1, world.store_a),
        c[3]: (a1, world.store_a),
        c[5]: (a2, world.store_a),
        c[6]: (b1, world.store_b),
        c[7]: (None, world.store_b),
        c[8]: (None, world.store_b),
        c[9]: (None, world.store_a),
    }
    assert {t.broadcast_id for t in made.values()} == {world.hub_id}


async def test_a_viewer_of_the_hub_and_a_store_room_gets_one_task_with_both_stays(
    services: Services,
) -> None:
    world = await ended_world(services)
    await consume_ended(services, settle_seconds=0)

    (task,) = [t for t in await tasks(services) if t.customer_id == world.customers[0]]
    assert task.watch_seconds == 60 + 300
    assert task.taps == 4
    assert task.kind == TaskKind.WATCHED


async def test_an_order_left_unpaid_makes_a_task_of_its_own_kind_naming_the_item(
    services: Services,
) -> None:
    world = await ended_world(services)
    await consume_ended(services, settle_seconds=0)

    (task,) = [t for t in await tasks(services) if t.customer_id == world.unpaid]
    assert task.kind == TaskKind.ORDERED_UNPAID
    assert task.ordered == ["双面羊绒大衣"]
    others = [t.score for t in await tasks(services) if t.customer_id != world.unpaid]
    assert task.score > max(others)  # the most likely to convert comes first


async def test_a_customer_contacted_recently_is_deferred_to_the_end_of_the_quiet_window(
    services: Services,
) -> None:
    world = await ended_world(services)
    contacted = world.ended_at - timedelta(days=1)
    async with services.sessionmaker() as session, session.begin():
        session.add(
            FollowupTask(
                kind="watched",
                customer_id=world.customers[2],
                guide_id=world.guide("a1"),
                store_id=world.store_a,
                status=TaskStatus.DONE,
                outcome="reached",
                closed_at=contacted,
                created_at=contacted,
                due_at=contacted,
                expires_at=contacted + timedelta(days=3),
            )
        )
    await consume_ended(services, settle_seconds=0)

    made = {t.customer_id: t for t in await tasks(services) if t.broadcast_id == world.hub_id}
    assert made[world.customers[2]].due_at == contacted + timedelta(days=3)  # quiet_days
    assert made[world.customers[3]].due_at <= world.ended_at + timedelta(minutes=5)


async def test_the_job_run_twice_writes_each_task_once(services: Services) -> None:
    world = await ended_world(services)

    await consume_ended(services, settle_seconds=0)
    await tasks_for_end(services, world.hub_id)
    await tasks_for_end(services, world.relay_a_id)  # a store's end names the same family
    await services.redis.xadd(ENDED_STREAM, {"broadcast_id": world.hub_id})
    await consume_ended(services, settle_seconds=0)

    assert len(await tasks(services)) == 8


async def test_a_worker_killed_after_its_commit_and_before_its_ack_is_finished_once_by_the_next(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    await ended_world(services)

    async def killed(*_: object) -> int:
        raise SystemExit("worker killed before XACK")

    with monkeypatch.context() as patch:
        patch.setattr(services.redis, "xack", killed)
        with pytest.raises(SystemExit):
            await consume_ended(services, settle_seconds=0)
    assert len(await tasks(services)) == 8
    pending = await services.redis.xpending(ENDED_STREAM, GROUP)
    assert pending["pending"] == 1

    assert await consume_ended(services, settle_seconds=0) == 1

    assert len(await tasks(services)) == 8
    assert (await services.redis.xpending(ENDED_STREAM, GROUP))["pending"] == 0


async def test_an_end_younger_than_the_settling_time_waits_for_a_later_run(
    services: Services,
) -> None:
    await ended_world(services)

    assert await consume_ended(services, settle_seconds=3600) == 0
    assert await tasks(services) == []
    assert await consume_ended(services, settle_seconds=0) == 1
    assert len(await tasks(services)) == 8


async def test_a_store_ending_while_the_hub_is_live_leaves_the_tasks_to_the_hubs_end(
    services: Services,
) -> None:
    async with services.sessionmaker() as session, session.begin():
        world = await build_followup_world(session)
        hub = await session.get(Broadcast, world.hub_id)
        assert hub is not None
        hub.status = "live"
    await services.redis.xadd(ENDED_STREAM, {"broadcast_id": world.relay_a_id})

    assert await consume_ended(services, settle_seconds=0) == 1
    assert await tasks(services) == []
