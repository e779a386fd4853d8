"""Groups rebuilt after Redis lost them: Redis emptied (FLUSHALL, then a restart) comes back as
a new Redis and the reconciliation rebuilds each deal it lacks; a Redis that restarted is
rebuilt by the restorer. Either way every group is put back from SQL, so a join to an open
group still works, a full group still refuses, a customer still can't open a second group,
and the group still forms."""

from __future__ import annotations

import pytest

from live.publish import LiveRooms
from orders.groups import GroupOrder, open_group
from orders.groups_models import GroupStatus
from orders.groups_terms import GroupKeys
from orders.intake import Rejected
from orders.reconcile import reconcile_deal
from orders.restore import restore_if_restarted
from server.services import Services
from tests.orders.conftest import World, intake_of, seed_world
from tests.orders.crashing_redis import CrashingRedis
from tests.orders.group_world import group_deal, group_row, joined, opened, pay, request
from tests.orders.test_redis_restart import crashing, on_crashing  # noqa: F401 (fixtures)

pytestmark = pytest.mark.database


async def group_state(services: Services, deal: int, group_ids: list[str]) -> dict[str, object]:
    keys = GroupKeys(deal)
    redis = services.redis
    state: dict[str, object] = {
        "member_of": await redis.hgetall(keys.member_of),  # type: ignore[misc]
        "order_groups": await redis.hgetall(keys.order_groups),  # type: ignore[misc]
    }
    for group_id in group_ids:
        group = await redis.hgetall(keys.group(group_id))  # type: ignore[misc]
        # The opening time SQL keeps is the app's, a few ms before the script's.
        state[group_id] = {k: v for k, v in group.items() if k != b"opened_ms"}
    return state


async def wake(services: Services, world: World, deal: int) -> None:
    """The first command on each connection the restart broke fails once; then it reconnects."""
    for _ in range(3):
        try:
            await services.redis.ping()
            await joined(services, world, deal, f"{deal}-abcdef", 7)
        except Exception:  # a broken connection: any of redis-py's errors
            continue


async def test_groups_are_rebuilt_after_redis_lost_everything(
    on_crashing: Services,  # noqa: F811
    crashing: CrashingRedis,  # noqa: F811
) -> None:
    services = on_crashing
    world = await seed_world(services, customers=8)
    deal = await group_deal(services, world, size=3)
    # Group A: its leader paid, a member not yet; group B: full, one member unpaid.
    a = await opened(services, world, deal, 0)
    a1 = await joined(services, world, deal, a.group_id, 1)
    b = await opened(services, world, deal, 2)
    b_members = [await joined(services, world, deal, b.group_id, c) for c in (3, 4)]
    assert isinstance(a1, GroupOrder) and all(isinstance(m, GroupOrder) for m in b_members)
    await pay(services, a)
    await pay(services, b)
    await pay(services, b_members[0])  # type: ignore[arg-type]
    before = await group_state(services, deal, [a.group_id, b.group_id])

    await services.redis.flushall()
    crashing.crash()
    crashing.restart()
    await wake(services, world, deal)
    lost = await joined(services, world, deal, a.group_id, 5)
    assert isinstance(lost, Rejected) and lost.reason == "deal_not_live"
    assert (await reconcile_deal(services, deal, rooms=LiveRooms(services.redis))).applied
    assert await group_state(services, deal, [a.group_id, b.group_id]) == before

    # A full group still refuses, a customer in an open group can't open another.
    full = await joined(services, world, deal, b.group_id, 5)
    assert isinstance(full, Rejected) and full.reason == "group_full"
    for customer in (0, 1):
        second = await open_group(intake_of(services), request(world, deal, customer), "")
        assert isinstance(second, Rejected) and second.reason == "already_in_group"
    # A join to the open group works, and the group forms when its seats are paid.
    last = await joined(services, world, deal, a.group_id, 5)
    assert isinstance(last, GroupOrder), last
    await pay(services, a1)
    await pay(services, last)
    assert (await group_row(services, a.group_id)).status == GroupStatus.FORMED


async def test_a_restarted_redis_keeps_its_groups_through_the_restorer(
    on_crashing: Services,  # noqa: F811
    crashing: CrashingRedis,  # noqa: F811
) -> None:
    services = on_crashing
    world = await seed_world(services, customers=8)
    deal = await group_deal(services, world, size=3)
    a = await opened(services, world, deal, 0)
    a1 = await joined(services, world, deal, a.group_id, 1)
    assert isinstance(a1, GroupOrder)
    await pay(services, a)
    before = await group_state(services, deal, [a.group_id])
    crashing.crash()
    crashing.restart()
    await wake(services, world, deal)
    refused = await joined(services, world, deal, a.group_id, 2)
    assert isinstance(refused, Rejected) and refused.reason == "retry"
    assert await restore_if_restarted(services)
    assert await group_state(services, deal, [a.group_id]) == before
    again = await open_group(intake_of(services), request(world, deal, 1), "")
    assert isinstance(again, Rejected) and again.reason == "already_in_group"
    assert isinstance(await joined(services, world, deal, a.group_id, 2), GroupOrder)
