"""A coupon pack sold as a group-buy (the chains' favourite hook, a group-buy of the 1.1-yuan
pack): the members get the pack's coupons when their group forms, each exactly once; a group
that runs out of time refunds its members and issues nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from live.publish import LiveRooms
from orders.coupons import DEMO_PACK_PARAMS
from orders.coupons_models import Coupon
from orders.deals import BadDeal
from orders.groups import GroupOrder, open_group
from orders.groups_models import GroupStatus
from orders.groups_settle import settle_group, sweep_groups
from orders.intake import Accepted, Rejected
from orders.models import Deal
from orders.persister import OrderPersister
from server.services import Services
from tests.orders.conftest import Order_, World, intake_of, make_deal
from tests.orders.group_world import (
    group_row,
    joined,
    opened,
    pay,
    request,
    run_out_of_time,
)

pytestmark = pytest.mark.database

YUAN = 100


async def pack_group_deal(services: Services, world: World, **params: object) -> int:
    """A group-buy of the demo's 1.1-yuan pack: groups of three, one pack per customer."""
    return await make_deal(
        services,
        world,
        kind="group_buy",
        price_fen=110,
        stock=100,
        params={"group_size": 3, "group_minutes": 30, **DEMO_PACK_PARAMS, **params},
    )


async def coupons_of(services: Services, order_id: str) -> list[tuple[int, int]]:
    async with services.sessionmaker() as session:
        rows = await session.execute(
            select(Coupon.amount_off_fen, Coupon.min_spend_fen)
            .where(Coupon.pack_order_id == order_id)
            .order_by(Coupon.position)
        )
        return [tuple(r) for r in rows.all()]  # type: ignore[misc]


async def coupon_count(services: Services) -> int:
    async with services.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(Coupon)) or 0)


DEMO_COUPONS = [(11100, 0), (30000, 100000), (30000, 100000), (40000, 130000)]


async def test_every_member_gets_the_packs_coupons_once_when_the_group_fills(
    services: Services, world: World
) -> None:
    deal = await pack_group_deal(services, world)
    leader = await opened(services, world, deal)
    members = [leader] + [await joined(services, world, deal, leader.group_id, c) for c in (1, 2)]
    assert all(isinstance(m, GroupOrder) for m in members)
    await pay(services, leader)
    await pay(services, members[1])  # type: ignore[arg-type]
    # Paid but not formed: no coupons yet, for anyone.
    assert await coupon_count(services) == 0
    await pay(services, members[2])  # type: ignore[arg-type]
    assert (await group_row(services, leader.group_id)).status == GroupStatus.FORMED
    for member in members:
        assert await coupons_of(services, member.order.order_id) == DEMO_COUPONS  # type: ignore[union-attr]
    # The deadline's job and the sweep after a formed group issue nothing more.
    rooms = LiveRooms(services.redis)
    await run_out_of_time(services, leader.group_id)
    assert await settle_group(services, leader.group_id, rooms=rooms) == GroupStatus.FORMED
    await sweep_groups(services, rooms=rooms)
    assert await coupon_count(services) == 3 * len(DEMO_COUPONS)


async def test_a_group_out_of_time_refunds_its_members_and_issues_no_coupons(
    services: Services, world: World
) -> None:
    rooms = LiveRooms(services.redis)
    deal = await pack_group_deal(services, world)
    leader = await opened(services, world, deal)
    second = await joined(services, world, deal, leader.group_id, 1)
    await pay(services, leader)
    await pay(services, second)  # type: ignore[arg-type]
    await run_out_of_time(services, leader.group_id)
    assert await settle_group(services, leader.group_id, rooms=rooms) == GroupStatus.FAILED
    await sweep_groups(services, rooms=rooms)
    assert await coupon_count(services) == 0


async def test_hq_auto_completion_gives_the_real_members_their_coupons(
    services: Services, world: World
) -> None:
    rooms = LiveRooms(services.redis)
    deal = await pack_group_deal(services, world, auto_complete_at=2)
    leader = await opened(services, world, deal)
    second = await joined(services, world, deal, leader.group_id, 1)
    await pay(services, leader)
    await pay(services, second)  # type: ignore[arg-type]
    await run_out_of_time(services, leader.group_id)
    assert await settle_group(services, leader.group_id, rooms=rooms) == GroupStatus.COMPLETED
    assert await settle_group(services, leader.group_id, rooms=rooms) == GroupStatus.COMPLETED
    assert await coupon_count(services) == 2 * len(DEMO_COUPONS)


async def test_the_coupons_of_a_formed_group_lower_the_next_order(
    services: Services, world: World, order: Order_, persister: OrderPersister
) -> None:
    deal = await pack_group_deal(services, world)
    leader = await opened(services, world, deal)
    members = [leader] + [await joined(services, world, deal, leader.group_id, c) for c in (1, 2)]
    for member in members:
        await pay(services, member)  # type: ignore[arg-type]
    async with services.sessionmaker() as session:
        ids = list(
            await session.scalars(
                select(Coupon.id)
                .where(Coupon.pack_order_id == leader.order.order_id)
                .order_by(Coupon.position)
            )
        )
    shoes = await make_deal(services, world, price_fen=2300 * YUAN, stock=5)
    placed = await order(shoes, customer=0, coupon_ids=tuple(ids))
    assert isinstance(placed, Accepted), placed
    assert placed.amount_fen == (2300 - 1111) * YUAN


async def test_a_member_of_a_formed_pack_group_cannot_claim_the_pack_again(
    services: Services, world: World
) -> None:
    deal = await pack_group_deal(services, world)
    leader = await opened(services, world, deal)
    members = [leader] + [await joined(services, world, deal, leader.group_id, c) for c in (1, 2)]
    for member in members:
        await pay(services, member)  # type: ignore[arg-type]
    again = await open_group(intake_of(services), request(world, deal, 0), "")
    assert isinstance(again, Rejected) and again.reason == "limit_reached"


async def test_a_pack_group_deal_checks_its_coupons_and_takes_one_pack_per_customer(
    services: Services, world: World
) -> None:
    terms = {"group_size": 3, "group_minutes": 30}
    with pytest.raises(BadDeal):
        await make_deal(services, world, kind="group_buy", params={**terms, "coupons": "nonsense"})
    deal = await make_deal(
        services,
        world,
        kind="group_buy",
        per_customer_limit=5,
        params={**terms, **DEMO_PACK_PARAMS},
    )
    async with services.sessionmaker() as session:
        stored = await session.get(Deal, deal)
        assert stored is not None and stored.per_customer_limit == 1
