"""Viewer and like counts of a room: display state in Redis."""

from __future__ import annotations

import redis.asyncio

from live.keys import likes_key, viewers_key


async def room_counts(client: redis.asyncio.Redis, broadcast_id: int) -> tuple[int, int]:
    """(viewers, likes): viewers as last counted from presence (live/presence.py, at most a
    counts interval old). Display only: never gate stock or limits on these."""
    viewers, likes = await client.mget(viewers_key(broadcast_id), likes_key(broadcast_id))
    return max(0, int(viewers or 0)), int(likes or 0)
