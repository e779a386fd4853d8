"""Real Storecast processes, for the benchmarks and the tests: app nodes and workers, and the
environment that points them at one database and one Redis."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def service_env(database_url: str, redis_url: str, var_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STORECAST_")}
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        STORECAST_VAR_DIR=str(var_dir),
        STORECAST_LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


@dataclass
class ServiceProcess:
    """One `storecast app` or `storecast worker` process, with its log file."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    port: int = 0
    ws_port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.ws_port}"

    def start(self) -> ServiceProcess:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.argv, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
        if self.port:
            self.wait_healthy()
        return self

    def wait_healthy(self, timeout: float = 120.0) -> None:
        """Long enough for a start on a machine shared with other loads."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(
            f"{self.name} not healthy in {timeout} s: {self.log_path.read_text()[-3000:]}"
        )

    def kill9(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def app_process(name: str, env: dict[str, str], log_dir: Path) -> ServiceProcess:
    port, ws_port = free_port(), free_port()
    argv = [
        sys.executable,
        "-m",
        "server.cli",
        "app",
        "--port",
        str(port),
        "--ws-port",
        str(ws_port),
    ]
    return ServiceProcess(name, argv, env, log_dir / f"{name}.log", port, ws_port)


def worker_process(name: str, env: dict[str, str], log_dir: Path) -> ServiceProcess:
    argv = [sys.executable, "-m", "server.cli", "worker"]
    return ServiceProcess(name, argv, env, log_dir / f"{name}.log")
