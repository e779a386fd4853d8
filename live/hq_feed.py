"""HQ's live view over a socket (`/ws/hq` on the room gateway): every room on air with its
viewers, likes, orders and sales, pushed as they change.

Built on the rooms' stream bus: while at least one HQ socket is open on this node, one reader
listens to every room channel (`room:b*`, a pattern subscription) and only marks the node's
view stale. At most once per PUSH_SECONDS the view is read again (live/hq_view.py: one query
for the rooms, one grouped query for their sales, the counts from Redis) and only the rows
that changed go out, the same bytes to every HQ socket. So a room changes on HQ's screen at
most once a second however busy it is, and a node without HQ sockets reads nothing.
"""

from __future__ import annotations

import asyncio
import contextlib

import msgspec
import structlog
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from live.fanout import frame_bytes, write_frame
from live.hq_view import LiveRoom, rooms_on_air
from live.keys import CHANNEL_PREFIX
from server.services import Services

log = structlog.get_logger()

PUSH_SECONDS = 1.0
"""The coalescing interval: counts alone are published every 300 ms per room, and a grid of
a hundred rooms redrawn that often would say nothing more to a person."""
REFRESH_SECONDS = 10.0
"""A read even when no room published: a payment or a refund publishes nothing to the room,
and this bounds how long a sales figure may lag."""
SEND_BUFFER_LIMIT = 1024 * 1024
"""Unsent bytes an HQ socket may hold (minutes of a hundred rooms' changes) before it is
closed as slow (4008); the page reconnects and gets the whole view."""
SLOW_CLOSE_CODE = 4008


class HqRooms(msgspec.Struct, tag="hq.rooms", tag_field="type"):
    """The whole view: the first frame on a socket."""

    rooms: list[LiveRoom]


class HqChanged(msgspec.Struct, tag="hq.changed", tag_field="type"):
    """Rows new or changed since the last frame, and the rooms no longer on air."""

    rooms: list[LiveRoom]
    gone: list[int]


_encoder = msgspec.json.Encoder()


class HqFeed:
    """One per gateway. The reader and the pusher run only while HQ sockets are open."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._sockets: set[ServerConnection] = set()
        self._serving = 0
        self._stale = asyncio.Event()
        self._last: dict[int, LiveRoom] = {}
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self._closing: set[asyncio.Task[None]] = set()
        """Slow sockets being closed: held so the tasks are not collected midway."""

    async def serve(self, connection: ServerConnection) -> None:
        """An admitted HQ socket: the whole view, then the changes until it closes."""
        # Counted from the start of `serve`, not from joining `_sockets`: two sockets opening
        # at once must start one reader, and one leaving must not stop another's.
        self._serving += 1
        if self._serving == 1:
            self._start()
        try:
            async with self._lock:
                # The sockets already open get what changed first, so the view read for this
                # one is the baseline of every socket's next change.
                await self._send_changes()
                rooms = list(self._last.values())
                await connection.send(_encoder.encode(HqRooms(rooms)).decode())
                self._sockets.add(connection)
            async for _ in connection:
                pass  # nothing to say to us: the socket is a feed
        except ConnectionClosed:
            pass
        finally:
            self._sockets.discard(connection)
            self._serving -= 1
            if self._serving == 0:
                await self._stop()

    async def stop(self) -> None:
        await self._stop()

    def _start(self) -> None:
        self._stale.set()
        self._tasks = [
            asyncio.create_task(self._listen()),
            asyncio.create_task(self._push()),
        ]

    async def _stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _read(self) -> list[LiveRoom]:
        async with self._services.sessionmaker() as session:
            return await rooms_on_air(session, self._services.redis)

    async def _listen(self) -> None:
        pubsub = self._services.redis.pubsub()
        try:
            await pubsub.psubscribe(f"{CHANNEL_PREFIX}b*")
            while True:
                try:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                except Exception:  # a dropped Redis connection: the refresh still runs
                    log.exception("hq_feed.pubsub_failed")
                    await asyncio.sleep(1)
                    continue
                if message is not None:
                    self._stale.set()
        finally:
            await pubsub.aclose()

    async def _push(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(REFRESH_SECONDS):
                    await self._stale.wait()
            self._stale.clear()
            try:
                async with self._lock:
                    await self._send_changes()
            except Exception:  # the database or Redis away a moment: try at the next change
                log.exception("hq_feed.push_failed")
            await asyncio.sleep(PUSH_SECONDS)

    async def _send_changes(self) -> None:
        rooms = {room.room_id: room for room in await self._read()}
        changed = [room for room_id, room in rooms.items() if self._last.get(room_id) != room]
        gone = sorted(set(self._last) - set(rooms))
        self._last = rooms
        if not changed and not gone:
            return
        # Written straight into each transport, as the rooms' fanout does: one slow HQ
        # socket never holds the others back, and its bytes are bounded.
        frame = frame_bytes(_encoder.encode(HqChanged(changed, gone)))
        for socket in list(self._sockets):
            if socket.transport.get_write_buffer_size() > SEND_BUFFER_LIMIT:
                self._sockets.discard(socket)
                closing = asyncio.create_task(socket.close(SLOW_CLOSE_CODE, "too slow"))
                self._closing.add(closing)
                closing.add_done_callback(self._closing.discard)
                continue
            write_frame(socket, frame)
