"""Order intake under load: `make bench-orders` (python -m bench.orders --help for the options).

Starts an embedded Redis, a SQLite database, two app nodes and a worker, then

1. drives the reserve script directly from this process, with as many concurrent tasks as
   there are viewers, for the direct rate D and its CPU per call (the nodes are idle
   meanwhile), then drops that deal's keys so they do not weigh on the later phases' AOF
   rewrites;
2. connects the viewers to a live room over the room socket (spread over both nodes): enough
   of them that the room's per-viewer order rate limit never caps the highest offer; they all
   order one flash-sale item with 500 units at once (one unit each);
3. steps the offered load up on an unlimited item (bench/capacity.py): L x D orders a second
   for a few seconds per step (L = 0.2, 0.3, ... 1.0 by default), each viewer at its own
   steady pace and never more than one order in flight, timing each order from send to
   order.accepted, until the p99 passes 100 ms or the accepted rate falls below 90 % of the
   offer. Each step prints its rates, waits and server CPU per accepted order.

Redis is configured as the embedded default is. Its AOF rewrites are printed with the steps:
`--rewrite-at T` starts one T seconds into the stepping, to show what one costs, and
`--aof-rewrite-min-mb 64` puts back Redis' own threshold.

Then it waits for the worker to drain the streams, checks the database, and drives the script
directly again for a few seconds: when that rate moved by more than 15 %, the machine's speed
changed during the run and it says so. The line before the last is the group-join storm's
(bench/group_storm.py). Last line: the highest step held,
`orders held_ratio=R accepted_per_s=N p50_ms=A p99_ms=B oversold=0 lost=0 duplicates=0
cpu_us_per_order=... direct_cpu_us_per_call=...`, where R is that step's accepted rate over
the direct-script rate (0 when even the first step was not held).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import math
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import uvloop
from sqlalchemy import func, select

from bench.capacity import Step, step_up
from bench.group_storm import SIZE as GROUP_SIZE
from bench.group_storm import group_storm
from bench.measure import cpu_now, cpu_percent, cpu_text
from bench.order_client import OrderConnection, connect
from bench.processes import ServiceProcess, app_process, worker_process
from bench.stack import embedded_stack, until_no_aof_rewrite
from live.ratelimit import FRAME_LIMITS
from orders import scripts
from orders.keys import GROUP, STREAMS_KEY, DealKeys
from orders.models import Order, Product
from server import factories
from server.auth import Principal, Role
from server.redis import EmbeddedRedis
from server.services import Services
from server.settings import RedisSettings

FLASH_UNITS = 500
ROOM_ORDER_RATE = FRAME_LIMITS["order.place"].rate
"""A viewer's orders a second the room socket lets through (live/ratelimit.py)."""
PHASE_TIMEOUT_S = 60
"""An order phase that has not ended this long after it should have is stuck: fail the run."""
DIRECT_S = 8.0
DIRECT_AGAIN_S = 5.0
BASE_VIEWERS = 2000
"""The direct script's concurrent tasks, and the fewest viewers."""
DEFAULT_LOADS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
DRIFT = 0.15
"""Beyond this change of the direct rate between the first and last phase, the run says so."""


@dataclass
class Seeded:
    room_id: int
    broadcast_id: int
    store_id: int
    customer_ids: list[int]
    flash_deal: int
    open_deal: int


async def seed(services: Services, viewers: int) -> Seeded:
    """A live hub broadcast whose room is a store's, `viewers` members of that store, and two
    launched flash sales: `FLASH_UNITS` coats one each, and tees that never run out."""
    async with services.sessionmaker() as session, session.begin():
        store = await factories.add_store(session)
        hub = await factories.add_broadcast(session, title="冬季新品秒杀", status="live")
        room = await factories.add_room(session, hub.id, store.id)
        customers = await factories.add_customers(session, viewers, [store.id], "bench-")
        coat = await factories.add_product(session)
        tee = await factories.add_product(
            session, sku="MD0009", name="纯棉白T恤", list_price_fen=12900
        )
        ids = (room.id, hub.id, store.id, [c.id for c in customers], coat.id, tee.id)
    room_id, hub_id, store_id, customer_ids, coat_id, tee_id = ids
    deals = []
    for product_id, stock, limit in ((coat_id, FLASH_UNITS, 1), (tee_id, 10**9, 0)):
        async with services.sessionmaker() as session:
            deal_id = await factories.open_deal(
                session,
                services.redis,
                product_id,
                broadcast_id=hub_id,
                stock=stock,
                per_customer_limit=limit,
            )
            deals.append(deal_id)
    return Seeded(room_id, hub_id, store_id, customer_ids, deals[0], deals[1])


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
        behind = 0
        for deal in deals:
            info = await services.redis.xinfo_stream(DealKeys(deal).stream)
            groups = await services.redis.xinfo_groups(DealKeys(deal).stream)
            for group in groups:
                if group["name"] == GROUP.encode():
                    behind += group["pending"]
                    behind += group["last-delivered-id"] != info["last-generated-id"]
        if (count or 0) >= expected and behind == 0:
            return
        await asyncio.sleep(0.2)


async def direct_phase(services: Services, viewers: int, seconds: float) -> float:
    """The reserve script straight from this process, on a deal of its own; calls per second."""
    async with services.sessionmaker() as session:
        async with session.begin():  # ended before the deal's own transaction
            product = await session.scalar(select(Product.id).where(Product.sku == "MD0009"))
        direct_deal = await factories.open_deal(
            session, services.redis, int(product or 0), stock=10**9
        )
    await services.redis.srem(STREAMS_KEY, direct_deal)  # not for the worker: fake orders
    rate = await direct_rate(services, direct_deal, viewers, seconds)
    await forget_deal(services, direct_deal)
    return rate


async def forget_deal(services: Services, deal_id: int) -> None:
    """Drop a deal's Redis keys: the direct phase's tens of thousands of fake orders (stream
    entries, holds, idempotency records) would otherwise sit in every later AOF rewrite of
    the measured phase, which forks Redis and serializes all it holds."""
    async for key in services.redis.scan_iter(match=f"{DealKeys(deal_id).tag}:*", count=1000):
        await services.redis.unlink(key)


async def connect_viewers(
    services: Services, seeded: Seeded, nodes: list[ServiceProcess]
) -> list[OrderConnection]:
    tokens = [
        services.signer.issue(Principal(Role.VIEWER, c, seeded.store_id))
        for c in seeded.customer_ids
    ]
    sockets: list[OrderConnection] = []
    for start in range(0, len(tokens), 200):
        sockets += await asyncio.gather(
            *(
                connect(f"{nodes[n % 2].ws_url}/ws/rooms/{seeded.room_id}?token={tokens[n]}")
                for n in range(start, min(len(tokens), start + 200))
            )
        )
    return sockets


async def compact_aof(services: Services) -> None:
    """Rewrite Redis' append-only file now and wait for it: the direct phase wrote tens of MB
    to it, and Redis rewrites it in a forked child once it has doubled, which on two shared
    cores would otherwise land in the middle of the measured phase."""
    await until_no_aof_rewrite(services, 0.2)  # Redis may have started one of its own
    await services.redis.bgrewriteaof()
    await until_no_aof_rewrite(services, 0.2)


async def watch_rewrites(services: Services, started: float, spans: list[list[float]]) -> None:
    """Note when Redis rewrites its AOF (seconds into the phase): the child serializes the
    whole dataset on one of the two cores, and the slowest seconds often line up with it."""
    while True:
        info = await services.redis.info("persistence")
        running = bool(info["aof_rewrite_in_progress"])
        at = time.monotonic() - started
        if running and (not spans or spans[-1][1]):
            spans.append([at, 0.0])
        elif not running and spans and not spans[-1][1]:
            spans[-1][1] = at
        await asyncio.sleep(0.1)


async def redis_costs(services: Services) -> str:
    """Redis' own time per call of the commands an order costs it (INFO commandstats):
    the reserve script (EVALSHA, its commands included), the claim (SET, GET, with the
    script's own SET and GET mixed in), and the persister's reads, acks and trims."""
    stats = await services.redis.info("commandstats")
    named = ("evalsha", "set", "get", "xreadgroup", "xack", "xtrim")
    return " ".join(
        f"{name} {stats[f'cmdstat_{name}']['usec_per_call']:.1f}"
        for name in named
        if f"cmdstat_{name}" in stats
    )


def cpu_pids(processes: list[ServiceProcess], redis_server: EmbeddedRedis) -> dict[str, int]:
    pids = {p.name: p.process.pid for p in processes if p.process is not None}
    if redis_server.process is not None:
        pids["redis"] = redis_server.process.pid
    return {**pids, "clients": os.getpid(), "machine": 0}


@dataclass(frozen=True)
class Options:
    viewers: int
    seconds: float
    loads: list[float]
    worker_nice: int | None
    aof_rewrite_min_mb: int
    rewrite_at: float | None


async def rewrite_at(services: Services, seconds: float) -> None:
    await asyncio.sleep(seconds)
    await services.redis.bgrewriteaof()


async def more_viewers(services: Services, seeded: Seeded, count: int) -> None:
    """Members of the room's store up to `count`: the offer must not meet the rate limit."""
    missing = count - len(seeded.customer_ids)
    if missing > 0:
        async with services.sessionmaker() as session, session.begin():
            more = await factories.add_customers(session, missing, [seeded.store_id], "more-")
            seeded.customer_ids += [c.id for c in more]


def viewers_needed(options: Options, direct: float) -> int:
    """Enough viewers that the highest step's offer stays under the room's rate limit."""
    if options.viewers:
        return options.viewers
    return max(BASE_VIEWERS, math.ceil(max(options.loads) * direct / ROOM_ORDER_RATE * 1.1))


def highest_held(steps: list[Step]) -> Step | None:
    held = [step for step in steps if step.held]
    return held[-1] if held else None


async def run(options: Options) -> str:
    seconds = options.seconds
    workdir = Path(tempfile.mkdtemp(prefix="bench-orders-"))
    processes: list[ServiceProcess] = []
    try:
        settings = {}
        if options.worker_nice is not None:
            settings["STORECAST_WORKER_NICE"] = str(options.worker_nice)
        redis_settings = RedisSettings(aof_rewrite_min_mb=options.aof_rewrite_min_mb)
        async with embedded_stack(workdir, redis_settings, **settings) as stack:
            services, redis_server, env = stack.services, stack.redis_server, stack.env
            try:
                tasks = options.viewers or BASE_VIEWERS
                seeded = await seed(services, tasks)

                # 1. the script, directly, with as many concurrent tasks as there are viewers
                pids = cpu_pids(processes, redis_server)
                started, cpu0 = time.monotonic(), cpu_now(pids)
                direct = await direct_phase(services, tasks, DIRECT_S)
                cpu1 = cpu_now(pids)
                elapsed = time.monotonic() - started
                cpu = cpu_percent({n: cpu1[n] - cpu0[n] for n in pids}, elapsed)
                calls = direct * DIRECT_S
                direct_us = {n: 1e6 * (cpu1[n] - cpu0[n]) / calls for n in ("redis", "clients")}
                print(f"direct script: {direct:.0f} calls/s with {tasks} concurrent tasks")
                print(f"  cpu (of one core): {cpu_text(cpu)}", flush=True)

                viewers = viewers_needed(options, direct)
                await more_viewers(services, seeded, viewers)
                await compact_aof(services)
                nodes = [app_process(f"app-{n}", env, workdir).start() for n in (1, 2)]
                processes = [*nodes, worker_process("worker", env, workdir).start()]
                print(
                    f"connecting {viewers} viewers to room {seeded.room_id} on two nodes ...",
                    flush=True,
                )
                sockets = await connect_viewers(services, seeded, nodes)

                # 2. the flash sale: everyone at once, one unit each, 500 units
                started = time.monotonic()
                async with asyncio.timeout(PHASE_TIMEOUT_S):
                    flash = await asyncio.gather(
                        *(v.order(f"flash-{n}", seeded.flash_deal) for n, v in enumerate(sockets))
                    )
                flash_ms = (time.monotonic() - started) * 1000
                flash_ok = [f for f in flash if f.type == "order.accepted"]
                reasons = sorted({f.reason or f.code for f in flash if f.type != "order.accepted"})
                print(
                    f"flash sale: {len(flash_ok)} accepted of {viewers} in {flash_ms:.0f} ms; refused: {reasons}"
                )

                # 3. the offer stepped up on the unlimited item until it is no longer held
                limit = viewers * ROOM_ORDER_RATE
                loads = [load for load in options.loads if load * direct <= limit]
                if len(loads) < len(options.loads):
                    print(f"  note: {viewers} viewers offer at most {limit:.0f}/s; steps cut")
                pids = cpu_pids(processes, redis_server)
                await services.redis.config_resetstat()  # command costs of this phase only
                rewrites: list[list[float]] = []
                watchers = [
                    asyncio.create_task(watch_rewrites(services, time.monotonic(), rewrites))
                ]
                if options.rewrite_at is not None:
                    watchers.append(asyncio.create_task(rewrite_at(services, options.rewrite_at)))
                gc.freeze()  # the generator's own collections would show as the system's waits
                gc.disable()
                try:
                    steps = await step_up(sockets, seeded.open_deal, loads, direct, seconds, pids)
                finally:
                    gc.enable()
                    for watcher in watchers:
                        watcher.cancel()
                spans = ", ".join(
                    f"{a:.1f}-{b:.1f} s" if b else f"from {a:.1f} s" for a, b in rewrites
                )
                print(
                    f"  Redis AOF rewrites (a forked child on a core): {len(rewrites)} {spans}".rstrip()
                )
                print(f"  Redis, us per call: {await redis_costs(services)}")
                await asyncio.gather(*(viewer.close() for viewer in sockets))

                # 4. the worker drains; check the database
                print("waiting for the worker to drain ...", flush=True)
                accepted_ids = {f.order_id for f in flash_ok}
                for step in steps:
                    accepted_ids |= step.accepted_ids
                deals = [seeded.flash_deal, seeded.open_deal]
                drain_started = time.monotonic()
                await until_drained(services, deals, len(accepted_ids), within=300)
                print(
                    f"  the worker had the last order in SQL {time.monotonic() - drain_started:.1f} s after"
                )
                async with services.sessionmaker() as session:
                    in_db = list(
                        await session.scalars(select(Order.id).where(Order.deal_id.in_(deals)))
                    )
                    flash_units = await session.scalar(
                        select(func.coalesce(func.sum(Order.quantity), 0)).where(
                            Order.deal_id == seeded.flash_deal
                        )
                    )
                # 5. the direct rate again, everything else idle: the machine's speed drifts
                # (docs/benchmarks.md), and a run it drifted in does not compare with others.
                again = await direct_phase(services, tasks, DIRECT_AGAIN_S)
                print(
                    f"direct script again: {again:.0f} calls/s ({again / direct:.0%} of the first)"
                    + ("" if abs(again / direct - 1) <= DRIFT else "; the machine's speed moved")
                )
                # 6. the group-join storm, on the same direct footing (bench/group_storm.py)
                async with services.sessionmaker() as session:
                    tee = await session.scalar(select(Product.id).where(Product.sku == "MD0009"))
                leaders = seeded.customer_ids[: max(1, tasks // GROUP_SIZE)]
                print(await group_storm(services, int(tee or 0), leaders, tasks, again))
                lost = len(accepted_ids - set(in_db))
                duplicates = len(in_db) - len(set(in_db)) + len(set(in_db) - accepted_ids)
                flash_left = int(
                    await services.redis.hget(DealKeys(seeded.flash_deal).state, "stock") or 0
                )
                oversold = max(0, int(flash_units or 0) - FLASH_UNITS) + max(0, -flash_left)
                best = highest_held(steps)
                held = (
                    f"held_ratio={best.accepted_per_s / direct:.2f} load={best.load:.2f} "
                    f"accepted_per_s={best.accepted_per_s:.0f} "
                    f"p50_ms={best.p50_ms:.1f} p99_ms={best.p99_ms:.1f}"
                    if best
                    else "held_ratio=0.00 (not even the first step: "
                    f"{steps[0].accepted_per_s / direct:.2f} of direct at p99_ms="
                    f"{steps[0].p99_ms:.1f})"
                    if steps
                    else "held_ratio=0.00 (no step ran)"
                )
                shown = best or (steps[0] if steps else None)  # the lowest step's when none held
                cpu_us = (
                    " ".join(
                        f"{n}={shown.cpu_us[n]:.0f}" for n in ("nodes", "worker", "redis", "server")
                    )
                    if shown
                    else "-"
                )
                return (
                    f"orders {held} oversold={oversold} lost={lost} duplicates={duplicates} "
                    f"cpu_us_per_order[{cpu_us}] "
                    f"direct_cpu_us_per_call[redis={direct_us['redis']:.0f} "
                    f"script_client={direct_us['clients']:.0f}] direct_per_s={direct:.0f}"
                )
            finally:
                for process in processes:  # before the stack's Redis: they use it
                    process.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--viewers",
        type=int,
        default=0,
        help="viewers (default: enough that the rate limit never caps the highest step)",
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per step")
    parser.add_argument(
        "--loads",
        type=lambda text: [float(v) for v in text.split(",")],
        default=DEFAULT_LOADS,
        help="the steps' offered orders/s as fractions of the direct rate, comma-separated",
    )
    parser.add_argument(
        "--worker-nice",
        type=int,
        default=None,
        help="the worker's STORECAST_WORKER_NICE (default: the setting's own, 10)",
    )
    parser.add_argument(
        "--aof-rewrite-min-mb",
        type=int,
        default=RedisSettings().aof_rewrite_min_mb,
        help="Redis' auto-aof-rewrite-min-size, in MB (default: the embedded default's)",
    )
    parser.add_argument(
        "--rewrite-at",
        type=float,
        default=None,
        metavar="SECONDS",
        help="start an AOF rewrite this many seconds into the stepping",
    )
    args = parser.parse_args()
    line = uvloop.run(run(Options(**vars(args))))
    print(line)


if __name__ == "__main__":
    main()
