"""An embedded Redis a test may crash: kill -9, cut its AOF back to an earlier size (what a
machine crash under `appendfsync everysec` loses: the writes not yet fsynced), restart it on
the same port."""

from __future__ import annotations

import os
import signal
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from server.redis import EmbeddedRedis


@dataclass
class CrashingRedis:
    directory: Path
    appendfsync: str = "everysec"
    server: EmbeddedRedis = field(init=False)
    sizes: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=200))

    def __post_init__(self) -> None:
        self.server = EmbeddedRedis(self.directory, appendfsync=self.appendfsync).start()

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def aof(self) -> Path:
        return self.directory / "appendonly.aof"

    def sample(self) -> None:
        """Note the AOF's size now; `crash` cuts back to the size of a moment ago."""
        self.sizes.append((time.monotonic(), self.aof.stat().st_size))

    def size_before(self, seconds: float) -> int:
        cutoff = time.monotonic() - seconds
        older = [size for at, size in self.sizes if at <= cutoff]
        return older[-1] if older else self.sizes[0][1]

    def last_sample(self) -> int:
        return self.sizes[-1][1]

    def crash(self, keep: int | None = None) -> int:
        """kill -9, then cut the AOF back to `keep` bytes (None: keep it whole, a crash of
        Redis alone); returns the bytes cut."""
        assert self.server.process is not None
        os.kill(self.server.process.pid, signal.SIGKILL)
        self.server.process.wait()
        keep = self.aof.stat().st_size if keep is None else keep
        cut = self.aof.stat().st_size - keep
        with self.aof.open("r+b") as file:
            file.truncate(keep)
        return cut

    def restart(self) -> None:
        self.server.start()  # same port: clients reconnect to it

    def stop(self) -> None:
        self.server.stop()
