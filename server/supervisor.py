"""`storecast serve`: the embedded Redis, the app nodes and the worker, as one Ctrl-C-able unit.

Each part is its own process, so a crash of one (even kill -9) leaves the others and
the Redis data intact; the supervisor restarts what died, the embedded Redis included (on
the same port, so the nodes and the worker reconnect to it by themselves; it replays its AOF
and the worker rebuilds its deals from SQL before they sell again, orders/restore.py).

A child that keeps dying is not restarted forever: each restart waits twice as long as the
one before, and a child that crashes `CrashPolicy.give_up_after` times within
`CrashPolicy.window_s` stops the whole unit, which exits non-zero with that child's last
stderr lines, so a broken deployment fails where its operator (or systemd) can see it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import IO

import structlog

from server.redis import EmbeddedRedis, resolve_redis_url
from server.settings import Settings

log = structlog.get_logger()

LAST_LINES = 20
"""Stderr lines kept per child: enough for a traceback's tail."""
POLL_S = 0.2


@dataclass(frozen=True)
class CrashPolicy:
    first_backoff_s: float = 0.5
    max_backoff_s: float = 30.0
    give_up_after: int = 5
    """Crashes of one child within `window_s` that stop everything."""
    window_s: float = 60.0

    def backoff_s(self, recent_crashes: int) -> float:
        return min(self.max_backoff_s, self.first_backoff_s * 2 ** max(0, recent_crashes - 1))


class CrashLoop(SystemExit):
    """A child crashed too often: the supervisor stopped everything. A SystemExit, so
    `storecast serve` ends with status 1 and this message on stderr."""


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    crashes: deque[float] = field(default_factory=deque)
    """When it died, within the policy's window."""
    restart_at: float | None = None
    last_stderr: deque[str] = field(default_factory=lambda: deque(maxlen=LAST_LINES))
    relay: threading.Thread | None = None

    def start(self) -> None:
        self.restart_at = None
        self.last_stderr.clear()
        self.process = subprocess.Popen(self.argv, env=self.env, stderr=subprocess.PIPE)
        assert self.process.stderr is not None
        self.relay = threading.Thread(
            target=self._relay_stderr, args=(self.process.stderr,), daemon=True
        )
        self.relay.start()

    def _relay_stderr(self, stream: IO[bytes]) -> None:
        """Pass the child's stderr through to ours, keeping its last lines for the give-up."""
        for line in stream:
            sys.stderr.buffer.write(line)
            sys.stderr.buffer.flush()
            self.last_stderr.append(line.decode(errors="replace").rstrip())

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def died(self) -> bool:
        return self.process is not None and self.restart_at is None and not self.alive()

    def last_error(self) -> str:
        exit_code = self.process.returncode if self.process else None
        lines = "\n".join(self.last_stderr) or "(no stderr)"
        return f"{self.name} exited {exit_code}; its last stderr lines:\n{lines}"


@dataclass
class Supervisor:
    settings: Settings
    nodes: int = 1
    policy: CrashPolicy = field(default_factory=CrashPolicy)
    children: list[Child] = field(default_factory=list)
    stopping: bool = False
    redis_restarts: int = 0

    def run(self) -> None:
        redis_url, embedded = resolve_redis_url(self.settings)
        env = {**os.environ, "REDIS_URL": redis_url}
        if self.settings.database.url:
            env["DATABASE_URL"] = self.settings.database.url
        cli = [sys.executable, "-m", "server.cli"]
        children = [
            Child(
                f"app-{node + 1}",
                [
                    *cli,
                    "app",
                    "--port",
                    str(self.settings.http.port + 2 * node),
                    "--ws-port",
                    str(self.settings.http.ws_port + 2 * node),
                ],
                env,
            )
            for node in range(self.nodes)
        ]
        children.append(Child("worker", [*cli, "worker"], env))
        self.watch(children, embedded)

    def watch(self, children: list[Child], embedded: EmbeddedRedis | None = None) -> None:
        """Start the children and keep them running until SIGTERM/SIGINT; raises CrashLoop
        (after stopping everything) when one of them keeps crashing."""
        self.children = children
        for child in self.children:
            child.start()
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        try:
            while not self.stopping:
                if embedded:
                    self._keep_redis(embedded)
                for child in self.children:
                    if not self.stopping:
                        self._tend(child)
                time.sleep(POLL_S)
        finally:
            self._terminate_all()
            if embedded:
                embedded.stop()
            log.info("supervisor.stopped")

    def _tend(self, child: Child) -> None:
        now = time.monotonic()
        if child.died():
            while child.crashes and child.crashes[0] < now - self.policy.window_s:
                child.crashes.popleft()
            child.crashes.append(now)
            if len(child.crashes) >= self.policy.give_up_after:
                self._give_up(child)
            child.restart_at = now + self.policy.backoff_s(len(child.crashes))
            log.warning(
                "supervisor.crashed",
                child=child.name,
                exit=child.process.returncode if child.process else None,
                restart_in_s=round(child.restart_at - now, 2),
            )
        elif child.restart_at is not None and now >= child.restart_at:
            child.restarts += 1
            log.warning("supervisor.restart", child=child.name, restarts=child.restarts)
            child.start()

    def _give_up(self, child: Child) -> None:
        if child.relay is not None:
            child.relay.join(timeout=5)  # the stderr it wrote before dying, read to the end
        log.error(
            "supervisor.gave_up",
            child=child.name,
            crashes=len(child.crashes),
            within_s=self.policy.window_s,
            exit=child.process.returncode if child.process else None,
            last_stderr=list(child.last_stderr),
        )
        raise CrashLoop(
            f"storecast: gave up after {len(child.crashes)} crashes: {child.last_error()}"
        )

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
