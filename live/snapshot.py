"""The snapshot a viewer gets on joining: the room as it stands, and where each stream stood."""

from __future__ import annotations

import time

from sqlalchemy.ext.asyncio import AsyncSession

from live.counts import room_counts
from live.protocol import Snapshot
from live.rooms import RoomContext, room_and_broadcast
from live.streams import StreamBus, stream_name
from live.window import broadcast_view, room_window
from orders.deals import deal_snapshots


async def build_snapshot(session: AsyncSession, bus: StreamBus, room: RoomContext) -> Snapshot:
    found = await room_and_broadcast(session, room.room_id)
    assert found is not None, "rooms are never deleted"
    _, broadcast = found
    streams = [stream_name(room.broadcast_id)]
    if room.hub_broadcast_id and room.hub_broadcast_id != room.broadcast_id:
        streams.insert(0, stream_name(room.hub_broadcast_id))
    # Positions first: an event after them is replayed; the window read below may already
    # include it, and applying it twice is harmless because window events carry full state.
    positions = {s: await bus.position(s) for s in streams}
    window = await room_window(session, broadcast)
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
    )
