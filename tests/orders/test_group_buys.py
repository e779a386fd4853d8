"""Group-buys: a group fills and is confirmed at once, runs out of time and is refunded once
per member, and every bad join is refused without changing anything."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from live.publish import LiveRooms
from orders.deals import BadDeal
from orders.groups import GroupOrder, open_group
from orders.groups_models import GroupStatus
from orders.groups_settle import settle_group, sweep_groups
from orders.groups_terms import GroupKeys
from orders.intake import Rejected
from orders.models import OrderEvent, Refund, RefundRequest
from orders.persister import OrderPersister
from server.services import Services
from tests.orders.conftest import Order_, World, intake_of, make_deal, stock_left
from tests.orders.group_world import (
    group_deal,
    group_row,
    joined,
    member_statuses,
    opened,
    pay,
    request,
    run_out_of_time,
    seats,
)

pytestmark = pytest.mark.database


async def events(services: Services, kind: str) -> int:
    async with services.sessionmaker() as session:
        query = select(func.count()).select_from(OrderEvent).where(OrderEvent.kind == kind)
        return int(await session.scalar(query) or 0)


async def refunds(services: Services) -> list[tuple[str, str]]:
    async with services.sessionmaker() as session:
        rows = await session.execute(select(RefundRequest.order_id, RefundRequest.reason))
        return sorted((o, r) for o, r in rows.all())


async def test_a_group_confirms_every_member_at_once_when_the_last_seat_pays(
    services: Services, world: World
) -> None:
    deal = await group_deal(services, world, size=3)
    leader = await opened(services, world, deal)
    others = [await joined(services, world, deal, leader.group_id, c) for c in (1, 2)]
    assert all(isinstance(o, GroupOrder) for o in others)
    assert leader.order.amount_fen == 1990
    await pay(services, leader)
    await pay(services, others[0])  # type: ignore[arg-type]
    assert (await group_row(services, leader.group_id)).status == GroupStatus.OPEN
    assert await events(services, "group_formed") == 0
    await pay(services, others[1])  # type: ignore[arg-type]
    assert (await group_row(services, leader.group_id)).status == GroupStatus.FORMED
    assert await events(services, "group_formed") == 3
    # Formed: its members may open another group of the deal.
    again = await open_group(intake_of(services), request(world, deal, 0), "")
    assert isinstance(again, GroupOrder)


async def test_a_full_group_refuses_a_joiner_and_changes_nothing(
    services: Services, world: World
) -> None:
    deal = await group_deal(services, world, size=2, stock=10)
    leader = await opened(services, world, deal)
    assert isinstance(await joined(services, world, deal, leader.group_id, 1), GroupOrder)
    before = await stock_left(services, deal)
    refused = await joined(services, world, deal, leader.group_id, 2)
    assert isinstance(refused, Rejected) and refused.reason == "group_full"
    assert await stock_left(services, deal) == before
    assert await seats(services, leader.group_id) == 2


async def test_an_expired_group_refuses_a_joiner(services: Services, world: World) -> None:
    deal = await group_deal(services, world)
    leader = await opened(services, world, deal)
    await run_out_of_time(services, leader.group_id)
    refused = await joined(services, world, deal, leader.group_id, 1)
    assert isinstance(refused, Rejected) and refused.reason == "group_expired"
    assert await seats(services, leader.group_id) == 1


async def test_a_group_of_another_deal_is_refused(services: Services, world: World) -> None:
    deal = await group_deal(services, world)
    other = await group_deal(services, world)
    leader = await opened(services, world, other)
    refused = await joined(services, world, deal, leader.group_id, 1)
    assert isinstance(refused, Rejected) and refused.reason == "foreign_group"
    made_up = await joined(services, world, deal, f"{deal}-000000000000", 1)
    assert isinstance(made_up, Rejected) and made_up.reason == "unknown_group"
    assert await stock_left(services, deal) == 100


async def test_no_customer_is_in_two_open_groups_of_one_deal(
    services: Services, world: World
) -> None:
    deal = await group_deal(services, world)
    first = await opened(services, world, deal, customer=0)
    second = await opened(services, world, deal, customer=1)
    again = await open_group(intake_of(services), request(world, deal, 0), "")
    assert isinstance(again, Rejected) and again.reason == "already_in_group"
    crossing = await joined(services, world, deal, second.group_id, 0)
    assert isinstance(crossing, Rejected) and crossing.reason == "already_in_group"
    assert (await seats(services, first.group_id), await seats(services, second.group_id)) == (1, 1)
    assert await stock_left(services, deal) == 98


async def test_a_group_deal_sells_only_through_groups_and_needs_its_terms(
    services: Services, world: World, order: Order_
) -> None:
    deal = await group_deal(services, world)
    plain = await order(deal)
    assert isinstance(plain, Rejected) and plain.reason == "group_only"
    flash = await make_deal(services, world)
    refused = await open_group(intake_of(services), request(world, flash, 0), "")
    assert isinstance(refused, Rejected) and refused.reason == "not_a_group_deal"
    with pytest.raises(BadDeal, match="group_size"):
        await make_deal(services, world, kind="group_buy", params={"group_minutes": 5})


async def test_a_retried_open_gets_its_first_group(services: Services, world: World) -> None:
    deal = await group_deal(services, world)
    first = await open_group(intake_of(services), request(world, deal, 0, key="same"), "")
    retry = await open_group(intake_of(services), request(world, deal, 0, key="same"), "")
    assert isinstance(first, GroupOrder) and isinstance(retry, GroupOrder)
    assert retry.group_id == first.group_id and retry.order.repeated
    # One settlement job at the group's deadline, for the worker.
    due_ms = await services.redis.zscore("arq:queue", f"group:{first.group_id}")
    deadline = (await group_row(services, first.group_id)).deadline
    assert due_ms == int(deadline.timestamp() * 1000)


async def test_an_unfilled_group_refunds_each_paid_member_exactly_once(
    services: Services, world: World
) -> None:
    rooms = LiveRooms(services.redis)
    deal = await group_deal(services, world, size=4, stock=10)
    leader = await opened(services, world, deal)
    members = [leader] + [await joined(services, world, deal, leader.group_id, c) for c in (1, 2)]
    for member in members:
        await pay(services, member)  # type: ignore[arg-type]
    assert await stock_left(services, deal) == 7
    await run_out_of_time(services, leader.group_id)
    assert await settle_group(services, leader.group_id, rooms=rooms) == GroupStatus.FAILED
    # The job again, and the sweep: nothing more.
    await settle_group(services, leader.group_id, rooms=rooms)
    await sweep_groups(services, rooms=rooms)
    paid_orders = sorted(m.order.order_id for m in members)  # type: ignore[union-attr]
    assert await refunds(services) == [(o, "group_failed") for o in paid_orders]
    assert sorted(await member_statuses(services, leader.group_id)) == ["refunded"] * 3
    assert await stock_left(services, deal) == 10


async def test_a_sweep_finishes_refunds_a_killed_run_left_half_done(
    services: Services, world: World
) -> None:
    rooms = LiveRooms(services.redis)
    deal = await group_deal(services, world, size=5)
    leader = await opened(services, world, deal)
    members = [leader] + [
        await joined(services, world, deal, leader.group_id, c) for c in (1, 2, 3)
    ]
    for member in members:
        await pay(services, member)  # type: ignore[arg-type]
    await run_out_of_time(services, leader.group_id)
    # A run that marked the group failed and refunded one member before it died:
    from orders.refunds import refund_order

    async with services.sessionmaker() as session, session.begin():
        group = await session.get(type(await group_row(services, leader.group_id)), leader.group_id)
        assert group is not None
        group.status = GroupStatus.FAILED
    await refund_order(services, leader.order.order_id, reason="group_failed")
    assert await sweep_groups(services, rooms=rooms) == 1
    await sweep_groups(services, rooms=rooms)
    assert len(await refunds(services)) == 4
    async with services.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Refund)) == 4


async def test_hq_auto_completion_keeps_a_group_with_enough_real_members(
    services: Services, world: World
) -> None:
    rooms = LiveRooms(services.redis)
    deal = await group_deal(services, world, size=5, auto_complete_at=2)
    leader = await opened(services, world, deal)
    second = await joined(services, world, deal, leader.group_id, 1)
    await pay(services, leader)
    await pay(services, second)  # type: ignore[arg-type]
    await run_out_of_time(services, leader.group_id)
    assert await settle_group(services, leader.group_id, rooms=rooms) == GroupStatus.COMPLETED
    assert await refunds(services) == []
    assert await events(services, "group_completed") == 2
    assert sorted(await member_statuses(services, leader.group_id)) == ["paid", "paid"]


async def test_a_member_who_never_pays_gives_the_seat_back(
    expiring: Services, world: World
) -> None:
    deal = await group_deal(expiring, world, size=2)
    leader = await opened(expiring, world, deal)
    late = await joined(expiring, world, deal, leader.group_id, 1)
    assert isinstance(late, GroupOrder)
    assert isinstance(await joined(expiring, world, deal, leader.group_id, 2), Rejected)
    await OrderPersister(expiring).drain()
    from orders.expiry import expire_order

    assert await expire_order(expiring, late.order.order_id)
    assert await seats(expiring, leader.group_id) == 1
    assert isinstance(await joined(expiring, world, deal, leader.group_id, 2), GroupOrder)
    # The one who let the seat go may open a group of their own.
    assert isinstance(await open_group(intake_of(expiring), request(world, deal, 1), ""), GroupOrder)


async def test_many_joining_at_once_never_overfill_a_group(
    services: Services, world: World
) -> None:
    deal = await group_deal(services, world, size=5)
    leader = await opened(services, world, deal)
    for c in (1, 2, 3):
        assert isinstance(await joined(services, world, deal, leader.group_id, c), GroupOrder)
    replies = await asyncio.gather(
        *(joined(services, world, deal, leader.group_id, c) for c in range(4, 20))
    )
    assert sum(isinstance(r, GroupOrder) for r in replies) == 1
    assert {r.reason for r in replies if isinstance(r, Rejected)} == {"group_full"}
    assert await seats(services, leader.group_id) == 5
    members = await services.redis.hkeys(GroupKeys(deal).group(leader.group_id))  # type: ignore[misc]
    assert sum(k.startswith(b"m:") for k in members) == 5


async def test_a_payment_after_the_seat_went_to_someone_else_is_refunded_not_seated(
    expiring: Services, world: World
) -> None:
    deal = await group_deal(expiring, world, size=2)
    leader = await opened(expiring, world, deal)
    late = await joined(expiring, world, deal, leader.group_id, 1)
    assert isinstance(late, GroupOrder)
    await OrderPersister(expiring).drain()
    from orders.expiry import expire_order

    assert await expire_order(expiring, late.order.order_id)
    taker = await joined(expiring, world, deal, leader.group_id, 2)
    assert isinstance(taker, GroupOrder)
    result = await pay(expiring, late)
    assert result.outcome == "refunded_late"
    assert await member_statuses(expiring, leader.group_id) == []
    assert await refunds(expiring) == [(late.order.order_id, "paid_after_group_seat_lost")]
    await pay(expiring, leader)
    await pay(expiring, taker)
    assert (await group_row(expiring, leader.group_id)).status == GroupStatus.FORMED
    assert sorted(await member_statuses(expiring, leader.group_id)) == ["paid", "paid"]
