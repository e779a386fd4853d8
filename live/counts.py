"""Viewer and like counts of a room: display state in Redis."""

from __future__ import annotations

import redis.asyncio

from live.keys import likes_key, viewers_key


async def room_counts(client: redis.asyncio.Redis, broadcast_id: int) -> tuple[int, int]:
    """(viewers, likes): viewers as last counted from presence (live/presence.py, at most a
    counts interval old). Display only: never gate stock or limits on these."""
    return counts_from(await client.mget(counts_keys(broadcast_id)))


def counts_keys(broadcast_id: int) -> list[str]:
    """The keys room_counts reads, for a caller reading them in its own pipeline (one MGET)."""
    return [viewers_key(broadcast_id), likes_key(broadcast_id)]


def counts_from(reply: list[bytes | None]) -> tuple[int, int]:
    viewers, likes = reply
    return max(0, int(viewers or 0)), int(likes or 0)
