"""The long-lived parts one process holds: settings, database, Redis, token signer.

One `Services` object per process, owned by the app's lifespan (or the worker's
startup). Each package keeps its own long-lived objects on a typed runtime of its own
(`orders.runtime.OrdersRuntime`, ...) that the same lifespan builds, never here and never in
module globals.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import redis.asyncio
import structlog
from redis.exceptions import BusyLoadingError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server.auth import TokenSigner, signer_of
from server.db import make_engine, make_sessionmaker
from server.logs import mask_credentials
from server.redis import EmbeddedRedis, make_client, resolve_redis_url
from server.settings import Settings, SettingsError

log = structlog.get_logger()


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: redis.asyncio.Redis
    redis_url: str
    signer: TokenSigner
    embedded_redis: EmbeddedRedis | None = None

    async def close(self) -> None:
        await self.redis.aclose()
        await self.engine.dispose()
        if self.embedded_redis:
            self.embedded_redis.stop()


async def _ping_once_loaded(client: redis.asyncio.Redis) -> None:
    """A Redis that restarted replays its AOF first and answers LOADING meanwhile (seconds for
    a large file): that is waited for, where an unreachable one fails at once."""
    while True:
        try:
            await client.ping()
            return
        except BusyLoadingError:
            log.info("services.redis_loading")
            await asyncio.sleep(0.5)


async def open_services(settings: Settings) -> Services:
    """Connect to the database and Redis; an unreachable one stops start-up naming its setting."""
    redis_url, embedded = resolve_redis_url(settings)
    client = make_client(redis_url)
    try:
        await _ping_once_loaded(client)
    except Exception as exc:
        await client.aclose()
        reason = mask_credentials(f"cannot reach Redis at {redis_url}: {exc}")
        raise SettingsError(f"REDIS_URL: {reason}") from exc
    engine = make_engine(settings)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:
        await client.aclose()
        reason = mask_credentials(str(exc))
        raise SettingsError(f"DATABASE_URL: cannot reach the database: {reason}") from exc
    log.info(
        "services.open",
        database=engine.url.render_as_string(hide_password=True),
        redis=mask_credentials(redis_url),
    )
    return Services(
        settings=settings,
        engine=engine,
        sessionmaker=make_sessionmaker(engine),
        redis=client,
        redis_url=redis_url,
        signer=signer_of(settings),
        embedded_redis=embedded,
    )


@asynccontextmanager
async def services_scope(settings: Settings) -> AsyncIterator[Services]:
    services = await open_services(settings)
    try:
        yield services
    finally:
        await services.close()
