"""The embedded default the benchmarks run on: a Redis of its own and a migrated SQLite file
in a work directory, and this process's `Services` on them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from bench.processes import service_env
from server.migrate import upgrade
from server.redis import EmbeddedRedis
from server.services import Services, open_services
from server.settings import RedisSettings, load_settings


@dataclass
class Stack:
    redis_server: EmbeddedRedis
    env: dict[str, str]
    """The environment of a `storecast app` or `storecast worker` on this stack."""
    services: Services


@contextlib.asynccontextmanager
async def embedded_stack(
    workdir: Path, redis: RedisSettings | None = None, **settings: str
) -> AsyncIterator[Stack]:
    """Redis and SQLite under `workdir`; both stopped on the way out. Redis is configured as
    the embedded default is (or by `redis`); `settings` are STORECAST_* variables for the
    processes started on it (the caller's own are not passed)."""
    redis_server = EmbeddedRedis.configured(workdir / "redis", redis or RedisSettings()).start()
    services: Services | None = None
    try:
        database_url = f"sqlite+aiosqlite:///{workdir / 'storecast.db'}"
        await asyncio.to_thread(upgrade, database_url)
        env = service_env(database_url, redis_server.url, workdir / "var", **settings)
        services = await open_services(load_settings(env))
        yield Stack(redis_server, env, services)
    finally:
        if services is not None:
            await services.close()
        redis_server.stop()


async def until_no_aof_rewrite(services: Services, poll_s: float = 0.01) -> None:
    """Wait while Redis rewrites its append-only file, or has a rewrite scheduled (a forked
    child; Redis is another process, so polling its state is all there is)."""
    while True:
        info = await services.redis.info("persistence")
        if not info["aof_rewrite_in_progress"] and not info["aof_rewrite_scheduled"]:
            return
        await asyncio.sleep(poll_s)
