"""The persister: idempotent inserts, claims of a dead consumer's entries, dead letters."""

from __future__ import annotations

import pytest

from orders.intake import Accepted
from orders.keys import GROUP, DealKeys
from orders.models import Order
from orders.persister import MAX_DELIVERIES, OrderPersister
from server.services import Services
from tests.orders.conftest import Order_, World, count_orders, make_deal

pytestmark = pytest.mark.database


async def test_entries_a_dead_consumer_left_pending_are_claimed_and_written_once(
    services: Services, world: World, order: Order_
) -> None:
    deal = await make_deal(services, world, stock=50, per_customer_limit=0)
    for n in range(10):
        await order(deal, customer=n)
    stream = DealKeys(deal).stream
    # a consumer read them and died before its commit; another wrote half and died before XACK
    await services.redis.xreadgroup(GROUP, "dead-one", {stream: ">"}, count=10)
    survivor = OrderPersister(services, consumer="survivor", claim_idle_ms=0)
    assert await survivor.drain() == 10
    assert await survivor.drain() == 0
    assert await count_orders(services) == 10
    assert (await services.redis.xpending(stream, GROUP))["pending"] == 0


async def test_redelivered_entries_insert_nothing_new(
    services: Services, world: World, order: Order_
) -> None:
    deal = await make_deal(services, world, stock=50)
    placed = await order(deal)
    assert isinstance(placed, Accepted)
    entries = await services.redis.xrange(DealKeys(deal).stream)
    persister = OrderPersister(services, consumer="c")
    await persister.persist(DealKeys(deal).stream, entries)
    await persister.persist(DealKeys(deal).stream, entries)
    assert await count_orders(services) == 1


async def test_a_poison_entry_goes_to_the_dead_letter_stream_without_blocking_the_rest(
    services: Services, world: World, order: Order_
) -> None:
    deal = await make_deal(services, world, stock=50)
    keys = DealKeys(deal)
    await order(deal, customer=0)
    await services.redis.xadd(keys.stream, {"id": "poison", "customer": "99999"})
    await order(deal, customer=1)
    persister = OrderPersister(services, consumer="c", claim_idle_ms=0)
    for _ in range(MAX_DELIVERIES + 2):
        await persister.drain()
    assert await count_orders(services) == 2
    dead = await services.redis.xrange(keys.dead)
    assert [fields[b"id"] for _, fields in dead] == [b"poison"]
    assert (await services.redis.xpending(keys.stream, GROUP))["pending"] == 0


async def test_trimming_keeps_entries_still_pending_or_not_yet_read(
    services: Services, world: World, order: Order_
) -> None:
    deal = await make_deal(services, world, stock=50, per_customer_limit=0)
    stream = DealKeys(deal).stream
    for n in range(6):
        await order(deal, customer=n)
    persister = OrderPersister(services, consumer="c")
    await persister.step(block=False)  # creates the group, then reads and writes all six
    await persister.trim(stream)
    assert await services.redis.xlen(stream) == 0

    for n in range(6, 10):
        await order(deal, customer=n)
    # a consumer holds two without acknowledging them; two more are not read yet
    held = await services.redis.xreadgroup(GROUP, "slow-one", {stream: ">"}, count=2)
    await persister.trim(stream)
    assert await services.redis.xlen(stream) == 4
    assert [e[0] for e in await services.redis.xrange(stream, count=2)] == [
        e[0] for e in held[0][1]
    ]


async def test_an_order_outside_any_room_is_written_as_taken(
    services: Services, world: World, order: Order_
) -> None:
    deal = await make_deal(services, world, stock=50, price_fen=9900)
    placed = await order(deal, quantity=2, key="mini-program-1")
    assert isinstance(placed, Accepted)
    await OrderPersister(services, consumer="c").drain()
    async with services.sessionmaker() as session:
        row = await session.get(Order, placed.order_id)
    assert row is not None
    assert (row.idempotency_key, row.quantity, row.unit_price_fen, row.amount_fen) == (
        "mini-program-1",
        2,
        9900,
        19800,
    )
    assert (row.broadcast_id, row.room_store_id) == (None, world.store_id)
    assert int(row.pay_by.timestamp() * 1000) == placed.pay_by_ms


async def test_an_entry_written_before_the_packed_format_still_reaches_sql(
    services: Services, world: World
) -> None:
    deal = await make_deal(services, world, stock=50)
    persister = OrderPersister(services, consumer="c")
    await persister.drain()  # creates the group
    fields = {
        "id": "01900000000abcde0001",
        "customer": str(world.customer_ids[0]),
        "deal": str(deal),
        "product": str(world.product_id),
        "kind": "flash_sale",
        "quantity": "1",
        "price": "9900",
        "amount": "9900",
        "accepted_ms": "1764000000000",
        "pay_by_ms": "1764000900000",
        "broadcast": "",
        "room_store": str(world.store_id),
        "key": "old-format",
        "policy": "hold",
    }
    await services.redis.xadd(DealKeys(deal).stream, fields)  # type: ignore[arg-type]
    await persister.drain()
    async with services.sessionmaker() as session:
        row = await session.get(Order, fields["id"])
    assert row is not None
    assert (row.idempotency_key, row.broadcast_id, row.amount_fen) == ("old-format", None, 9900)
