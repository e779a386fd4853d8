"""An idempotency key means the same in Redis and SQL: Redis keeps its answer while the deal can
take or answer an order (its end plus the pay window), then SQL answers; a key reused after
Redis forgot it is the first order's answer on that deal, or a new order that lands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from orders.intake import ANSWER_GRACE_S, Accepted, Rejected
from orders.keys import DealKeys, idempotency_claim
from orders.persister import OrderPersister
from server.services import Services
from tests.orders.conftest import Order_, World, count_orders, make_deal

pytestmark = pytest.mark.database

START = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1)


async def forget_key(services: Services, deal_id: int, customer_id: int, key: str) -> None:
    """What Redis does at the key's TTL, without waiting for it."""
    await services.redis.delete(
        DealKeys(deal_id).idempotency(customer_id, key), idempotency_claim(customer_id, key)
    )


async def test_a_key_lives_in_redis_until_its_deal_ends_plus_the_pay_window(
    services: Services, world: World, order: Order_
) -> None:
    with time_machine.travel(START, tick=False):
        ends = START + timedelta(hours=1)
        deal = await make_deal(services, world, ends_at_ms=int(ends.timestamp() * 1000))
        assert isinstance(await order(deal, key="tonight"), Accepted)
    pay_window_s = services.settings.orders.pay_within_seconds
    ttl_s = (
        await services.redis.pttl(DealKeys(deal).idempotency(world.customer_ids[0], "tonight"))
    ) / 1000
    expected = 3600 + pay_window_s + ANSWER_GRACE_S
    # Redis counts down in real time: the test took a few seconds at most.
    assert expected - 30 < ttl_s <= expected


async def test_a_deal_without_an_end_keeps_a_key_until_the_orders_pay_by(
    services: Services, world: World, order: Order_
) -> None:
    deal = await make_deal(services, world)
    assert isinstance(await order(deal, key="open"), Accepted)
    expected = services.settings.orders.pay_within_seconds + ANSWER_GRACE_S
    ttl_s = await services.redis.ttl(DealKeys(deal).idempotency(world.customer_ids[0], "open"))
    assert expected - 30 < ttl_s <= expected


async def test_a_key_reused_after_redis_forgot_it_gets_the_first_answer_from_sql(
    services: Services, world: World, order: Order_, persister: OrderPersister
) -> None:
    customer = world.customer_ids[0]
    with time_machine.travel(START, tick=False) as clock:
        ends = START + timedelta(hours=1)
        deal = await make_deal(services, world, ends_at_ms=int(ends.timestamp() * 1000))
        first = await order(deal, quantity=2, key="retry-me")
        assert isinstance(first, Accepted)
        await persister.drain()
        clock.move_to(ends + timedelta(hours=1))
        await forget_key(services, deal, customer, "retry-me")

        again = await order(deal, quantity=2, key="retry-me")
        other = await order(deal, quantity=3, key="retry-me")

    assert isinstance(again, Accepted) and again.repeated
    assert (again.order_id, again.amount_fen, again.pay_by_ms) == (
        first.order_id,
        first.amount_fen,
        first.pay_by_ms,
    )
    assert isinstance(other, Rejected) and other.reason == "idempotency_key_reused"
    assert await count_orders(services, idempotency_key="retry-me") == 1


async def test_a_key_reused_on_another_deal_after_redis_forgot_it_is_a_new_order_that_lands(
    services: Services, world: World, order: Order_, persister: OrderPersister
) -> None:
    customer = world.customer_ids[0]
    with time_machine.travel(START, tick=False) as clock:
        ends = START + timedelta(hours=1)
        tonight = await make_deal(services, world, ends_at_ms=int(ends.timestamp() * 1000))
        assert isinstance(await order(tonight, key="same-key"), Accepted)
        await persister.drain()
        clock.move_to(ends + timedelta(days=8))
        await forget_key(services, tonight, customer, "same-key")
        next_week = await make_deal(services, world)
        placed = await order(next_week, key="same-key")
        assert isinstance(placed, Accepted) and not placed.repeated
        await persister.drain()

    assert await count_orders(services, idempotency_key="same-key") == 2
    assert await count_orders(services, deal_id=next_week, idempotency_key="same-key") == 1
    assert await services.redis.xlen(DealKeys(next_week).dead) == 0


async def test_the_reconciliation_reads_only_the_answers_persisted_since_its_last_run(
    services: Services, world: World, order: Order_, persister: OrderPersister
) -> None:
    from orders.restore import restore_answers

    customer = world.customer_ids[0]
    deal = await make_deal(services, world)
    assert isinstance(await order(deal, key="early"), Accepted)
    await persister.drain()
    keys = DealKeys(deal)
    answer = keys.idempotency(customer, "early")
    await services.redis.delete(answer)
    assert await restore_answers(services, deal) == 1  # the first run reads the deal
    await services.redis.delete(answer)
    assert isinstance(await order(deal, customer=1, key="later"), Accepted)
    await persister.drain()
    # The cursor is past "early": only "later" is read, and its answer is there.
    assert await restore_answers(services, deal) == 0
    assert await services.redis.get(answer) is None
    # Redis losing its answers loses the cursor too: the deal is read from its start again.
    await services.redis.delete(keys.answers_cursor)
    assert await restore_answers(services, deal) == 1
