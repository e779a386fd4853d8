"""Logs an operator can read: a client's mistake is one info line, our failure is an error
with its traceback, and no line or start-up message shows a password."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.processes import ServiceProcess, free_port, service_env
from server.services import open_services
from server.settings import SettingsError, load_settings

# A process of its own: logging is configured once per process, as `storecast app` does.
CRASHING_APP = """
import logging
import structlog
from litestar import Litestar, get
from litestar.logging.config import LoggingConfig
from litestar.testing import TestClient
from server.errors import EXCEPTION_HANDLERS
from server.logs import configure_logging

@get("/crash")
async def crash() -> None:
    raise RuntimeError("the disk is on fire")

configure_logging("INFO")
app = Litestar(
    [crash],
    exception_handlers=EXCEPTION_HANDLERS,
    logging_config=LoggingConfig(configure_root_logger=False, log_exceptions="never"),
)
with TestClient(app) as client:
    assert client.get("/crash").status_code == 500
structlog.get_logger().info("services.open", redis="redis://:s3cr3t@10.0.0.5:6379/0")
logging.getLogger("somelib").warning("retrying postgresql://app:s3cr3t@db:5432/storecast")
"""


def _json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


@pytest.fixture(scope="module")
def crash_log() -> list[dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-c", CRASHING_APP],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).parents[2],
    )
    assert done.returncode == 0, done.stderr
    return _json_lines(done.stderr)


def test_a_500_logs_its_formatted_traceback(crash_log: list[dict[str, Any]]) -> None:
    failed = [line for line in crash_log if line["event"] == "http.failed"]
    assert len(failed) == 1
    assert failed[0]["level"] == "error"
    assert "Traceback (most recent call last)" in failed[0]["exception"]
    assert "RuntimeError: the disk is on fire" in failed[0]["exception"]


def test_no_log_line_shows_a_password(crash_log: list[dict[str, Any]]) -> None:
    lines = json.dumps(crash_log)
    assert "s3cr3t" not in lines
    assert "redis://:***@10.0.0.5:6379/0" in lines
    assert "postgresql://app:***@db:5432/storecast" in lines


@pytest.mark.database
@pytest.mark.slow
def test_refused_requests_are_logged_at_info_without_a_traceback(
    start_app_process: Callable[..., ServiceProcess],
) -> None:
    app = start_app_process(STORECAST_LOG_LEVEL="INFO")
    assert httpx.get(f"{app.url}/api/rooms/2147483648").status_code == 401
    assert httpx.post(f"{app.url}/api/auth/viewer", json={"code": ""}).status_code == 400
    app.stop()
    lines = _json_lines(app.log_path.read_text())
    refused = [line for line in lines if line["event"] == "http.refused"]
    assert [line["status"] for line in refused] == [401, 400]
    assert all(line["level"] == "info" and "exception" not in line for line in refused)
    assert not [line for line in lines if line["level"] in ("error", "critical")]


async def test_the_start_up_error_for_an_unreachable_redis_hides_its_password(
    tmp_path: Path,
) -> None:
    url = f"redis://:s3cr3t@127.0.0.1:{free_port()}/0"
    settings = load_settings(service_env(f"sqlite+aiosqlite:///{tmp_path}/x.db", url, tmp_path))
    with pytest.raises(SettingsError) as refused:
        await open_services(settings)
    assert "s3cr3t" not in str(refused.value)
    assert "redis://:***@127.0.0.1" in str(refused.value)
