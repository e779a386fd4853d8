"""One room socket as the gateway holds it: who it is, where it stands in its room's streams,
and the bound on how far it may lag."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from websockets.asyncio.server import ServerConnection

from live import presence
from live.fanout import write_frame
from live.ratelimit import TokenBucket
from live.rooms import RoomContext
from server.auth import Principal, Role
from server.metrics import SLOW_CLOSES

SEND_BUFFER_LIMIT = 256 * 1024
"""Bytes a viewer may lag behind before being closed as slow: ~1,300 frames of a busy room's
200-byte updates (seconds of a bad mobile link), and at most 0.5 GB over 2,000 laggards."""
SLOW_CLOSE_CODE = 4008


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(eq=False, slots=True)
class Viewer:
    connection: ServerConnection
    principal: Principal
    room: RoomContext
    display_name: str | None
    """Staff: None when admitted to watch only. A customer: None until their first chat."""
    streams: list[str]
    socket: str
    """Its presence field: `{node}/{n}`, unique across the nodes."""
    synced: bool = False
    """Whether the socket got its state (a snapshot or a resume's events): it gets it once."""
    ready: bool = False
    """False until the snapshot is sent; events that arrive before it wait in `held`."""
    held: list[bytes] = field(default_factory=list)
    closing_slow: bool = False
    buckets: dict[str, TokenBucket] = field(default_factory=dict)
    """By frame kind, made at the socket's first frame of each (live/ratelimit.py)."""
    engagement: presence.Engagement = field(default_factory=lambda: presence.Engagement(now_ms()))

    @property
    def is_customer(self) -> bool:
        return self.principal.role is Role.VIEWER

    @property
    def person(self) -> str:
        return f"{self.principal.role.value}:{self.principal.sub}"

    def receive(self, payload: bytes, frame: bytes) -> bool:
        """A room event: written now, held until the snapshot is out, or dropped for a
        laggard (closed as slow, it resumes from its last offset). False: dropped."""
        if not self.ready:
            if self.closing_slow:
                return False
            self.held.append(payload)
            return True
        return self.keeps_up() and write_frame(self.connection, frame)

    def keeps_up(self) -> bool:
        """False, and the socket closing as slow, once its unsent bytes pass the limit."""
        transport = self.connection.transport
        if transport is not None and transport.get_write_buffer_size() <= SEND_BUFFER_LIMIT:
            return True
        self.ready = False  # deliver nothing more; resume will catch up
        if not self.closing_slow:
            self.closing_slow = True
            SLOW_CLOSES.inc()
            asyncio.get_running_loop().create_task(
                self.connection.close(SLOW_CLOSE_CODE, "slow: resume to catch up")
            )
        return False
