"""Order intake under load: `make bench-orders` (python -m bench.orders [--viewers N] [--seconds S]).

Starts an embedded Redis, a SQLite database, two app nodes and a worker. Viewers connect to a
live room over the room socket (spread over both nodes) and

1. all order one flash-sale item with 500 units at once (one unit each);
2. then order an unlimited item for S seconds, each viewer at the room's order rate limit
   (live/ratelimit.py: 2 frames/s), measuring the time from send to order.accepted;
3. the same run drives the reserve script directly from this process, with the same number
   of concurrent tasks, for the direct rate.

Then it waits for the worker to drain the streams and checks the database. Last line:
`orders ratio=R accepted_per_s=N p50_ms=A p99_ms=B oversold=0 lost=0 duplicates=0`, where R is
the sustained accepted rate over the direct-script rate.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import uvloop
import websockets
from sqlalchemy import func, select

from attribution.models import Customer, Region, Store
from live.models import Broadcast, Room
from orders import scripts
from orders.deals import create_deal, launch_deal
from orders.keys import GROUP, DealKeys
from orders.models import Order, Product
from orders.schemas import DealCreate
from server.auth import Principal, Role
from server.migrate import upgrade
from server.model_base import utcnow
from server.redis import EmbeddedRedis
from server.services import Services, open_services
from server.settings import load_settings
from tests.support.processes import ServiceProcess, app_process, service_env, worker_process

FLASH_UNITS = 500
ORDER_INTERVAL_S = 0.5
"""One order per viewer every half second: the room socket's order.place limit is 2/s."""


@dataclass
class Seeded:
    room_id: int
    broadcast_id: int
    store_id: int
    customer_ids: list[int]
    flash_deal: int
    open_deal: int


async def seed(services: Services, viewers: int) -> Seeded:
    async with services.sessionmaker() as session, session.begin():
        region = Region(name="华东")
        session.add(region)
        await session.flush()
        store = Store(region_id=region.id, code="SH01", name="上海南京路店", city="上海")
        session.add(store)
        await session.flush()
        now = utcnow()
        hub = Broadcast(
            kind="hub",
            title="冬季新品秒杀",
            status="live",
            scheduled_start_at=now,
            scheduled_end_at=now + timedelta(hours=2),
            started_at=now,
        )
        session.add(hub)
        await session.flush()
        room = Room(broadcast_id=hub.id, store_id=store.id)
        customers = [
            Customer(openid=f"bench-{n}", nickname=f"林{n}", home_store_id=store.id)
            for n in range(viewers)
        ]
        products = [
            Product(sku="MD0001", name="双面羊绒大衣", list_price_fen=189900, stock=FLASH_UNITS),
            Product(sku="MD0009", name="纯棉白T恤", list_price_fen=12900, stock=10**9),
        ]
        session.add_all([room, *customers, *products])
        await session.flush()
        ids = (room.id, hub.id, store.id, [c.id for c in customers], [p.id for p in products])
    room_id, hub_id, store_id, customer_ids, product_ids = ids
    deals = []
    for product_id, stock, limit in ((product_ids[0], FLASH_UNITS, 1), (product_ids[1], 10**9, 0)):
        async with services.sessionmaker() as session:
            deal = await create_deal(
                session,
                DealCreate(
                    kind="flash_sale",
                    product_id=product_id,
                    broadcast_id=hub_id,
                    price_fen=9900,
                    stock=stock,
                    per_customer_limit=limit,
                ),
            )
            await launch_deal(session, services.redis, deal.id)
            deals.append(deal.id)
    return Seeded(room_id, hub_id, store_id, customer_ids, deals[0], deals[1])


@dataclass
class Viewer:
    socket: websockets.ClientConnection
    waiting: dict[str, asyncio.Future[dict[str, object]]] = field(default_factory=dict)

    async def read(self) -> None:
        try:
            async for message in self.socket:
                frame = json.loads(message)
                if frame["type"] in ("order.accepted", "order.rejected"):
                    future = self.waiting.pop(frame["idempotency_key"], None)
                    if future and not future.done():
                        future.set_result(frame)
                elif frame["type"] == "error":
                    for future in self.waiting.values():
                        if not future.done():
                            future.set_result(frame)
                    self.waiting.clear()
        except websockets.ConnectionClosed:
            pass

    async def order(self, key: str, deal_id: int) -> dict[str, object]:
        future: asyncio.Future[dict[str, object]] = asyncio.get_running_loop().create_future()
        self.waiting[key] = future
        await self.socket.send(
            json.dumps(
                {"type": "order.place", "idempotency_key": key, "deal_id": deal_id, "quantity": 1}
            )
        )
        return await asyncio.wait_for(future, 30)


async def connect(url: str) -> Viewer:
    for attempt in range(5):
        try:
            socket = await websockets.connect(
                url, compression=None, max_queue=None, open_timeout=60
            )
            break
        except (OSError, websockets.InvalidStatus, TimeoutError):
            if attempt == 4:
                raise
            await asyncio.sleep(0.2 * (attempt + 1))
    viewer = Viewer(socket)
    asyncio.get_running_loop().create_task(viewer.read())
    return viewer


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def direct_rate(services: Services, deal_id: int, tasks: int, seconds: float) -> float:
    """The reserve script driven straight from this process: calls per second."""
    keys = DealKeys(deal_id)
    counter = itertools.count()
    stop_at = time.monotonic() + seconds
    done = 0

    async def one() -> None:
        nonlocal done
        while time.monotonic() < stop_at:
            n = next(counter)
            now_ms = int(time.time() * 1000)
            await scripts.RESERVE(
                keys=[
                    keys.state,
                    keys.buyers,
                    keys.holds,
                    keys.idempotency(n % 997, f"d{n}"),
                    keys.stream,
                ],
                args=[
                    f"direct{n}",
                    n % 997,
                    1,
                    f"{deal_id}:1:",
                    now_ms,
                    900_000,
                    "",
                    "",
                    "",
                    f"d{n}",
                    600,
                ],
                client=services.redis,
            )
            done += 1

    started = time.monotonic()
    await asyncio.gather(*(one() for _ in range(tasks)))
    return done / (time.monotonic() - started)


async def until_drained(services: Services, deals: list[int], expected: int, within: float) -> None:
    """The worker is another process: poll the database and the streams until it caught up."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        async with services.sessionmaker() as session:
            count = await session.scalar(
                select(func.count()).select_from(Order).where(Order.deal_id.in_(deals))
            )
        pending = 0
        for deal in deals:
            info = await services.redis.xinfo_stream(DealKeys(deal).stream)
            groups = await services.redis.xinfo_groups(DealKeys(deal).stream)
            pending += info["length"] + sum(
                g["pending"] for g in groups if g["name"] == GROUP.encode()
            )
        if (count or 0) >= expected and pending == 0:
            return
        await asyncio.sleep(0.2)


async def run(viewers: int, seconds: float) -> str:
    workdir = Path(tempfile.mkdtemp(prefix="bench-orders-"))
    redis_server = EmbeddedRedis(workdir / "redis").start()
    database_url = f"sqlite+aiosqlite:///{workdir / 'storecast.db'}"
    await asyncio.to_thread(upgrade, database_url)
    env = service_env(database_url, redis_server.url, workdir / "var")
    services = await open_services(load_settings(env))
    processes: list[ServiceProcess] = []
    try:
        seeded = await seed(services, viewers)
        nodes = [app_process(f"app-{n}", env, workdir).start() for n in (1, 2)]
        worker = worker_process("worker", env, workdir).start()
        processes = [*nodes, worker]
        tokens = [
            services.signer.issue(Principal(Role.VIEWER, c, seeded.store_id))
            for c in seeded.customer_ids
        ]
        print(f"connecting {viewers} viewers to room {seeded.room_id} on two nodes ...", flush=True)
        sockets: list[Viewer] = []
        for start in range(0, viewers, 200):
            sockets += await asyncio.gather(
                *(
                    connect(f"{nodes[n % 2].ws_url}/ws/rooms/{seeded.room_id}?token={tokens[n]}")
                    for n in range(start, min(viewers, start + 200))
                )
            )

        # 1. the flash sale: everyone at once, one unit each, 500 units
        started = time.monotonic()
        flash = await asyncio.gather(
            *(v.order(f"flash-{n}", seeded.flash_deal) for n, v in enumerate(sockets))
        )
        flash_s = time.monotonic() - started
        flash_ok = [f for f in flash if f["type"] == "order.accepted"]
        reasons = sorted(
            {str(f.get("reason") or f.get("code")) for f in flash if f["type"] != "order.accepted"}
        )
        print(
            f"flash sale: {len(flash_ok)} accepted of {viewers} in {flash_s * 1000:.0f} ms; refused: {reasons}"
        )

        # 2. the sustained stream on the unlimited item, at the room's order rate
        accepted_ids = {str(f["order_id"]) for f in flash_ok}
        latencies: list[float] = []
        sustained_ok = 0
        refused: dict[str, int] = {}
        stop_at = time.monotonic() + seconds

        async def stream(n: int, viewer: Viewer) -> None:
            nonlocal sustained_ok
            await asyncio.sleep((n % 50) * ORDER_INTERVAL_S / 50)  # spread the first sends
            for k in itertools.count():
                if time.monotonic() >= stop_at:
                    return
                sent = time.monotonic()
                reply = await viewer.order(f"s{n}-{k}", seeded.open_deal)
                latencies.append((time.monotonic() - sent) * 1000)
                if reply["type"] == "order.accepted":
                    sustained_ok += 1
                    accepted_ids.add(str(reply["order_id"]))
                else:
                    reason = str(reply.get("reason") or reply.get("code"))
                    refused[reason] = refused.get(reason, 0) + 1
                await asyncio.sleep(max(0.0, ORDER_INTERVAL_S - (time.monotonic() - sent)))

        started = time.monotonic()
        await asyncio.gather(*(stream(n, v) for n, v in enumerate(sockets)))
        sustained_s = time.monotonic() - started
        rate = sustained_ok / sustained_s
        print(
            f"sustained: {sustained_ok} accepted in {sustained_s:.1f} s = {rate:.0f}/s; refused: {refused}"
        )
        for viewer in sockets:
            await viewer.socket.close()

        # 3. the same script, directly, same concurrency (a deal of its own)
        async with services.sessionmaker() as session:
            product = await session.scalar(select(Product.id).where(Product.sku == "MD0009"))
            direct_deal = await create_deal(
                session,
                DealCreate(
                    kind="flash_sale", product_id=int(product or 0), price_fen=9900, stock=10**9
                ),
            )
            await launch_deal(session, services.redis, direct_deal.id)
        await services.redis.srem(
            "orders:streams", direct_deal.id
        )  # not for the worker: ids are fake
        direct = await direct_rate(services, direct_deal.id, viewers, min(seconds, 10.0))
        print(f"direct script: {direct:.0f} calls/s with {viewers} concurrent tasks")

        # 4. the worker drains; check the database
        print("waiting for the worker to drain ...", flush=True)
        deals = [seeded.flash_deal, seeded.open_deal]
        await until_drained(services, deals, len(accepted_ids), within=300)
        async with services.sessionmaker() as session:
            in_db = list(await session.scalars(select(Order.id).where(Order.deal_id.in_(deals))))
            flash_units = await session.scalar(
                select(func.coalesce(func.sum(Order.quantity), 0)).where(
                    Order.deal_id == seeded.flash_deal
                )
            )
        lost = len(accepted_ids - set(in_db))
        duplicates = len(in_db) - len(set(in_db)) + len(set(in_db) - accepted_ids)
        flash_left = int(await services.redis.hget(DealKeys(seeded.flash_deal).state, "stock") or 0)
        oversold = max(0, int(flash_units or 0) - FLASH_UNITS) + max(0, -flash_left)
        ratio = rate / direct if direct else 0.0
        return (
            f"orders ratio={ratio:.2f} accepted_per_s={rate:.0f} p50_ms={statistics.median(latencies or [0]):.1f} "
            f"p99_ms={percentile(latencies, 0.99):.1f} oversold={oversold} lost={lost} duplicates={duplicates}"
        )
    finally:
        for process in processes:
            process.stop()
        await services.close()
        redis_server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    line = uvloop.run(run(args.viewers, args.seconds))
    print(line)


if __name__ == "__main__":
    main()
