"""A node's background loops for room counts: publish each dirty room's counts at most every
COUNTS_EVERY_SECONDS, and keep the node alive (live/nodes.py), recounting its rooms on each
heartbeat so a dead node's viewers leave every count within the bound stated there."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog

from live import nodes, presence
from live.keys import counts_lock_key, likes_key
from live.protocol import Counts
from live.streams import StreamBus, stream_name

log = structlog.get_logger()

COUNTS_EVERY_SECONDS = 0.3
"""Viewer and like counts go out at most this often per room, whatever the like rate."""


async def publish_counts(bus: StreamBus, dirty: set[int]) -> None:
    """Rooms whose counts may have changed are added to `dirty` by the gateway."""
    redis = bus.redis
    while True:
        await asyncio.sleep(COUNTS_EVERY_SECONDS)
        for broadcast_id in list(dirty):
            # One publisher per room per interval across every node.
            if not await redis.set(
                counts_lock_key(broadcast_id), 1, nx=True, px=int(COUNTS_EVERY_SECONDS * 1000)
            ):
                continue
            dirty.discard(broadcast_id)
            viewers = await presence.count_viewers(redis, broadcast_id)
            likes = await redis.get(likes_key(broadcast_id))
            # `stream` says whose counts these are: a store room hears the hub's too.
            counts = Counts(
                stream=stream_name(broadcast_id), viewers=viewers, likes=int(likes or 0)
            )
            await bus.publish_ephemeral(broadcast_id, counts)


async def keep_node_alive(
    bus: StreamBus, node: str, dirty: set[int], local_rooms: Callable[[], set[int]]
) -> None:
    while True:
        await asyncio.sleep(nodes.HEARTBEAT_SECONDS)
        try:
            await nodes.beat(bus.redis, node)
        except Exception:  # Redis away for a moment: the next beat is within the TTL
            log.exception("gateway.heartbeat_failed")
        dirty.update(local_rooms())
