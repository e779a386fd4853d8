"""The orders bench's viewers: a socket that costs its process as little as it can.

The load generator shares two cores with the nodes, the worker and Redis it measures, and
every room frame of 2,000 viewers (stock twice a second, the ticker) arrives at it too. So
once the websockets handshake is done, a viewer's socket reads its frames itself: a complete,
unfragmented text frame is looked at here (an order reply handed on, anything else dropped
unread), and every other frame (ping, close, fragments) goes to websockets as before. Orders
are written as masked frames with the socket's own mask key. `Pacer` sends the sustained
phase's orders from one timer instead of a task per viewer.
"""

from __future__ import annotations

import asyncio
import heapq
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from websockets.asyncio.client import ClientConnection
from websockets.protocol import State
from websockets.speedups import apply_mask  # type: ignore[attr-defined]

from bench.fleet import open_client


class Reply(msgspec.Struct):
    """What the bench reads of order.accepted, order.rejected and error frames."""

    type: str
    idempotency_key: str = ""
    order_id: str = ""
    reason: str = ""
    code: str = ""


_decode_reply = msgspec.json.Decoder(Reply).decode
_ORDER_REPLY = b'{"type":"order.'
_ERROR = b'{"type":"error"'
TEXT_FIN = 0x81


def masked_text_frame(payload: bytes, mask: bytes) -> bytes:
    """A client's text frame (RFC 6455 5.2): client frames must be masked."""
    length = len(payload)
    if length < 126:
        header = bytes((TEXT_FIN, 0x80 | length))
    elif length < 1 << 16:
        header = bytes((TEXT_FIN, 0x80 | 126)) + length.to_bytes(2, "big")
    else:
        header = bytes((TEXT_FIN, 0x80 | 127)) + length.to_bytes(8, "big")
    return header + mask + apply_mask(payload, mask)


class OrderConnection(ClientConnection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.waiting: dict[str, asyncio.Future[Reply]] = {}
        self.on_reply: Callable[[OrderConnection, Reply], None] | None = None
        """Replies no future waits for (the paced phase's) go here."""
        self.index = 0
        self._mask = os.urandom(4)
        self._head = b""
        self._unread: bytearray | None = None
        """Bytes of frames not yet complete, once this socket reads its own frames."""

    def data_received(self, data: bytes) -> None:
        if self._unread is None:
            self._head += data
            end = self._head.find(b"\r\n\r\n")
            if end < 0 or not self._head.startswith(b"HTTP/1.1 101"):
                super().data_received(data)
                return
            # The handshake's response ends in this chunk: websockets takes it, the frames
            # after it are read here, from their first byte.
            cut = len(data) - (len(self._head) - (end + 4))
            super().data_received(data[:cut])
            self._unread = bytearray()
            data = data[cut:]
        unread = self._unread
        unread += data
        start = 0
        while len(unread) - start >= 2:
            first, second = unread[start], unread[start + 1]
            length, header = second & 0x7F, 2  # server frames are never masked
            if length == 126:
                if len(unread) - start < 4:
                    break
                length, header = int.from_bytes(unread[start + 2 : start + 4], "big"), 4
            elif length == 127:
                if len(unread) - start < 10:
                    break
                length, header = int.from_bytes(unread[start + 2 : start + 10], "big"), 10
            end = start + header + length
            if end > len(unread):
                break
            if first == TEXT_FIN:
                self._text(bytes(unread[start + header : end]))
            else:  # ping, close, fragments: websockets answers them
                super().data_received(bytes(unread[start:end]))
            start = end
        del unread[:start]

    def _text(self, data: bytes) -> None:
        if data.startswith(_ORDER_REPLY):
            reply = _decode_reply(data)
            future = self.waiting.pop(reply.idempotency_key, None)
            if future is not None:
                if not future.done():
                    future.set_result(reply)
            elif self.on_reply is not None:
                self.on_reply(self, reply)
        elif data.startswith(_ERROR):
            reply = _decode_reply(data)
            for future in self.waiting.values():
                if not future.done():
                    future.set_result(reply)
            self.waiting.clear()
            if self.on_reply is not None:
                self.on_reply(self, reply)

    def send_order(self, key: str, deal_id: int) -> None:
        frame = b'{"type":"order.place","idempotency_key":"%s","deal_id":%d,"quantity":1}' % (
            key.encode(),
            deal_id,
        )
        if self.protocol.state is State.OPEN:
            self.transport.write(masked_text_frame(frame, self._mask))

    async def order(self, key: str, deal_id: int) -> Reply:
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self.waiting[key] = future
        self.send_order(key, deal_id)
        return await future  # no timer per order: the caller bounds the phase as a whole


async def connect(url: str) -> OrderConnection:
    connection = await open_client(url, OrderConnection)
    assert isinstance(connection, OrderConnection)
    return connection


@dataclass
class Sustained:
    accepted_ids: set[str] = field(default_factory=set)
    latencies_ms: list[float] = field(default_factory=list)
    sent_at: list[float] = field(default_factory=list)
    """When each timed order was sent, seconds into the phase (same order as latencies_ms)."""
    refused: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    ended: float = 0.0
    """time.monotonic() when the last reply came."""


class Pacer:
    """Every viewer orders every `interval` seconds, or as soon as its last order is answered
    if that took longer: never more than one order in flight per viewer. One timer sends
    whatever is due, each millisecond."""

    TICK = 0.001

    def __init__(
        self,
        sockets: list[OrderConnection],
        deal_id: int,
        interval: float,
        seconds: float,
        prefix: str = "s",
    ) -> None:
        """`prefix` starts every idempotency key: a phase after another needs its own, or its
        orders would be answered as the earlier phase's repeats."""
        self.sockets, self.deal_id, self.interval = sockets, deal_id, interval
        self.prefix = prefix
        self.result = Sustained()
        self.started = time.monotonic()
        self.stop_at = self.started + seconds
        self._due: list[tuple[float, int]] = [
            (self.started + interval * n / len(sockets), n) for n in range(len(sockets))
        ]
        self._sent = [0.0] * len(sockets)
        self._orders = [0] * len(sockets)
        self._in_flight = 0
        self._finished = asyncio.get_running_loop().create_future()
        for n, socket in enumerate(sockets):
            socket.index = n
            socket.on_reply = self._answered

    async def run(self) -> Sustained:
        while True:
            now = time.monotonic()
            while self._due and self._due[0][0] <= now:
                self._send(heapq.heappop(self._due)[1], now)
            if now >= self.stop_at:
                break
            await asyncio.sleep(self.TICK)
        self._due.clear()
        if self._in_flight:
            await self._finished
        self.result.ended = time.monotonic()
        self.result.seconds = self.result.ended - self.started
        return self.result

    def _send(self, n: int, now: float) -> None:
        if now >= self.stop_at:
            return
        self._sent[n] = now
        self._orders[n] += 1
        self._in_flight += 1
        self.sockets[n].send_order(f"{self.prefix}{n}-{self._orders[n]}", self.deal_id)

    def _answered(self, socket: OrderConnection, reply: Reply) -> None:
        now = time.monotonic()
        n = socket.index
        result = self.result
        result.latencies_ms.append((now - self._sent[n]) * 1000)
        result.sent_at.append(self._sent[n] - self.started)
        if reply.type == "order.accepted":
            result.accepted_ids.add(reply.order_id)
        else:
            reason = reply.reason or reply.code
            result.refused[reason] = result.refused.get(reason, 0) + 1
        self._in_flight -= 1
        due = self._sent[n] + self.interval
        if due <= now:
            self._send(n, now)
        elif due < self.stop_at:
            heapq.heappush(self._due, (due, n))
        if not self._in_flight and now >= self.stop_at and not self._finished.done():
            self._finished.set_result(None)
