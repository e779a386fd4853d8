"""The room gateway: the websockets server that holds the viewers' sockets of one app process.

Why the `websockets` server and not Litestar's handlers: one pass over a room's sockets is
what fanout costs, and here it is a plain `send` of the same bytes on each socket, without
the ASGI message layer in between, which a Litestar handler sending socket by socket pays
on every send (docs/benchmarks.md). It runs in the app's event loop, on its own
port, sharing the app's `Services`.

Fanout (live/fanout.py) serializes a room frame once and writes the same bytes to every
recipient, a slice of sockets at a time, so that a big room's frame does not stall this
node's orders. Slow viewers: what a socket has not yet sent is bounded by SEND_BUFFER_LIMIT
bytes (live/viewer.py); a viewer past it is closed with SLOW_CLOSE_CODE and may resume, so a
laggard never holds a room back nor grows without end. Admission, before the 101, is
live/admission.py.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import time
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import msgspec
import structlog
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from live import nodes, presence
from live.admission import AdmittedConnection, Admitter
from live.counting import keep_node_alive, publish_counts
from live.fanout import Fanout, frame_bytes, write_frame
from live.hq_feed import HqFeed
from live.keys import CHANNEL_PREFIX, likes_key
from live.moderation import is_muted, record_chat_author
from live.names import ChatNames
from live.protocol import (
    Chat,
    ChatSend,
    Error,
    Hello,
    Like,
    Ping,
    Pong,
    Resume,
    Resumed,
    StreamPosition,
    Tap,
    client_decoder,
    encoder,
)
from live.ratelimit import bucket_for
from live.rooms import RoomContexts
from live.shared_read import SharedRead
from live.snapshot import RoomSnapshots, not_on_sale, room_streams
from live.streams import StreamBus, channel, decode_offset
from live.viewer import Viewer, now_ms
from orders.groups_schemas import GroupPlace, GroupRejected
from orders.groups_socket import handle_group_frame
from orders.intake import take_order
from orders.runtime import OrdersRuntime
from orders.schemas import OrderPlace, OrderRejected
from server.auth import Role
from server.metrics import JOINS, ORDER_SECONDS, ORDERS, watch_rooms
from server.redis_batch import RedisBatcher
from server.services import Services

log = structlog.get_logger()

MAX_FRAME_BYTES = 64 * 1024
"""Larger frames close the socket with 1009 before being buffered."""
TOO_MANY_SOCKETS_CLOSE_CODE = 4009
"""The viewer already has presence.SOCKETS_PER_VIEWER sockets open: the newest is refused."""
RESUME_WAIT_SECONDS = 10.0
"""How long a socket opened with `?resume=1` waits for its `resume` before a snapshot."""
CHAT_MAX_CHARS = 200


class RoomGateway:
    def __init__(self, services: Services, orders: OrdersRuntime) -> None:
        self.services = services
        self.orders = orders
        """Where viewers' order.place frames go (orders/' intake of this process)."""
        self.bus = StreamBus(services.redis)
        self.rooms = RoomContexts(services.sessionmaker)
        self.snapshots = RoomSnapshots(self.bus, services.sessionmaker)
        self._admit = Admitter(services.settings.allowed_origins, services.signer, self.rooms)
        # The sockets arriving at once share one read of the live nodes, as of after they came.
        self._alive_nodes = SharedRead(self._read_alive_nodes)
        self._positions = SharedRead(self._read_positions)
        # Presence writes of sockets arriving and leaving at once: one round trip per batch
        # (their own batcher: a join storm's writes do not queue ahead of orders').
        self._writes = RedisBatcher(services.redis)
        self.names = ChatNames(services.sessionmaker)
        self.node = nodes.new_node_id()
        self._socket_ids = itertools.count(1)
        self._viewers: dict[str, set[Viewer]] = {}
        self._dirty_counts: set[int] = set()
        self._pubsub = services.redis.pubsub()
        self._fanout = Fanout()
        self._server: Server | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._sockets_per_room: collections.Counter[int] = collections.Counter()
        self._unwatch: Callable[[], None] | None = None
        self.hq_feed = HqFeed(services)

    async def start(self, host: str, port: int) -> None:
        await nodes.beat(self.services.redis, self.node)
        await self._pubsub.subscribe(channel("_"))  # a reader needs one subscription to wait on
        self._server = await serve(
            self._serve_viewer,
            host,
            port,
            process_request=self._admit,
            create_connection=AdmittedConnection,
            max_size=MAX_FRAME_BYTES,
            compression=None,  # permessage-deflate more than halves broadcast throughput
            ping_interval=20,
            ping_timeout=20,
        )
        self._fanout.start()
        self._unwatch = watch_rooms(lambda: dict(self._sockets_per_room))
        self._tasks = [
            asyncio.create_task(self._relay_published()),
            asyncio.create_task(publish_counts(self.bus, self._dirty_counts)),
            asyncio.create_task(
                keep_node_alive(self.bus, self.node, self._dirty_counts, self._local_rooms)
            ),
        ]
        log.info("gateway.started", port=port)

    async def _read_alive_nodes(self, _: None) -> set[str]:
        return await nodes.alive_nodes(self.services.redis)

    async def _read_positions(self, streams: tuple[str, ...]) -> dict[str, StreamPosition]:
        return await self.bus.positions(list(streams))

    async def stop(self) -> None:
        if self._unwatch is not None:
            self._unwatch()
        for task in self._tasks:
            task.cancel()
        await self._fanout.stop()
        await self.hq_feed.stop()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        await self._pubsub.aclose()
        await nodes.retire(self.services.redis, self.node)

    # ---- one viewer's socket ------------------------------------------------------------

    async def _serve_viewer(self, connection: ServerConnection) -> None:
        assert isinstance(connection, AdmittedConnection)
        if connection.hq:
            return await self.hq_feed.serve(connection)
        assert connection.admission is not None
        principal, room, name = connection.admission
        streams = room_streams(room)
        socket = presence.socket_field(self.node, next(self._socket_ids))
        viewer = Viewer(connection, principal, room, name, streams, socket)
        claim_among = await self._alive_nodes(None) if viewer.is_customer else None
        if not await presence.enter(
            self._writes, room.broadcast_id, socket, viewer.person, claim_among
        ):
            limit = presence.SOCKETS_PER_VIEWER
            await connection.close(TOO_MANY_SOCKETS_CLOSE_CODE, f"at most {limit} sockets")
            return
        await self._join(viewer)
        try:
            await self._first_state(viewer)
            async for message in connection:
                await self._on_frame(viewer, message)
        except ConnectionClosed:
            pass
        finally:
            await self._leave(viewer)

    async def _first_state(self, viewer: Viewer) -> None:
        """A snapshot at once, or, for `?resume=1`, the answer to the first frame's `resume`."""
        request = viewer.connection.request
        assert request is not None, "served after the handshake"
        if parse_qs(urlsplit(request.path).query).get("resume") == ["1"]:
            try:
                async with asyncio.timeout(RESUME_WAIT_SECONDS):
                    first = await viewer.connection.recv()
                await self._on_frame(viewer, first)
            except TimeoutError:
                pass
        if not viewer.synced:
            await self._send_snapshot(viewer)

    async def _join(self, viewer: Viewer) -> None:
        for stream in viewer.streams:
            local = self._viewers.setdefault(stream, set())
            if not local:
                await self._pubsub.subscribe(channel(stream))
            local.add(viewer)
        self._sockets_per_room[viewer.room.room_id] += 1
        self._dirty_counts.add(viewer.room.broadcast_id)

    async def _leave(self, viewer: Viewer) -> None:
        self._sockets_per_room[viewer.room.room_id] -= 1
        if self._sockets_per_room[viewer.room.room_id] <= 0:
            del self._sockets_per_room[viewer.room.room_id]
        for stream in viewer.streams:
            local = self._viewers.get(stream, set())
            local.discard(viewer)
            if not local:
                self._viewers.pop(stream, None)
                await self._pubsub.unsubscribe(channel(stream))
        stay = None
        if viewer.is_customer:
            stay = presence.stay_of(
                viewer.room.room_id, viewer.principal.sub, viewer.engagement, now_ms()
            )
        await presence.leave(
            self._writes, viewer.room.broadcast_id, viewer.socket, viewer.person, stay
        )
        self._dirty_counts.add(viewer.room.broadcast_id)

    async def _send_snapshot(self, viewer: Viewer) -> None:
        """Subscribed first, then the snapshot, then the events it had not seen."""
        viewer.ready = False
        joined = await self.snapshots.get(viewer.room)
        await viewer.connection.send(joined.payload, text=True)
        JOINS.labels("snapshot").inc()
        viewer.synced = True
        self._release_held(viewer, {s: p.offset for s, p in joined.snapshot.streams.items()})

    def _release_held(self, viewer: Viewer, seen: dict[str, int]) -> None:
        held, viewer.held = viewer.held, []
        viewer.ready = True
        for payload in held:
            stream, offset = decode_offset(payload)
            if offset == 0 or offset > seen.get(stream, 0):
                viewer.receive(payload, frame_bytes(payload))

    async def _on_frame(self, viewer: Viewer, message: str | bytes) -> None:
        try:
            frame = client_decoder.decode(message)
        except msgspec.DecodeError as exc:
            if not viewer.synced:  # a first frame that cannot be read: the snapshot answers it
                await self._send_snapshot(viewer)
                return
            self._reply(viewer, Error("bad_frame", str(exc)))
            return
        bucket = bucket_for(viewer.buckets, str(frame.__struct_config__.tag or ""))
        if bucket is not None and not bucket.take():
            if not bucket.warned:
                bucket.warned = True
                self._reply(viewer, Error("rate_limited", "too many frames; slow down"))
            return
        if not viewer.synced and not isinstance(frame, Resume):
            await self._send_snapshot(viewer)
        match frame:
            case Hello():
                pass
            case Ping():
                self._reply(viewer, Pong(server_time_ms=now_ms()))
            case Resume(streams=positions):
                await self._resume(viewer, positions)
            case Like(count=count):
                await self._like(viewer, count)
            case ChatSend(text=text):
                await self._chat(viewer, text)
            case Tap(item_id=item_id):
                viewer.engagement.tap(item_id)
            case OrderPlace():
                await self._order(viewer, frame)
            case GroupPlace():
                await self._group(viewer, frame)

    def _reply(self, viewer: Viewer, frame: msgspec.Struct) -> None:
        # Straight into the socket's buffer, as fanout does: `send()` would also wait for the
        # buffer to drain, but a viewer who stops reading is closed by keeps_up() instead, and
        # under an order storm its context manager and checks cost more than the write.
        if viewer.keeps_up():
            write_frame(viewer.connection, frame_bytes(encoder.encode(frame)))

    async def _resume(self, viewer: Viewer, positions: dict[str, StreamPosition]) -> None:
        """Exactly one answer: every missed event, or (when they cannot all be given) one
        snapshot. A socket that already has its state gets an error: it holds all of it."""
        if viewer.synced:
            self._reply(viewer, Error("already_synced", "resume only as the first frame"))
            return
        missed: list[bytes] = []
        seen: dict[str, int] = {}
        if positions.keys() != set(viewer.streams):  # another room's, or a stream it lacks
            await self._send_snapshot(viewer)
            return
        current = await self._positions(tuple(viewer.streams))
        for stream in viewer.streams:
            position = positions.get(stream)
            events = (
                None
                if position is None
                else await self.bus.since_known(stream, position, current[stream])
            )
            if events is None or position is None:  # never a partial replay
                await self._send_snapshot(viewer)
                return
            missed.extend(events)
            seen[stream] = position.offset + len(events)
        for payload in missed:
            await viewer.connection.send(payload, text=True)
        await viewer.connection.send(encoder.encode(Resumed(events=len(missed))), text=True)
        JOINS.labels("replay").inc()
        viewer.synced = True
        self._release_held(viewer, seen)

    async def _like(self, viewer: Viewer, count: int) -> None:
        if not 1 <= count <= 50:
            self._reply(viewer, Error("bad_like", "count must be 1-50"))
            return
        viewer.engagement.likes += count
        await self.services.redis.incrby(likes_key(viewer.room.broadcast_id), count)
        self._dirty_counts.add(viewer.room.broadcast_id)

    async def _chat(self, viewer: Viewer, text: str) -> None:
        text = text.strip()
        if not text or len(text) > CHAT_MAX_CHARS:
            self._reply(viewer, Error("bad_chat", f"chat must be 1-{CHAT_MAX_CHARS} characters"))
            return
        if viewer.display_name is None and viewer.is_customer:
            viewer.display_name = await self.names.of(viewer.principal.sub)
        if viewer.display_name is None:
            self._reply(viewer, Error("forbidden", "only this room's host and HQ chat as staff"))
            return
        broadcast_id = viewer.room.broadcast_id
        if await is_muted(self.services.redis, broadcast_id, viewer.principal):
            self._reply(viewer, Error("muted", "the host has muted you in this room"))
            return
        viewer.engagement.chats += 1
        offset = await self.bus.publish(broadcast_id, Chat(name=viewer.display_name, text=text))
        # Every line's author, staff too, so the host can hide any line.
        await record_chat_author(self.services.redis, broadcast_id, offset, viewer.principal)

    def _not_on_sale(self, viewer: Viewer, deal_id: int) -> str | None:
        """The selling rule on the room's kept snapshot: no I/O on an order's way in."""
        kept = self.snapshots.kept(viewer.room.room_id)
        return None if kept is None else not_on_sale(kept, deal_id)

    async def _group(self, viewer: Viewer, frame: GroupPlace) -> None:
        refusal = self._not_on_sale(viewer, frame.deal_id)
        if refusal is not None:
            self._reply(viewer, GroupRejected(frame.idempotency_key, "deal_not_live", refusal))
            return
        reply = await handle_group_frame(self.orders.intake, viewer.principal, viewer.room, frame)
        self._reply(viewer, reply)

    async def _order(self, viewer: Viewer, frame: OrderPlace) -> None:
        if viewer.principal.role is not Role.VIEWER:
            self._reply(viewer, Error("forbidden", "only viewers place orders here"))
            return
        refusal = self._not_on_sale(viewer, frame.deal_id)
        if refusal is not None:
            self._reply(viewer, OrderRejected(frame.idempotency_key, "deal_not_live", refusal))
            ORDERS.labels("rejected", "deal_not_live").inc()
            return
        started = time.perf_counter()
        reply = await take_order(self.orders, viewer.principal, viewer.room, frame)
        self._reply(viewer, reply)
        if isinstance(reply, OrderRejected):
            ORDERS.labels("rejected", reply.reason).inc()
        else:
            ORDERS.labels("accepted", "").inc()
            ORDER_SECONDS.observe(time.perf_counter() - started)

    # ---- this process's readers ------------------------------------------------------------

    async def _relay_published(self) -> None:
        """The one reader of this process: every published room event, to the local sockets."""
        while True:
            try:
                message = await self._pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=1.0
                )
            except Exception:  # a dropped Redis connection: say so, wait, and read on
                log.exception("gateway.pubsub_failed")
                await asyncio.sleep(1)
                continue
            if message is None or message["type"] != "message":
                continue
            stream = message["channel"].decode().removeprefix(CHANNEL_PREFIX)
            payload = message["data"]
            _, offset = decode_offset(payload)
            try:
                self.snapshots.apply(stream, payload, offset)
            except Exception:  # the kept snapshots are a cache: a fault must not stop delivery
                log.exception("gateway.snapshot_apply_failed")
            # Offset 0: room state, coalesced already (live/fanout.py); else a room event.
            self._fanout.send(list(self._viewers.get(stream, ())), payload, spread=offset == 0)

    def _local_rooms(self) -> set[int]:
        return {v.room.broadcast_id for viewers in self._viewers.values() for v in viewers}
