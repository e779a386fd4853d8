"""`storecast serve` restarts a dead embedded Redis on its port; the app node and the worker
reconnect by themselves, and the worker rebuilds the restarted Redis (its boot marker)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import redis

from bench.processes import ROOT, free_port, service_env
from server.redis import BOOT_KEY
from tests.conftest import TEST_WORKER_PRIORITY

pytestmark = [pytest.mark.database, pytest.mark.slow]


def until(condition: Callable[[], object], within: float = 60.0) -> object:
    """Wait for the condition (another process makes it true); fail after `within`."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            found = condition()
        except (OSError, ValueError, redis.RedisError, httpx.HTTPError):
            found = None
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"not within {within} s")


def redis_pid(var: Path) -> int:
    return int((var / "redis" / "redis.pid").read_text())


def rebuilt(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_timeout=1)
    run_id = client.info("server")["run_id"]
    return client.get(BOOT_KEY) == run_id.encode()


def test_a_killed_embedded_redis_is_restarted_and_the_service_comes_back(
    database_url: str, tmp_path: Path
) -> None:
    var = tmp_path / "var"
    port = free_port()
    env = service_env(database_url, "", var, STORECAST_HTTP_PORT=str(port))
    env.pop("REDIS_URL")
    env["STORECAST_HTTP_WS_PORT"] = str(free_port())
    env.update(TEST_WORKER_PRIORITY)
    log = (tmp_path / "serve.log").open("ab")
    serve = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--nodes", "1"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    health = f"http://127.0.0.1:{port}/healthz"
    try:
        first = until(lambda: redis_pid(var))
        url = f"redis://127.0.0.1:{(var / 'redis' / 'redis.port').read_text()}/0"
        until(lambda: httpx.get(health, timeout=1).status_code == 200)
        until(lambda: rebuilt(url))  # the worker marked the Redis it started with
        os.kill(int(str(first)), signal.SIGKILL)
        until(lambda: redis_pid(var) != first and rebuilt(url))  # new Redis, rebuilt by the worker
        until(lambda: httpx.get(health, timeout=1).status_code == 200)  # the node reconnected
        assert serve.poll() is None
    finally:
        serve.send_signal(signal.SIGINT)
        try:
            serve.wait(timeout=30)
        except subprocess.TimeoutExpired:
            serve.kill()
