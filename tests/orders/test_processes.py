"""Real processes: two app nodes racing for the last units, and kill -9 of the worker and of
an app node. Nothing oversold, no accepted order lost, none written twice."""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import select

from bench.processes import ServiceProcess
from orders.intake import Accepted
from orders.keys import GROUP, DealKeys
from orders.models import Order
from server.auth import Role
from server.services import Services
from server.settings import load_settings
from tests.orders.conftest import Order_, World, make_deal, seed_world, stock_left

pytestmark = [pytest.mark.database, pytest.mark.slow]


@pytest.fixture
async def crowd(services: Services) -> World:
    """Enough customers that no one of them trips the HTTP order rate limit (5/s)."""
    return await seed_world(services, customers=2000)


async def db_order_ids(services: Services) -> list[str]:
    async with services.sessionmaker() as session:
        return list(await session.scalars(select(Order.id)))


async def until_persisted(
    services: Services, expected: set[str], within: float = 45.0
) -> list[str]:
    """Poll the database (another process writes it) until every expected order is there."""
    deadline = time.monotonic() + within
    while True:
        ids = await db_order_ids(services)
        if expected <= set(ids) or time.monotonic() > deadline:
            return ids
        await asyncio.sleep(0.1)


async def post_order(
    http: httpx.AsyncClient, node: ServiceProcess, token: str, deal: int, key: str, quantity: int
) -> dict[str, object] | None:
    try:
        response = await http.post(
            f"{node.url}/api/orders",
            json={"idempotency_key": key, "deal_id": deal, "quantity": quantity},
            headers={"Authorization": f"Bearer {token}"},
        )
    except httpx.TransportError:
        return None  # the node died with the request in flight: not accepted
    body: dict[str, object] = response.json()
    return body


async def test_no_oversell_when_two_nodes_race_for_the_last_units(
    services: Services,
    crowd: World,
    start_app_process: Callable[..., ServiceProcess],
    start_worker_process: Callable[..., ServiceProcess],
    token_for: Callable[..., str],
) -> None:
    deal = await make_deal(services, crowd, stock=60, per_customer_limit=0)
    nodes = [start_app_process(), start_app_process()]
    start_worker_process()
    tokens = [token_for(Role.VIEWER, c, crowd.store_id) for c in crowd.customer_ids]
    rng = random.Random(5)
    numbers = iter(range(300))
    replies: list[dict[str, object] | None] = []

    async def viewer(http: httpx.AsyncClient) -> None:
        for n in numbers:
            token, quantity = tokens[n], rng.randint(1, 3)
            replies.append(await post_order(http, nodes[n % 2], token, deal, f"k{n}", quantity))

    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=60), timeout=30) as http:
        await asyncio.gather(*(viewer(http) for _ in range(60)))
    accepted = [r for r in replies if r and r["type"] == "order.accepted"]
    refused = {r["reason"] for r in replies if r and r["type"] == "order.rejected"}
    assert refused == {"sold_out"}
    units = sum(int(r["amount_due_fen"]) // 9900 for r in accepted)  # type: ignore[call-overload]
    assert units <= 60 and units >= 58  # demand far above supply: sold out, less a remainder < 3
    assert units + await stock_left(services, deal) == 60
    ids = {str(r["order_id"]) for r in accepted}
    in_db = await until_persisted(services, ids)
    assert sorted(in_db) == sorted(ids)


async def test_kill_9_of_the_worker_mid_batch_loses_no_order_and_duplicates_none(
    services: Services,
    world: World,
    order: Order_,
    start_worker_process: Callable[..., ServiceProcess],
) -> None:
    deal = await make_deal(services, world, stock=100_000, per_customer_limit=0)
    placed = await asyncio.gather(*(order(deal, customer=n % 20) for n in range(3000)))
    ids = {p.order_id for p in placed if isinstance(p, Accepted)}
    assert len(ids) == 3000
    stream = DealKeys(deal).stream
    worker = start_worker_process()
    for _ in range(30_000):  # the worker is another process: watch its group, 30 s at most
        if (await services.redis.xpending(stream, GROUP))["pending"] > 0:
            break  # it has read a batch and not yet acknowledged it: mid-batch
        await asyncio.sleep(0.001)
    worker.kill9()
    written_before = len(await db_order_ids(services))
    pending = (await services.redis.xpending(stream, GROUP))["pending"]
    assert pending > 0 and written_before < 3000, "the kill came after the batch was done"
    start_worker_process()
    in_db = await until_persisted(services, ids)
    assert len(in_db) == len(set(in_db)) == 3000 and set(in_db) == ids


async def test_kill_9_of_an_app_node_loses_no_order_it_accepted(
    services: Services,
    crowd: World,
    start_app_process: Callable[..., ServiceProcess],
    start_worker_process: Callable[..., ServiceProcess],
    token_for: Callable[..., str],
) -> None:
    deal = await make_deal(services, crowd, stock=100_000, per_customer_limit=0)
    node = start_app_process()
    start_worker_process()
    tokens = [token_for(Role.VIEWER, c, crowd.store_id) for c in crowd.customer_ids]
    answered: list[dict[str, object]] = []

    numbers = iter(range(2000))
    enough = asyncio.Event()

    async def viewer(http: httpx.AsyncClient) -> None:
        for n in numbers:
            reply = await post_order(http, node, tokens[n % len(tokens)], deal, f"k{n}", 1)
            if reply is not None:
                answered.append(reply)
                if len(answered) >= 200:
                    enough.set()

    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=50), timeout=30) as http:
        storm = asyncio.gather(*(viewer(http) for _ in range(50)))
        await enough.wait()
        node.kill9()
        await storm
    ids = {str(r["order_id"]) for r in answered if r["type"] == "order.accepted"}
    assert 200 <= len(ids) < 2000
    in_db = await until_persisted(services, ids)
    # every order it answered `accepted` is there; orders it took but died before answering
    # may be there too (the client was never told, and will retry with its key)
    assert ids <= set(in_db) and len(in_db) == len(set(in_db))


async def test_the_worker_expires_unpaid_orders_through_their_job(
    expiring: Services,
    world: World,
    order: Order_,
    start_worker_process: Callable[..., ServiceProcess],
) -> None:
    deal = await make_deal(expiring, world, stock=10, per_customer_limit=0)
    placed = [await order(deal, customer=n, quantity=2, via=expiring) for n in range(3)]
    start_worker_process()  # persists them, and schedules their expiry at pay-by (now)
    for _ in range(300):  # the worker is another process: poll the database, 30 s at most
        async with expiring.sessionmaker() as session:
            statuses = set(await session.scalars(select(Order.status)))
        jobs = [key async for key in expiring.redis.scan_iter("arq:result:expire:*")]
        if statuses == {"expired"} and jobs:
            break
        await asyncio.sleep(0.1)
    assert statuses == {"expired"} and len(placed) == 3
    assert jobs, "the orders' expiry job never ran"
    assert await stock_left(expiring, deal) == 10


async def test_the_worker_lets_the_app_nodes_go_first_on_a_shared_cpu(
    services: Services,
    start_worker_process: Callable[..., ServiceProcess],
) -> None:
    """The worker lowers its own priority by STORECAST_WORKER_NICE (default 10): orders wait
    in the stream a moment longer under load, viewers' answers do not."""
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    production = load_settings({}).worker.nice
    assert production == 10
    # The suite's workers run at normal priority (tests/conftest.py); this one as in production.
    worker = start_worker_process(STORECAST_WORKER_NICE=str(production))
    assert worker.process is not None
    deadline = time.monotonic() + 30
    while os.getpriority(os.PRIO_PROCESS, worker.process.pid) != min(19, ours + production):
        assert time.monotonic() < deadline, "the worker never lowered its priority"
        assert worker.process.poll() is None, worker.log_path.read_text()[-2000:]
        await asyncio.sleep(0.1)  # another process: nothing to await but its state
