"""Viewer and like counts of a room, and its muted chatters: display state in Redis."""

from __future__ import annotations

import redis.asyncio


def viewers_key(broadcast_id: int) -> str:
    return f"{{b{broadcast_id}}}:viewers"


def likes_key(broadcast_id: int) -> str:
    return f"{{b{broadcast_id}}}:likes"


def muted_key(broadcast_id: int) -> str:
    return f"{{b{broadcast_id}}}:muted"


def counts_lock_key(broadcast_id: int) -> str:
    return f"{{b{broadcast_id}}}:counts-lock"


async def room_counts(client: redis.asyncio.Redis, broadcast_id: int) -> tuple[int, int]:
    """(viewers, likes): viewers as last counted from presence (live/presence.py, at most a
    counts interval old). Display only: never gate stock or limits on these."""
    viewers, likes = await client.mget(viewers_key(broadcast_id), likes_key(broadcast_id))
    return max(0, int(viewers or 0)), int(likes or 0)


async def mute(client: redis.asyncio.Redis, broadcast_id: int, customer_id: int) -> None:
    await client.sadd(muted_key(broadcast_id), customer_id)  # type: ignore[misc]


async def is_muted(client: redis.asyncio.Redis, broadcast_id: int, customer_id: int) -> bool:
    return bool(await client.sismember(muted_key(broadcast_id), str(customer_id)))  # type: ignore[misc]


CHAT_AUTHOR_TTL_S = 24 * 3600
"""Long enough to mute someone for a line said in tonight's broadcast."""


def chat_author_key(broadcast_id: int, offset: int) -> str:
    return f"{{b{broadcast_id}}}:chat:{offset}"


async def record_chat_author(
    client: redis.asyncio.Redis, broadcast_id: int, offset: int, customer_id: int
) -> None:
    """Chat frames carry a masked name only; the host mutes "the author of line N"."""
    await client.set(chat_author_key(broadcast_id, offset), customer_id, ex=CHAT_AUTHOR_TTL_S)


async def chat_author(client: redis.asyncio.Redis, broadcast_id: int, offset: int) -> int | None:
    found = await client.get(chat_author_key(broadcast_id, offset))
    return int(found) if found is not None else None
