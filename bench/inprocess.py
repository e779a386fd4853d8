"""The order path's costs measured inside one process: `make bench-inprocess`.

Where the full bench (bench/orders.py) shares two cores among six processes and drifts
between runs, this measures one thing at a time, in CPU time of this process (threads
included: aiosqlite runs SQLite in one), against an embedded Redis and a SQLite file:

1. intake: `place_order` for N orders on one deal, 200 at a time (the claim and the reserve
   script through the batcher): CPU per order here and in Redis, and the bytes each adds to
   Redis' AOF;
2. persisting: the persister drains them into SQL: the same three,
   then how long Redis takes to restart from its AOF (it replays it), and how long an AOF
   rewrite of what Redis then holds takes, alone and with writes coming in;
3. the app's startup heap: how many objects building the app leaves, and what a full
   garbage collection costs with them and with them frozen (server/app.py freezes them).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import shutil
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import uvloop

from bench.measure import cpu_seconds
from bench.orders import seed
from bench.stack import Stack, embedded_stack, until_no_aof_rewrite
from orders.intake import IntakeRequest, OrderIntake, place_order
from orders.persister import OrderPersister
from server.redis import EmbeddedRedis
from server.services import Services

CONCURRENT = 200
REWRITE_WRITES_PER_S = 10_000
CUSTOMERS = 2000


async def aof_bytes(services: Services) -> int:
    return int((await services.redis.info("persistence"))["aof_current_size"])


@dataclass(frozen=True)
class Costs:
    cpu_s: float
    """CPU time of this process."""
    redis_cpu_s: float
    """CPU time of the Redis server."""
    aof_bytes: int

    def per_order(self, orders: int) -> str:
        return (
            f"{self.cpu_s / orders * 1e6:.0f} us CPU here, {self.redis_cpu_s / orders * 1e6:.0f} us "
            f"in Redis, {self.aof_bytes / orders:.0f} B of AOF per order"
        )


async def measured(stack: Stack, work: Callable[[], Awaitable[object]]) -> Costs:
    """What `work` costs this process and Redis, and the AOF bytes it adds."""
    redis_pid = stack.redis_server.process.pid if stack.redis_server.process else 0
    aof0, cpu0, redis0 = (
        await aof_bytes(stack.services),
        time.process_time(),
        cpu_seconds(redis_pid),
    )
    await work()
    return Costs(
        time.process_time() - cpu0,
        cpu_seconds(redis_pid) - redis0,
        await aof_bytes(stack.services) - aof0,
    )


async def aof_rewrite_ms(services: Services, writes_per_s: int = 0) -> float:
    """Wall time of one AOF rewrite of what Redis holds now, while `writes_per_s` writes keep
    coming: Redis 6.2's child then drains the writes made meanwhile for up to a second, and
    under `make bench-orders` the slowest seconds lined up with it."""

    async def write() -> None:
        for n in itertools.count():
            async with services.redis.pipeline(transaction=False) as pipe:
                for field in range(writes_per_s // 100):
                    pipe.hincrby("bench:writes", str(field), n)
                await pipe.execute()
            await asyncio.sleep(0.01)

    await until_no_aof_rewrite(services)  # one Redis started on its own
    writer = asyncio.create_task(write()) if writes_per_s else None
    started = time.monotonic()
    await services.redis.bgrewriteaof()
    await until_no_aof_rewrite(services)
    elapsed = (time.monotonic() - started) * 1000
    if writer is not None:
        writer.cancel()
    await services.redis.delete("bench:writes")
    return elapsed


async def aof_replay(server: EmbeddedRedis, services: Services) -> tuple[float, int]:
    """Restart Redis and time it until it answers: how long a restart takes per MB of AOF, which
    bounds how far the AOF may grow between rewrites (STORECAST_REDIS_AOF_REWRITE_MIN_MB)."""
    size = await aof_bytes(services)
    await services.redis.connection_pool.disconnect()
    await asyncio.to_thread(server.stop)
    started = time.monotonic()
    await asyncio.to_thread(server.start)
    return (time.monotonic() - started) * 1000, size


def collection_ms(rounds: int = 5) -> float:
    """Median time of a full collection, in ms of CPU."""
    times = []
    for _ in range(rounds):
        started = time.process_time()
        gc.collect()
        times.append((time.process_time() - started) * 1000)
    return statistics.median(times)


async def run(orders: int) -> list[str]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-inprocess-"))
    lines = []
    try:
        async with embedded_stack(workdir) as stack:
            services = stack.services
            seeded = await seed(services, CUSTOMERS)
            order_intake = OrderIntake(services)  # one per process, as the app's runtime holds

            async def intake() -> None:
                for start in range(0, orders, CONCURRENT):
                    await asyncio.gather(
                        *(
                            place_order(
                                order_intake,
                                IntakeRequest(
                                    customer_id=seeded.customer_ids[n % CUSTOMERS],
                                    deal_id=seeded.open_deal,
                                    quantity=1,
                                    idempotency_key=f"k{n}",
                                    broadcast_id=seeded.broadcast_id,
                                    room_store_id=seeded.store_id,
                                ),
                            )
                            for n in range(start, min(orders, start + CONCURRENT))
                        )
                    )

            lines.append(f"intake: {(await measured(stack, intake)).per_order(orders)}")
            persister = OrderPersister(services, consumer="bench")
            lines.append(f"persist: {(await measured(stack, persister.drain)).per_order(orders)}")
            replay_ms, replayed = await aof_replay(stack.redis_server, services)
            lines.append(
                f"restart: Redis replays its {replayed / 1e6:.1f} MB of AOF in {replay_ms:.0f} ms "
                f"({replayed / 1e3 / replay_ms:.0f} MB/s)"
            )
            keys = await services.redis.dbsize()
            idle_ms = await aof_rewrite_ms(services)
            writing_ms = await aof_rewrite_ms(services, REWRITE_WRITES_PER_S)
            lines.append(
                f"AOF rewrite after them ({keys} keys in Redis, a forked child): {idle_ms:.0f} ms, "
                f"{writing_ms:.0f} ms under {REWRITE_WRITES_PER_S} writes/s"
            )

            from server.app import create_app  # the whole app's modules, routes and mappers

            create_app(services.settings)
            objects = len(gc.get_objects())
            unfrozen = collection_ms()
            gc.freeze()
            frozen = collection_ms()
            gc.unfreeze()
            lines.append(
                f"startup heap: {objects} objects; a full collection {unfrozen:.0f} ms of CPU, "
                f"{frozen:.0f} ms with them frozen"
            )
            return lines
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20_000)
    args = parser.parse_args()
    for line in uvloop.run(run(args.orders)):
        print(line)


if __name__ == "__main__":
    main()
