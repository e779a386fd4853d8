"""The worker's long-lived tasks belong to its startup and shutdown hooks: however many cron
runs go by, one persister (and one restorer) per worker process."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from arq.connections import create_pool
from arq.cron import CronJob, next_cron
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from server.settings import Settings
from server.worker import arq_redis_settings, make_worker

pytestmark = pytest.mark.database


def running(name: str) -> int:
    return sum(1 for task in asyncio.all_tasks() if task.get_name() == name and not task.done())


def cron_runs(jobs: list[CronJob], start: datetime, span: timedelta) -> list[CronJob]:
    """Every run the worker's crons make from `start` over `span`, in time order: the
    controllable clock of this test (arq's own schedule function, no waiting)."""
    runs: list[tuple[datetime, str, CronJob]] = []
    for job in jobs:
        at = start
        while (at := next_cron(at, minute=job.minute, second=job.second)) < start + span:
            runs.append((at, job.name, job))
    return [job for _, _, job in sorted(runs, key=lambda run: (run[0], run[1]))]


async def test_one_persister_per_worker_after_five_minutes_of_crons(settings: Settings) -> None:
    worker = make_worker(settings)
    ctx: dict[str, Any] = worker.ctx
    ctx["redis"] = await create_pool(arq_redis_settings(ctx_redis_url(settings)))
    assert worker.on_startup is not None and worker.on_shutdown is not None
    await worker.on_startup(ctx)
    try:
        runs = cron_runs(
            list(worker.cron_jobs), datetime(2026, 11, 30, 9, tzinfo=UTC), timedelta(minutes=5)
        )
        assert len(runs) >= 5 * 12  # the refund sender alone runs every 5 s
        for job in runs:  # arq hands every run a fresh context, as here
            await job.coroutine({**ctx, "job_id": job.name, "job_try": 1})
        assert (running("orders.persister"), running("orders.restorer")) == (1, 1)
    finally:
        await worker.on_shutdown(ctx)
        await ctx["redis"].aclose()
    assert (running("orders.persister"), running("orders.restorer")) == (0, 0)


def ctx_redis_url(settings: Settings) -> str:
    assert settings.redis.url
    return settings.redis.url


async def test_a_connection_lost_while_a_job_starts_leaves_it_queued_and_the_worker_polling(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Redis dropping the worker's connections between arq's WATCH and its reads (what a Redis
    crash mid-poll does) must not end the worker nor leak the job's slot."""
    worker = make_worker(settings)
    pool = await create_pool(arq_redis_settings(ctx_redis_url(settings)))
    killer = Redis.from_url(ctx_redis_url(settings))
    worker._pool = pool  # what arq's main() sets before it polls
    free_slots = worker.sem._value
    try:
        job = await pool.enqueue_job("expire_orders", [], _job_id="lost-while-starting")
        assert job is not None
        watch = Pipeline.watch

        async def watch_then_lose_every_connection(self: Pipeline, *names: Any) -> Any:
            answer = await watch(self, *names)
            await killer.client_kill_filter(_type="normal", skip_me=True)
            return answer

        monkeypatch.setattr(Pipeline, "watch", watch_then_lose_every_connection)
        await worker.start_jobs([b"lost-while-starting"])
        assert (worker.job_counter, worker.sem._value) == (0, free_slots)
        assert await pool.zscore(worker.queue_name, "lost-while-starting") is not None

        monkeypatch.setattr(Pipeline, "watch", watch)
        await worker.start_jobs([b"lost-while-starting"])  # the next poll starts it
        assert list(worker.tasks) == ["lost-while-starting"]
        await worker.tasks["lost-while-starting"]
    finally:
        await killer.aclose()
        await pool.aclose()
