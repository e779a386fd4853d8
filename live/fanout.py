"""One room frame to many sockets: serialized once, written a slice at a time, spread out.

`websockets.broadcast` builds and serializes the frame again for every socket; here the
server's frame (text, unmasked, no extension: the gateway turns compression off) is made
once, as the architecture asks, and each recipient gets the bytes straight into its socket.

Each socket costs the server some CPU per frame (`make bench-fanout` prints how much), so a
frame for a big room is a long stretch of one node's loop: the recipients are written SLICE
at a time, and the loop is free between slices, so an order never waits for a whole room.

Room state (stock, counts, the sales ticker: ephemeral frames, already coalesced to one per
200-500 ms) is also the same instant's burst of reads on the viewers' side, which stalled
the orders of both sides (docs/benchmarks.md); its slices are spread over about
SPREAD_SECONDS while no other frame waits. Room events (chat, the window, what is on air)
are what a viewer waits to see: their slices go back to back. With frames waiting, every
frame's slices go back to back, so a busy node never falls behind. Frames go out in the
order they came, one after the other, to every recipient.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import Sequence
from typing import Protocol

import structlog
from websockets.asyncio.server import ServerConnection
from websockets.frames import Frame, Opcode
from websockets.protocol import State

from server.metrics import FRAMES_DROPPED, FRAMES_SENT

log = structlog.get_logger()

SLICE = 100
"""Recipients written per turn of the event loop: a short turn, so orders are not kept waiting."""
SPREAD_SECONDS = 0.08
"""How long the slices of one big-room state frame are spread over when nothing else waits:
far under the 200-500 ms that coalesced room state is allowed."""


class Recipient(Protocol):
    def receive(self, payload: bytes, frame: bytes) -> bool:
        """Take a room frame: `frame` is `payload` as serialized websocket bytes. False: it
        was dropped (the socket is closing or too far behind)."""


def frame_bytes(payload: bytes) -> bytes:
    return Frame(Opcode.TEXT, payload).serialize(mask=False, extensions=[])


def write_frame(connection: ServerConnection, frame: bytes) -> bool:
    """Write serialized frame bytes to an open socket; a closing one, or one in the middle of a
    fragmented message (the gateway never sends one), is skipped, as `broadcast` does."""
    if connection.protocol.state is State.OPEN and connection.send_in_progress is None:
        connection.transport.write(frame)
        return True
    return False


class Fanout:
    """This process's room frames, in the order they were handed in, by one task."""

    def __init__(self) -> None:
        self._frames: collections.deque[tuple[Sequence[Recipient], bytes, bool]] = (
            collections.deque()
        )
        self._waiting = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="live.fanout")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def send(self, recipients: Sequence[Recipient], payload: bytes, *, spread: bool) -> None:
        """Queue one frame for every recipient; returns at once. `spread`: room state, whose
        slices may be spread out (above)."""
        if recipients:
            self._frames.append((recipients, payload, spread))
            self._waiting.set()

    async def _run(self) -> None:
        while True:
            await self._waiting.wait()
            self._waiting.clear()
            while self._frames:
                await self._write(*self._frames.popleft())

    async def _write(self, recipients: Sequence[Recipient], payload: bytes, spread: bool) -> None:
        frame = frame_bytes(payload)
        slices = range(0, len(recipients), SLICE)
        pause = SPREAD_SECONDS / len(slices) if spread else 0
        sent = 0
        for start in slices:
            if start:
                await asyncio.sleep(0 if self._frames else pause)
            for recipient in recipients[start : start + SLICE]:
                try:
                    sent += recipient.receive(payload, frame)
                except Exception:  # one broken socket must not cost the others the frame
                    log.exception("fanout.write_failed")
        # Counted once per frame, not per socket: a big room's pass stays a plain loop.
        FRAMES_SENT.inc(sent)
        FRAMES_DROPPED.inc(len(recipients) - sent)
