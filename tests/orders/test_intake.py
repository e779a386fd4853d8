"""Order intake: the reserve script's checks, idempotency, and the trip into SQL."""

from __future__ import annotations

import asyncio

import pytest

from orders.intake import Accepted, Rejected
from orders.persister import OrderPersister
from server.services import Services
from tests.orders.conftest import Order_, World, count_orders, make_deal, stock_left

pytestmark = pytest.mark.database


async def test_an_accepted_order_reaches_the_database_once_persisted(
    services: Services, world: World, order: Order_, persister: OrderPersister
) -> None:
    deal = await make_deal(services, world, stock=5)
    placed = await order(deal, quantity=2)
    assert isinstance(placed, Accepted) and placed.amount_fen == 2 * 9900
    assert await stock_left(services, deal) == 3
    await persister.drain()
    assert await count_orders(services, id=placed.order_id, status="pending_payment") == 1


async def test_same_key_twice_gets_the_first_answer_and_reserves_once(
    services: Services, world: World, order: Order_, persister: OrderPersister
) -> None:
    deal = await make_deal(services, world, stock=5)
    first = await order(deal, quantity=2, key="tap-1")
    again = await order(deal, quantity=2, key="tap-1")
    assert isinstance(first, Accepted) and isinstance(again, Accepted)
    assert again.order_id == first.order_id and again.repeated
    assert await stock_left(services, deal) == 3
    await persister.drain()
    assert await count_orders(services) == 1


async def test_same_key_with_other_parameters_is_refused_and_changes_nothing(
    services: Services, world: World, order: Order_
) -> None:
    deal = await make_deal(services, world, stock=5)
    other_deal = await make_deal(services, world, stock=5)
    await order(deal, quantity=1, key="tap-1")
    reused = await order(deal, quantity=3, key="tap-1")
    elsewhere = await order(other_deal, quantity=1, key="tap-1")
    assert reused == Rejected("idempotency_key_reused", reused.detail)  # type: ignore[union-attr]
    assert isinstance(elsewhere, Rejected) and elsewhere.reason == "idempotency_key_reused"
    assert await stock_left(services, deal) == 4
    assert await stock_left(services, other_deal) == 5


async def test_a_key_that_lost_its_claim_stays_its_deals(
    services: Services, world: World, order: Order_
) -> None:
    deal = await make_deal(services, world, stock=5)
    other_deal = await make_deal(services, world, stock=5)
    await order(deal, quantity=1, key="tap-1")
    await services.redis.delete(f"orders:idem:{world.customer_ids[0]}:tap-1")  # expired early
    reused = await order(deal, quantity=3, key="tap-1")
    elsewhere = await order(other_deal, quantity=1, key="tap-1")
    assert isinstance(reused, Rejected) and reused.reason == "idempotency_key_reused"
    assert isinstance(elsewhere, Rejected) and elsewhere.reason == "idempotency_key_reused"
    assert await stock_left(services, other_deal) == 5


async def test_one_key_sent_at_once_to_two_deals_takes_one_order(
    services: Services, world: World, order: Order_
) -> None:
    deals = [await make_deal(services, world, stock=50) for _ in range(2)]
    for attempt in range(20):
        outcomes = await asyncio.gather(
            *(order(deal, quantity=1, key=f"tap-{attempt}") for deal in deals * 3)
        )
        taken = {o.order_id for o in outcomes if isinstance(o, Accepted)}
        assert len(taken) == 1
    taken_units = [50 - await stock_left(services, deal) for deal in deals]
    assert sum(taken_units) == 20


@pytest.mark.parametrize(
    ("quantity", "reason"),
    [
        (0, "invalid_quantity"),
        (-1, "invalid_quantity"),
        (100, "invalid_quantity"),
        (3, "limit_reached"),
    ],
)
async def test_bad_quantities_are_refused_and_reserve_nothing(
    services: Services, world: World, order: Order_, quantity: int, reason: str
) -> None:
    deal = await make_deal(services, world, stock=5, per_customer_limit=2)
    refused = await order(deal, quantity=quantity)
    assert isinstance(refused, Rejected) and refused.reason == reason
    assert await stock_left(services, deal) == 5


async def test_unknown_stopped_and_ended_deals_are_refused(
    services: Services, world: World, order: Order_
) -> None:
    import time

    now_ms = int(time.time() * 1000)
    stopped = await make_deal(services, world, launch=False)
    ended = await make_deal(services, world, starts_at_ms=now_ms - 60_000, ends_at_ms=now_ms - 1)
    later = await make_deal(services, world, starts_at_ms=now_ms + 60_000)
    assert (await order(999_999)).reason == "unknown_deal"  # type: ignore[union-attr]
    assert (await order(stopped)).reason == "deal_not_live"  # type: ignore[union-attr]
    assert (await order(ended)).reason == "deal_not_live"  # type: ignore[union-attr]
    assert (await order(later)).reason == "deal_not_live"  # type: ignore[union-attr]
    assert await stock_left(services, ended) == 10


async def test_coupons_and_bad_keys_are_refused(
    services: Services, world: World, order: Order_
) -> None:
    deal = await make_deal(services, world)
    assert (await order(deal, coupon_ids=(7,))).reason == "invalid_coupon"  # type: ignore[union-attr]
    assert (await order(deal, key="x" * 65)).reason == "invalid_request"  # type: ignore[union-attr]
    assert await stock_left(services, deal) == 10


async def test_a_refused_request_stores_no_answer_so_a_corrected_retry_goes_through(
    services: Services, world: World, order: Order_
) -> None:
    deal = await make_deal(services, world, stock=5, per_customer_limit=2)
    assert isinstance(await order(deal, quantity=3, key="tap-1"), Rejected)
    assert isinstance(await order(deal, quantity=2, key="tap-1"), Accepted)


async def test_the_last_units_go_to_the_first_and_then_it_is_sold_out(
    services: Services, world: World, order: Order_
) -> None:
    deal = await make_deal(services, world, stock=3, per_customer_limit=5)
    assert isinstance(await order(deal, customer=0, quantity=2), Accepted)
    short = await order(deal, customer=1, quantity=2)
    assert isinstance(short, Rejected) and short.reason == "sold_out"
    assert isinstance(await order(deal, customer=1, quantity=1), Accepted)
    assert (await order(deal, customer=2)).reason == "sold_out"  # type: ignore[union-attr]
    assert await stock_left(services, deal) == 0


async def test_a_stopped_deal_refuses_then_sells_again_when_relaunched_with_its_stock(
    services: Services, world: World, order: Order_
) -> None:
    from orders.deals import launch_deal, stop_deal

    deal = await make_deal(services, world, stock=5)
    await order(deal, quantity=2)
    async with services.sessionmaker() as session:
        await stop_deal(session, services.redis, deal)
    assert (await order(deal)).reason == "deal_not_live"  # type: ignore[union-attr]
    async with services.sessionmaker() as session:
        snapshot, _ = await launch_deal(session, services.redis, deal)
    assert snapshot.stock_left == 3
