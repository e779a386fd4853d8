"""The arq worker: background jobs of every package, on the shared Redis.

Job payloads are msgpack (msgspec), never pickle. Each job opens its own database
scope through ctx["services"] and must be safe to run more than once. The startup builds the
packages' runtimes once: ctx["rooms"] is live/'s side of `orders.rooms_port.Rooms`, handed to
orders/' jobs here so orders/ never imports live/; ctx["orders"] is the worker's
`OrdersRuntime` (its payment provider, its intake).
"""

from __future__ import annotations

import time
from typing import Any

import msgspec
import structlog
from arq.connections import RedisSettings
from arq.cron import cron
from arq.worker import Worker
from prometheus_client import start_http_server
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.exceptions import WatchError

import attribution.jobs
import live.followups_job
import live.jobs
import live.scores_job
import orders.jobs
from live.publish import LiveRooms
from orders.runtime import OrdersRuntime
from server.redis import resolve_redis_url
from server.services import open_services
from server.settings import Settings

HEARTBEAT_KEY = "worker:heartbeat"

log = structlog.get_logger()


async def heartbeat(ctx: dict[str, Any]) -> None:
    """Say the worker is alive, for operators looking at Redis."""
    await ctx["services"].redis.set(HEARTBEAT_KEY, int(time.time()), ex=180)


# Each package lists its jobs; the worker runs them all. Kept explicit so a reader sees them.
JOB_FUNCTIONS: list[Any] = [*attribution.jobs.JOB_FUNCTIONS, *orders.jobs.JOB_FUNCTIONS]
CRON_JOBS: list[Any] = [
    cron(heartbeat, second=0, run_at_startup=True),
    *attribution.jobs.CRON_JOBS,
    *live.jobs.CRON_JOBS,
    *live.followups_job.CRON_JOBS,
    *live.scores_job.CRON_JOBS,
    *orders.jobs.CRON_JOBS,
]


REDIS_RETRIES = 20
"""arq's own connection retries a command this many times (backoff 50 ms doubling to 1 s,
~17 s in all) before the error ends the worker: long enough for the supervisor to restart a
dead Redis and for it to replay an ordinary AOF, so the worker rides through rather than
dying with it."""


def arq_redis_settings(redis_url: str) -> RedisSettings:
    settings = RedisSettings.from_dsn(redis_url)
    # BusyLoadingError (a Redis replaying its AOF) is a ConnectionError in redis-py.
    settings.retry_on_error = [RedisConnectionError, RedisTimeoutError]
    settings.retry = Retry(ExponentialBackoff(cap=1.0, base=0.05), REDIS_RETRIES)
    return settings


class RidingWorker(Worker):
    """arq's worker, riding through a Redis that drops its connections while a job starts.

    arq takes a job slot, then WATCHes the job's key; a connection lost while watching is a
    WatchError (redis-py cannot retry a broken WATCH) that arq does not catch there, so it
    would end the process. Here the slot is given back and the job stays queued for the next
    poll, which is what arq does itself when the WATCH is broken by another worker."""

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        for job_id in job_ids:
            if self.job_counter >= self.max_jobs:
                return  # as arq's own loop does: the rest waits for the next poll
            try:
                await super().start_jobs([job_id])
            except (WatchError, RedisConnectionError, RedisTimeoutError) as error:
                self.job_counter -= 1
                self.sem.release()
                log.warning(
                    "worker.job_start_interrupted", job_id=job_id.decode(), error=repr(error)
                )


def make_worker(settings: Settings) -> Worker:
    redis_url, _ = resolve_redis_url(settings)

    async def startup(ctx: dict[str, Any]) -> None:
        if settings.worker.metrics_port:
            # A thread of prometheus-client's own: scrapes never wait on the jobs' loop.
            ctx["metrics"], _ = start_http_server(
                settings.worker.metrics_port, addr=settings.http.host
            )
        services = ctx["services"] = await open_services(settings)
        rooms = ctx["rooms"] = LiveRooms(services.redis)
        ctx["orders"] = OrdersRuntime.build(services, rooms)
        await orders.jobs.start_tasks(ctx)

    async def shutdown(ctx: dict[str, Any]) -> None:
        await orders.jobs.stop_tasks(ctx)
        await ctx["orders"].close()
        await ctx["services"].close()
        if "metrics" in ctx:
            ctx["metrics"].shutdown()

    return RidingWorker(
        functions=JOB_FUNCTIONS,
        cron_jobs=CRON_JOBS,
        redis_settings=arq_redis_settings(redis_url),
        on_startup=startup,
        on_shutdown=shutdown,
        job_serializer=msgspec.msgpack.encode,
        job_deserializer=msgspec.msgpack.decode,
        handle_signals=True,
    )
