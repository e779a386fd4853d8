"""A short soak of selling: `make bench-soak` (python -m bench.soak --help for the options).

An embedded Redis, a SQLite database and one real worker (the persister, the batched expiry
jobs, the stock notices). This process takes orders through the intake at a steady rate on
deals that end after `--sell` seconds, with a short pay window and no payments, so every order
expires; it writes chat authors as a room's chat lines do. Every five seconds it prints Redis'
used memory, the worker's resident memory, the arq queue and the expiry lag (how long the
oldest unpaid order past its pay-by has waited). Redis should stop growing once the deals end
and the worker's memory stay flat; the lag should stay within seconds.

Before that, a probe states Redis' bytes per order (its answer, its claim, its hold, its stream
entry) and per chat line, from MEMORY USAGE and `used_memory` over a few thousand of each.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import shutil
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from bench.processes import worker_process
from bench.stack import embedded_stack
from live.moderation import record_chat_author
from orders.intake import Accepted, IntakeRequest, OrderIntake, place_order
from orders.keys import DealKeys, idempotency_claim
from orders.models import Order
from orders.statuses import OrderStatus
from server import factories
from server.auth import Principal, Role
from server.model_base import utcnow
from server.services import Services

PAY_WITHIN_S = 20


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def used_memory(services: Services) -> int:
    return int((await services.redis.info("memory"))["used_memory"])


async def seed(
    services: Services, customers: int, deals: int, sell_s: int
) -> tuple[list[int], list[int], int]:
    async with services.sessionmaker() as session, session.begin():
        store = await factories.add_store(session)
        hub = await factories.add_broadcast(session, title="通宵秒杀", status="live")
        people = await factories.add_customers(session, customers, [store.id], "soak-")
        product = await factories.add_product(session)
    ends_ms = int((utcnow() + timedelta(seconds=sell_s)).timestamp() * 1000)
    deal_ids = []
    for _ in range(deals):
        async with services.sessionmaker() as session:
            deal_ids.append(
                await factories.open_deal(
                    session,
                    services.redis,
                    product.id,
                    stock=10**7,
                    broadcast_id=hub.id,
                    ends_at_ms=ends_ms,
                )
            )
    return [c.id for c in people], deal_ids, hub.id


async def probe(
    services: Services, intake: OrderIntake, customer_ids: list[int], deal_id: int, hub: int
) -> str:
    """Bytes Redis holds per order and per chat line."""
    n = 2000
    before = await used_memory(services)
    for i in range(n):
        await place_order(
            intake,
            IntakeRequest(
                customer_ids[i % len(customer_ids)], deal_id, 1, f"probe-{i}", broadcast_id=hub
            ),
        )
    per_order = (await used_memory(services) - before) / n
    keys = DealKeys(deal_id)
    answer = await services.redis.memory_usage(keys.idempotency(customer_ids[0], "probe-0")) or 0
    claim = await services.redis.memory_usage(idempotency_claim(customer_ids[0], "probe-0")) or 0
    before = await used_memory(services)
    author = Principal(Role.VIEWER, customer_ids[0], None)
    for offset in range(n):
        await record_chat_author(services.redis, hub, 10**6 + offset, author)
    per_line = (await used_memory(services) - before) / n
    return (
        f"probe: {per_order:.0f} B of Redis per order while it is unpaid (answer {answer} B, "
        f"claim {claim} B, its hold and stream entry the rest); {per_line:.0f} B per chat line"
    )


async def expiry_lag_s(services: Services) -> float:
    async with services.sessionmaker() as session:
        oldest = await session.scalar(
            select(func.min(Order.pay_by)).where(Order.status == OrderStatus.PENDING_PAYMENT)
        )
    if oldest is None:
        return 0.0
    return max(0.0, (utcnow() - oldest).total_seconds())


async def soak(rate: float, sell_s: int, after_s: int, customers: int) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="storecast-soak-"))
    try:
        async with embedded_stack(
            workdir, STORECAST_ORDERS_PAY_WITHIN_SECONDS=str(PAY_WITHIN_S)
        ) as stack:
            services = stack.services
            customer_ids, deals, hub = await seed(services, customers, 2, sell_s + 30)
            intake = OrderIntake(services)
            print(await probe(services, intake, customer_ids, deals[1], hub), flush=True)
            worker = worker_process("worker", stack.env, workdir).start()
            try:
                await asyncio.sleep(3)
                await run(
                    services,
                    intake,
                    worker.process.pid if worker.process else 0,
                    customer_ids,
                    deals[0],
                    hub,
                    rate,
                    sell_s,
                    after_s,
                )
            finally:
                worker.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


async def run(
    services: Services,
    intake: OrderIntake,
    worker_pid: int,
    customer_ids: list[int],
    deal_id: int,
    hub: int,
    rate: float,
    sell_s: int,
    after_s: int,
) -> None:
    counter = itertools.count()
    started = time.monotonic()
    accepted = 0

    async def sell() -> None:
        nonlocal accepted
        author = Principal(Role.VIEWER, customer_ids[0], None)
        while time.monotonic() - started < sell_s:
            n = next(counter)
            tick = started + n / rate
            await asyncio.sleep(max(0.0, tick - time.monotonic()))
            request = IntakeRequest(
                customer_ids[n % len(customer_ids)], deal_id, 1, f"s{n}", broadcast_id=hub
            )
            if isinstance(await place_order(intake, request), Accepted):
                accepted += 1
            if n % 3 == 0:
                await record_chat_author(services.redis, hub, n, author)

    seller = asyncio.create_task(sell())
    lags: list[float] = []
    print("t_s phase  redis_mb worker_rss_mb arq_queue expiry_lag_s accepted", flush=True)
    while time.monotonic() - started < sell_s + after_s:
        await asyncio.sleep(5)
        t = time.monotonic() - started
        lag = await expiry_lag_s(services)
        lags.append(lag)
        queue = await services.redis.zcard("arq:queue")
        print(
            f"{t:5.0f} {'sell' if t < sell_s else 'ended'} {await used_memory(services) / 2**20:8.1f} "
            f"{rss_mb(worker_pid):13.1f} {queue:9d} {lag:12.1f} {accepted}",
            flush=True,
        )
    await seller
    print(
        f"soak orders={accepted} rate_per_s={accepted / sell_s:.0f} pay_window_s={PAY_WITHIN_S} "
        f"max_expiry_lag_s={max(lags):.1f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=60.0, help="orders a second")
    parser.add_argument("--sell", type=int, default=120, help="seconds of selling")
    parser.add_argument("--after", type=int, default=90, help="seconds watched after the deals end")
    parser.add_argument("--customers", type=int, default=2000)
    args = parser.parse_args()
    asyncio.run(soak(args.rate, args.sell, args.after, args.customers))


if __name__ == "__main__":
    main()
