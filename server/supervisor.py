"""`storecast serve`: the embedded Redis, the app nodes and the worker, as one Ctrl-C-able unit.

Each part is its own process, so a crash of one (even kill -9) leaves the others and
the Redis data intact; the supervisor restarts what died, the embedded Redis included (on
the same port, so the nodes and the worker reconnect to it by themselves; it replays its AOF
and the worker rebuilds its deals from SQL before they sell again, orders/restore.py).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

import structlog

from server.redis import EmbeddedRedis, resolve_redis_url
from server.settings import Settings

log = structlog.get_logger()


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0

    def start(self) -> None:
        self.process = subprocess.Popen(self.argv, env=self.env)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass
class Supervisor:
    settings: Settings
    nodes: int = 1
    children: list[Child] = field(default_factory=list)
    stopping: bool = False
    redis_restarts: int = 0

    def run(self) -> None:
        redis_url, embedded = resolve_redis_url(self.settings)
        env = {**os.environ, "REDIS_URL": redis_url}
        if self.settings.database.url:
            env["DATABASE_URL"] = self.settings.database.url
        cli = [sys.executable, "-m", "server.cli"]
        for node in range(self.nodes):
            port = self.settings.http.port + 2 * node
            self.children.append(
                Child(
                    f"app-{node + 1}",
                    [
                        *cli,
                        "app",
                        "--port",
                        str(port),
                        "--ws-port",
                        str(self.settings.http.ws_port + 2 * node),
                    ],
                    env,
                )
            )
        self.children.append(Child("worker", [*cli, "worker"], env))
        for child in self.children:
            child.start()
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        try:
            while not self.stopping:
                if embedded and not self.stopping:
                    self._keep_redis(embedded)
                for child in self.children:
                    if not self.stopping and not child.alive():
                        child.restarts += 1
                        log.warning("supervisor.restart", child=child.name, restarts=child.restarts)
                        child.start()
                time.sleep(0.5)
        finally:
            self._terminate_all()
            if embedded:
                embedded.stop()
            log.info("supervisor.stopped")

    def _keep_redis(self, embedded: EmbeddedRedis) -> None:
        if embedded.process is None or embedded.process.poll() is None:
            return
        self.redis_restarts += 1
        log.warning(
            "supervisor.restart",
            child="redis",
            restarts=self.redis_restarts,
            exit=embedded.process.returncode,
        )
        try:
            embedded.start()  # same port and files: waits while it replays its AOF
        except RuntimeError:
            log.exception("supervisor.redis_restart_failed")

    def _stop(self, _signum: int, _frame: object) -> None:
        self.stopping = True

    def _terminate_all(self) -> None:
        for child in self.children:
            if child.alive():
                assert child.process is not None
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for child in self.children:
            if child.process is None:
                continue
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.process.kill()
