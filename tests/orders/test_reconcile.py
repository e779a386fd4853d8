"""Reconciliation repairs the Redis counter from the database in both directions."""

from __future__ import annotations

import pytest

from live.publish import LiveRooms
from orders.intake import Accepted
from orders.keys import DealKeys
from orders.persister import OrderPersister
from orders.reconcile import reconcile_deal
from server.services import Services
from tests.orders.conftest import Order_, World, make_deal, stock_left
from tests.orders.test_payments import pay

pytestmark = pytest.mark.database


async def test_a_counter_that_drifted_up_is_lowered_so_nothing_is_oversold(
    services: Services, world: World, order: Order_, persister: OrderPersister
) -> None:
    deal = await make_deal(services, world, stock=10)
    placed = [await order(deal, customer=n) for n in range(3)]
    await persister.drain()
    for p in placed[:2]:
        assert isinstance(p, Accepted)
        await pay(services, p.order_id, p.amount_fen)
    await services.redis.hset(DealKeys(deal).state, "stock", 50)  # e.g. a lost decrement
    result = await reconcile_deal(services, deal, rooms=LiveRooms(services.redis))
    assert (result.stock_before, result.stock_after) == (50, 7)  # 10 - 2 paid - 1 held
    assert await stock_left(services, deal) == 7


async def test_a_counter_that_drifted_down_is_raised_so_nothing_is_undersold(
    services: Services, world: World, order: Order_, persister: OrderPersister
) -> None:
    deal = await make_deal(services, world, stock=10)
    await order(deal, quantity=2)
    await persister.drain()
    await services.redis.hset(DealKeys(deal).state, "stock", 1)  # e.g. a release that never ran
    result = await reconcile_deal(services, deal, rooms=LiveRooms(services.redis))
    assert (result.stock_before, result.stock_after) == (1, 8)


async def test_holds_of_orders_the_database_closed_are_released_or_settled(
    expiring: Services, world: World, order: Order_
) -> None:
    import time

    from orders.reconcile import HOLD_GRACE_MS

    deal = await make_deal(expiring, world, stock=10)
    gone = await order(deal, customer=0, via=expiring)
    paid = await order(deal, customer=1, via=expiring)
    assert isinstance(gone, Accepted) and isinstance(paid, Accepted)
    await OrderPersister(expiring).drain()
    await pay(expiring, paid.order_id, paid.amount_fen)
    keys = DealKeys(deal)
    # the paid order's hold survived a crash before it was dropped; the other order expired
    # in SQL but its units never went back, and a third hold belongs to no order at all
    old = int(time.time() * 1000) - HOLD_GRACE_MS - 1000
    await expiring.redis.hset(keys.holds, paid.order_id, f"1|{world.customer_ids[1]}|{old}|1")
    await expiring.redis.hset(keys.holds, "ghost", f"1|{world.customer_ids[2]}|{old}|1")
    await expiring.redis.hset(keys.holds, gone.order_id, f"1|{world.customer_ids[0]}|{old}|1")
    async with expiring.sessionmaker() as session, session.begin():
        from sqlalchemy import update

        from orders.models import Order

        await session.execute(
            update(Order).where(Order.id == gone.order_id).values(status="expired")
        )
    await expiring.redis.hincrby(keys.state, "stock", -1)  # the ghost's unit
    result = await reconcile_deal(expiring, deal, rooms=LiveRooms(expiring.redis))
    assert (result.holds_released, result.holds_settled) == (2, 1)
    assert await expiring.redis.hlen(keys.holds) == 0
    assert await stock_left(expiring, deal) == 9  # 10 - 1 paid


async def test_a_live_deal_redis_lost_is_reloaded_with_the_holds_of_its_unpaid_orders(
    services: Services, world: World, order: Order_, persister: OrderPersister
) -> None:
    deal = await make_deal(services, world, stock=10, per_customer_limit=3)
    unpaid = await order(deal, customer=0, quantity=2)
    paid = await order(deal, customer=1, quantity=3)
    assert isinstance(unpaid, Accepted) and isinstance(paid, Accepted)
    await persister.drain()
    await pay(services, paid.order_id, paid.amount_fen)
    keys = DealKeys(deal)
    await services.redis.delete(keys.state, keys.holds, keys.buyers)  # Redis lost the deal
    result = await reconcile_deal(services, deal, rooms=LiveRooms(services.redis))
    assert result.stock_after == 5 and await stock_left(services, deal) == 5
    assert await services.redis.hexists(keys.holds, unpaid.order_id)
    assert (await order(deal, customer=1)).reason == "limit_reached"  # type: ignore[union-attr]


async def test_a_deal_past_its_end_is_ended_by_the_periodic_check(
    services: Services, world: World, order: Order_
) -> None:
    import time

    from orders.reconcile import reconcile_all

    now_ms = int(time.time() * 1000)
    deal = await make_deal(services, world, starts_at_ms=now_ms - 60_000, ends_at_ms=now_ms - 1)
    await reconcile_all(services, rooms=LiveRooms(services.redis))
    async with services.sessionmaker() as session:
        from orders.models import Deal

        ended = await session.get(Deal, deal)
    assert ended is not None and ended.status == "ended"
    assert await services.redis.hget(DealKeys(deal).state, "status") == b"ended"


async def test_lost_customer_counts_and_idempotency_answers_are_put_back(
    services: Services, world: World, order: Order_, persister: OrderPersister
) -> None:
    deal = await make_deal(services, world, stock=10, per_customer_limit=2)
    kept = await order(deal, customer=0, quantity=2, key="mine")
    paid = await order(deal, customer=1, quantity=1)
    assert isinstance(kept, Accepted) and isinstance(paid, Accepted)
    await persister.drain()
    await pay(services, paid.order_id, paid.amount_fen)
    keys = DealKeys(deal)
    customer = world.customer_ids[0]
    # what a Redis that lost its last second looks like: counts and the key's answer gone
    await services.redis.delete(keys.buyers, keys.idempotency(customer, "mine"))
    await services.redis.delete(f"orders:idem:{customer}:mine")
    result = await reconcile_deal(services, deal, rooms=LiveRooms(services.redis))
    assert (result.customers_repaired, result.answers_repaired) == (2, 1)
    retried = await order(deal, customer=0, quantity=2, key="mine")
    assert isinstance(retried, Accepted) and retried.order_id == kept.order_id
    over = await order(deal, customer=0, quantity=1)
    assert not isinstance(over, Accepted) and over.reason == "limit_reached"


async def test_a_payment_committing_while_reconcile_reads_is_not_given_back_to_the_stock(
    services: Services, world: World, order: Order_, persister: OrderPersister
) -> None:
    """The payment commits in SQL after the reconciliation's first read of the orders and
    before its counter is written, and the payment's own Redis step (dropping its hold) has
    not run yet: that unit is sold, whichever read saw it."""
    from sqlalchemy import event, update
    from sqlalchemy.util import await_only

    from orders.models import Order

    deal = await make_deal(services, world, stock=10)
    placed = await order(deal)
    assert isinstance(placed, Accepted)
    await persister.drain()

    async def payment_commits() -> None:
        async with services.sessionmaker() as session, session.begin():
            await session.execute(
                update(Order).where(Order.id == placed.order_id).values(status="paid")
            )

    reads: list[str] = []

    def after_read(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if "FROM orders" in statement and not reads:
            reads.append(statement)
            await_only(payment_commits())  # runs inside the reconcile's own await

    engine = services.engine.sync_engine
    event.listen(engine, "after_cursor_execute", after_read)
    try:
        await reconcile_deal(services, deal, rooms=LiveRooms(services.redis))
    finally:
        event.remove(engine, "after_cursor_execute", after_read)
    assert reads, "the reconciliation read the orders"
    assert await stock_left(services, deal) == 9
