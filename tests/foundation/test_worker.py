"""The arq worker starts on the shared Redis and runs its jobs."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import redis

from bench.processes import ServiceProcess
from server.worker import HEARTBEAT_KEY


@pytest.mark.slow
def test_worker_process_runs_its_startup_jobs_on_the_shared_redis(
    start_worker_process: Callable[..., ServiceProcess], redis_url: str
) -> None:
    start_worker_process()
    client = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and client.get(HEARTBEAT_KEY) is None:
        time.sleep(0.1)  # polling Redis: the worker is another process with no event to await
    assert client.get(HEARTBEAT_KEY) is not None
