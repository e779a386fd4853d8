"""The bench's viewers: thousands of websockets clients in one process, counting frames in the
protocol callback (no receive queue, no reader task per socket) and decoding only the frames
the latency phase times. Used by bench/fanout.py for both systems it compares."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import msgspec
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.frames import Close, Frame, Opcode

STATS_PREFIX = b'{"stream"'
"""Stream events start so (the publish script puts stream and offset first); counts and
snapshots do not."""


class _Event(msgspec.Struct):
    stream: str = ""
    offset: int = 0
    text: str = ""


_decode_event = msgspec.json.Decoder(_Event).decode


class Fleet:
    """Every viewer of one run, and what they received in the current phase."""

    def __init__(self) -> None:
        self.viewers: list[Viewer] = []
        self.total = 0
        """Stream frames received by all viewers, all phases."""
        self.parse = False
        self.acks: list[int] = [0]
        """acks[k]: viewers that received the k-th update of the phase (1-based)."""
        self.need = 0
        """Viewers open at the start of the phase, minus those closed since."""
        self.complete = 0
        """Every open viewer has received updates 1..complete."""
        self._waiter: asyncio.Future[None] | None = None
        self._waiting_for = 0
        self.latencies_ns: list[int] = []
        self.closes: Counter[int] = Counter()
        self.closing = False

    def start_phase(self, parse: bool) -> None:
        self.parse = parse
        self.acks = [0]
        self.complete = 0
        self.latencies_ns = []
        self.need = 0
        for viewer in self.viewers:
            viewer.n = 0
            viewer.last_offset = 0
            viewer.gaps = 0
            viewer.offsets = []
            if viewer.open:
                self.need += 1

    def advance(self, k: int) -> None:
        self.complete = k
        if self._waiter is not None and k >= self._waiting_for and not self._waiter.done():
            self._waiter.set_result(None)

    def closed(self, viewer: Viewer, code: int) -> None:
        if self.closing:
            return
        self.closes[code] += 1
        self.need -= 1
        k = self.complete
        while k + 1 < len(self.acks) and self.acks[k + 1] >= self.need:
            k += 1
        if k > self.complete:
            self.advance(k)

    async def until_complete(self, k: int, within: float) -> bool:
        if self.complete >= k:
            return True
        self._waiter = asyncio.get_running_loop().create_future()
        self._waiting_for = k
        try:
            # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancellation (Ctrl-C)
            # that lands as the awaited future completes, which happens here hundreds of times
            # a second.
            async with asyncio.timeout(max(within, 0.001)):
                await self._waiter
        except TimeoutError:
            pass
        finally:
            self._waiter = None
        return self.complete >= k


class Viewer:
    __slots__ = ("connection", "fleet", "gaps", "last_offset", "n", "offsets", "open", "ready")

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.connection: ClientConnection | None = None
        self.open = True
        self.n = 0
        self.last_offset = 0
        self.gaps = 0
        self.offsets: list[int] = []

    def on_text(self, data: bytes | bytearray | memoryview) -> None:
        if data[:9] != STATS_PREFIX:
            if not self.ready.done() and data[:18] == b'{"type":"snapshot"':
                self.ready.set_result(None)
            return
        fleet = self.fleet
        fleet.total += 1
        if fleet.parse:
            event = _decode_event(data)
            fleet.latencies_ns.append(time.time_ns() - int(event.text[:19]))
            if self.last_offset and event.offset != self.last_offset + 1:
                self.gaps += 1
            self.last_offset = event.offset
            self.offsets.append(event.offset)
        n = self.n = self.n + 1
        acks = fleet.acks
        if n < len(acks):
            count = acks[n] = acks[n] + 1
            if count >= fleet.need and n > fleet.complete:
                fleet.advance(n)

    def on_closed(self, close: Close | None) -> None:
        if self.open:
            self.open = False
            self.fleet.closed(self, close.code if close is not None else 1006)


class CountingConnection(ClientConnection):
    """Hands each complete text frame to its viewer as it is parsed: no receive queue, no
    reader task per socket. Control frames and the handshake go the usual way."""

    def __init__(self, *args: Any, viewer: Viewer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.viewer = viewer

    def process_event(self, event: Any) -> None:
        if isinstance(event, Frame) and event.opcode is Opcode.TEXT and event.fin:
            self.viewer.on_text(event.data)
            return
        super().process_event(event)

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        if self.viewer.connection is self:  # not a failed attempt that is retried
            self.viewer.on_closed(self.protocol.close_rcvd)


async def open_client(url: str, make: Callable[..., ClientConnection]) -> ClientConnection:
    """One bench client socket, made by `make`: no compression, no client pings, a few
    retries (thousands of handshakes at once can overflow a listen queue)."""
    for attempt in range(5):
        try:
            return await websockets.connect(
                url,
                compression=None,
                max_queue=None,
                open_timeout=60,
                ping_interval=None,  # the servers ping; the client only answers
                proxy=None,
                create_connection=make,  # type: ignore[arg-type]
            )
        except (
            OSError,
            websockets.InvalidStatus,
            websockets.InvalidMessage,
            websockets.ConnectionClosed,
            TimeoutError,
        ):
            if attempt == 4:
                raise
            await asyncio.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


async def connect_viewer(fleet: Fleet, url: str) -> Viewer:
    viewer = Viewer(fleet)

    def make(*args: Any, **kwargs: Any) -> CountingConnection:
        return CountingConnection(*args, viewer=viewer, **kwargs)

    viewer.connection = await open_client(url, make)
    fleet.viewers.append(viewer)
    return viewer


async def connect_all(fleet: Fleet, urls: list[str]) -> float:
    """Open every socket (200 handshakes at a time) and wait for every snapshot; seconds."""
    started = time.monotonic()
    for start in range(0, len(urls), 200):
        await asyncio.gather(*(connect_viewer(fleet, u) for u in urls[start : start + 200]))
    await asyncio.wait_for(asyncio.gather(*(v.ready for v in fleet.viewers)), 120)
    return time.monotonic() - started


async def disconnect_all(fleet: Fleet) -> None:
    fleet.closing = True
    connections = [v.connection for v in fleet.viewers if v.connection is not None]
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(
            asyncio.gather(*(c.close() for c in connections), return_exceptions=True), 30
        )
    for connection in connections:
        connection.transport.abort()
