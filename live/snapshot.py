"""The snapshot a viewer gets on joining: the room as it stands, and where each stream stood.

`build_snapshot` reads it from the database. `RoomSnapshots` keeps one per room in the
process, keyed by its streams' positions, and brings it forward with the room events the
node already receives (or reads from the stream's history), so that in steady state a join
costs one Redis round trip (positions, counts, stock), shared by the room's sockets joining
at once, and no SQL. An event it cannot apply (a window
change linking a deal it has not seen, an unknown kind) drops the room's entry: the next
join rebuilds it.
"""

from __future__ import annotations

import collections
import time

import msgspec
import redis.asyncio
from msgspec.structs import replace
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from live.counts import counts_from, counts_keys, room_counts
from live.models import Broadcast
from live.protocol import (
    BroadcastState,
    BroadcastView,
    Chat,
    ChatHidden,
    DealChanged,
    OnAir,
    RoomEvent,
    Snapshot,
    StreamPosition,
    WindowChanged,
    encoder,
)
from live.rooms import RoomContext, room_and_broadcast
from live.shared_read import SharedRead
from live.streams import (
    POSITION_REPLIES,
    StreamBus,
    positions_from,
    queue_positions,
    stream_name,
)
from live.window import broadcast_view, room_on_air, room_window
from orders.deals import deal_snapshots
from orders.keys import DealKeys
from orders.schemas import DealView
from orders.selling_rule import why_not_selling
from orders.statuses import DealStatus
from server.metrics import SNAPSHOT_BUILDS

ROOMS_KEPT = 512
"""Snapshots kept per process (least recently joined dropped first): a node serves a few
rooms at a time, a chain night a few hundred stores."""

_event_decoder = msgspec.json.Decoder(
    WindowChanged | OnAir | DealChanged | Chat | ChatHidden | BroadcastState
)


def room_streams(room: RoomContext) -> list[str]:
    """The streams a room reads: the hub's first when it relays one, then its own."""
    streams = [stream_name(room.broadcast_id)]
    if room.hub_broadcast_id and room.hub_broadcast_id != room.broadcast_id:
        streams.insert(0, stream_name(room.hub_broadcast_id))
    return streams


async def build_snapshot(session: AsyncSession, bus: StreamBus, room: RoomContext) -> Snapshot:
    found = await room_and_broadcast(session, room.room_id)
    assert found is not None, "rooms are never deleted"
    _, broadcast = found
    # Positions first: an event after them is replayed; the window read below may already
    # include it, and applying it twice is harmless because window events carry full state.
    positions = {s: await bus.position(s) for s in room_streams(room)}
    window = await room_window(session, broadcast)
    hub: BroadcastView | None = None
    if broadcast.relays_id is not None:
        hub_row = await session.get(Broadcast, broadcast.relays_id)  # loaded by room_window
        hub = None if hub_row is None else broadcast_view(hub_row)
    deal_ids = sorted({item.deal_id for item in window.items if item.deal_id is not None})
    deals = await deal_snapshots(bus.redis, session, deal_ids)
    viewers, likes = await room_counts(bus.redis, room.broadcast_id)
    return Snapshot(
        room_id=room.room_id,
        store_id=room.store_id,
        broadcast=broadcast_view(broadcast),
        window=window.items,
        hidden_item_ids=window.hidden_item_ids,
        deals=deals,
        on_air_item_id=window.on_air_item_id,
        on_air_by_stream=window.on_air_by_stream,
        viewers=viewers,
        likes=likes,
        streams=positions,
        server_time_ms=int(time.time() * 1000),
        hub_broadcast=hub,
    )


def not_on_sale(snapshot: Snapshot, deal_id: int) -> str | None:
    """Why a deal of this room's window does not sell here now (None: it may): the selling
    rule (orders/selling_rule.py) on the room as its kept snapshot has it. A deal the window
    does not show is left to orders/ to judge."""
    deal = snapshot.deals.get(deal_id)
    if deal is None:
        return None
    hub = snapshot.hub_broadcast
    statuses = {snapshot.broadcast.id: snapshot.broadcast.status}
    if hub is not None:
        statuses[hub.id] = hub.status
    return why_not_selling(
        deal.broadcast_id,
        deal.presale,
        snapshot.broadcast.id,
        hub.id if hub is not None else None,
        statuses.get,
    )


class CannotApply(Exception):
    """The event needs the database to apply: the entry is rebuilt instead."""


def apply_event(snapshot: Snapshot, stream: str, event: RoomEvent) -> Snapshot:
    """The snapshot after one history event of one of its streams (the same rule as
    static/js/roomstate.js and docs/protocol.md, "Merging the window")."""
    own = stream_name(snapshot.broadcast.id)
    match event:
        case WindowChanged():
            return _window_changed(snapshot, stream, own, event)
        case OnAir(item_id=item_id):
            return _with_on_air(snapshot, stream, own, item_id)
        case DealChanged(deal=deal):
            if deal is None or deal.deal_id not in snapshot.deals:
                return snapshot  # a deal the window does not show
            return replace(snapshot, deals={**snapshot.deals, deal.deal_id: deal})
        case BroadcastState(broadcast=view):
            if view is None:
                return snapshot
            if view.id == snapshot.broadcast.id:
                return replace(snapshot, broadcast=view)
            if snapshot.hub_broadcast is not None and view.id == snapshot.hub_broadcast.id:
                return replace(snapshot, hub_broadcast=view)
            return snapshot
        case Chat() | ChatHidden():
            return snapshot  # chat is not part of the room's state
    raise CannotApply(type(event).__name__)


def _window_changed(snapshot: Snapshot, stream: str, own: str, event: WindowChanged) -> Snapshot:
    relays = len(snapshot.streams) > 1
    hidden = snapshot.hidden_item_ids
    if relays and stream == own:
        items = [i for i in snapshot.window if not i.store_only] + list(event.items)
        hidden = list(event.hidden_item_ids)
    else:
        items = list(event.items) + [i for i in snapshot.window if i.store_only]
        if not relays:
            hidden = list(event.hidden_item_ids)
    deal_ids = {item.deal_id for item in items if item.deal_id is not None}
    if not deal_ids <= snapshot.deals.keys():
        raise CannotApply("a deal the snapshot has not read")
    deals = {deal_id: view for deal_id, view in snapshot.deals.items() if deal_id in deal_ids}
    changed = replace(snapshot, window=items, hidden_item_ids=hidden, deals=deals)
    return _with_on_air(changed, stream, own, event.on_air_item_id)


def _with_on_air(snapshot: Snapshot, stream: str, own: str, item_id: int | None) -> Snapshot:
    choices = {s: c for s, c in snapshot.on_air_by_stream.items() if s != stream}
    if item_id is not None:
        choices[stream] = item_id
    # The hub's stream comes first, as in a freshly built snapshot.
    ordered = {s: choices[s] for s in snapshot.streams if s in choices}
    on_air = room_on_air(ordered, own, snapshot.hidden_item_ids)
    return replace(snapshot, on_air_by_stream=ordered, on_air_item_id=on_air)


class Joined(msgspec.Struct, frozen=True):
    """The room as it stands for the sockets joining now, and its frame, encoded once."""

    snapshot: Snapshot
    payload: bytes


class RoomSnapshots:
    """This process's snapshots, one per room, least recently joined dropped past ROOMS_KEPT.

    A snapshot costs one Redis round trip (positions, counts and stock in one pipeline),
    shared by every socket of the room joining at once (live/shared_read.py), and no SQL
    unless the kept snapshot cannot be brought forward."""

    def __init__(
        self,
        bus: StreamBus,
        sessionmaker: async_sessionmaker[AsyncSession],
        capacity: int = ROOMS_KEPT,
    ) -> None:
        self.bus = bus
        self.sessionmaker = sessionmaker
        self.capacity = capacity
        self._rooms: collections.OrderedDict[int, Snapshot] = collections.OrderedDict()
        # One read of a room at a time, shared: no two rebuilds of one room race either.
        self._shared = SharedRead(self._read)
        self.builds = 0
        """Snapshots read from the database (for the tests and /metrics)."""

    def kept(self, room_id: int) -> Snapshot | None:
        """The room's snapshot as this process keeps it (its stock and counts not current)."""
        return self._rooms.get(room_id)

    async def get(self, room: RoomContext) -> Joined:
        """The room as it stands: the kept snapshot brought to the streams' positions, with
        the counts and deals' stock of this instant, read after this call began."""
        return await self._shared(room)

    async def _read(self, room: RoomContext) -> Joined:
        streams = room_streams(room)
        kept = self._rooms.get(room.room_id)
        deal_ids = list(kept.deals) if kept is not None else []
        async with self.bus.redis.pipeline(transaction=False) as pipe:
            queue_positions(pipe, streams)
            pipe.mget(counts_keys(room.broadcast_id))
            for deal_id in deal_ids:
                pipe.hmget(DealKeys(deal_id).state, ["status", "stock"])
            replies = await pipe.execute()
        positions = positions_from(replies, streams)
        counts = counts_from(replies[POSITION_REPLIES * len(streams)])
        states = dict(zip(deal_ids, replies[POSITION_REPLIES * len(streams) + 1 :], strict=True))
        if kept is None or kept.streams != positions:
            kept = await self._catch_up(room, kept, positions)
        self._rooms[room.room_id] = kept
        self._rooms.move_to_end(room.room_id)
        while len(self._rooms) > self.capacity:
            self._rooms.popitem(last=False)
        missing = [deal_id for deal_id in kept.deals if deal_id not in states]
        if missing:  # deals the room gained since it was kept
            states.update(await _live_states(self.bus.redis, missing))
        viewers, likes = counts
        deals = {
            deal_id: _with_state(view, states[deal_id]) for deal_id, view in kept.deals.items()
        }
        snapshot = replace(
            kept, viewers=viewers, likes=likes, deals=deals, server_time_ms=int(time.time() * 1000)
        )
        return Joined(snapshot, encoder.encode(snapshot))

    def apply(self, stream: str, payload: bytes, offset: int) -> None:
        """A published room event, as the node's reader got it (`offset` its place in the
        stream): applied to every kept room reading that stream whose position it follows; a
        gap is filled at the next join."""
        if offset == 0:
            return  # counts, stock, ticker: read fresh at each join
        for room_id, kept in list(self._rooms.items()):
            position = kept.streams.get(stream)
            if position is None or position.offset + 1 != offset:
                continue
            try:
                event = _event_decoder.decode(payload)
                advanced = apply_event(kept, stream, event)
            except (CannotApply, msgspec.DecodeError):
                del self._rooms[room_id]
                continue
            streams = {**kept.streams, stream: StreamPosition(position.epoch, offset)}
            self._rooms[room_id] = replace(advanced, streams=streams)

    async def _catch_up(
        self, room: RoomContext, kept: Snapshot | None, positions: dict[str, StreamPosition]
    ) -> Snapshot:
        if kept is not None and kept.streams.keys() == positions.keys():
            advanced: Snapshot | None = kept
            for stream, position in positions.items():
                assert advanced is not None
                advanced = await self._replay(advanced, stream, position)
                if advanced is None:
                    break
            if advanced is not None:
                return advanced
        self.builds += 1
        SNAPSHOT_BUILDS.inc()
        async with self.sessionmaker() as session:
            return await build_snapshot(session, self.bus, room)

    async def _replay(self, kept: Snapshot, stream: str, target: StreamPosition) -> Snapshot | None:
        """`kept` brought to `target` on one stream from its history; None: rebuild."""
        seen = kept.streams[stream]
        if seen == target:
            return kept
        if seen.epoch != target.epoch or seen.offset > target.offset:
            return None
        events = await self.bus.since(stream, seen)
        if events is None:
            return None
        snapshot = kept
        for payload in events[: target.offset - seen.offset]:
            try:
                snapshot = apply_event(snapshot, stream, _event_decoder.decode(payload))
            except (CannotApply, msgspec.DecodeError):
                return None
        return replace(snapshot, streams={**snapshot.streams, stream: target})


async def _live_states(
    client: redis.asyncio.Redis, deal_ids: list[int]
) -> dict[int, tuple[bytes | None, bytes | None]]:
    """Status and stock of each deal as Redis holds them (None where it holds nothing)."""
    async with client.pipeline(transaction=False) as pipe:
        for deal_id in deal_ids:
            pipe.hmget(DealKeys(deal_id).state, ["status", "stock"])
        states = await pipe.execute()
    return {deal_id: (state[0], state[1]) for deal_id, state in zip(deal_ids, states, strict=True)}


def _with_state(view: DealView, state: tuple[bytes | None, bytes | None]) -> DealView:
    """As deal_snapshots reads a deal: Redis's status and stock where it has them."""
    status, stock = state
    if status is not None:
        view = replace(view, status=DealStatus(status.decode()))
    if stock is not None:
        view = replace(view, stock_left=int(stock))
    return view
