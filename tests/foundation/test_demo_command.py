"""`storecast demo` (what `make demo` runs) brings the whole service up and Ctrl-C stops it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bench.processes import ROOT, free_port


def _children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The parent pid is the 4th field, after the parenthesised command name.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


@pytest.mark.slow
def test_demo_answers_health_within_60_s_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    port, ws_port = free_port(), free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("STORECAST_") and k not in ("DATABASE_URL", "REDIS_URL")
    }
    env.update(
        STORECAST_VAR_DIR=str(tmp_path / "var"),
        STORECAST_HTTP_PORT=str(port),
        STORECAST_HTTP_WS_PORT=str(ws_port),
        PYTHONUNBUFFERED="1",
    )
    log = (tmp_path / "demo.log").open("wb")
    demo = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "demo"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        health = None
        while time.monotonic() < deadline and demo.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).json()
                if health.get("status") == "ok":
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        assert health is not None
        assert (health["status"], health["database"], health["redis"]) == ("ok", "ok", "ok"), (
            tmp_path / "demo.log"
        ).read_text()[-3000:]
        printed = (tmp_path / "demo.log").read_text()
        for page in ("/schema", "room.html", "host.html", "guide.html", "hq.html"):
            assert page in printed
        children = _children_of(demo.pid)
        assert len(children) >= 2  # an app node and the worker
        redis_pid = int((tmp_path / "var" / "redis" / "redis.pid").read_text())
    finally:
        demo.send_signal(signal.SIGINT)
        demo.wait(timeout=30)
    assert demo.returncode == 0
    for pid in [*children, redis_pid]:
        assert (
            not Path(f"/proc/{pid}").exists()
            or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
        )
