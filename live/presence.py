"""Presence and engagement: who is in which room, for how long, and what they did there.

On the hot path everything stays in the gateway's memory and Redis: the room's presence hash
(customer -> joined at) while a viewer is in, and, when the viewer leaves, one record of the
stay pushed on a Redis list. The worker moves those records into `viewer_sessions` in
batches, where attribution/ reads them to turn non-buyers into follow-ups.

A kill -9 of an app node loses the stays still open on it (their sockets drop, the viewers
reconnect to another node and start a new stay); the display counts drift until the next
join or leave. Presence is for display and follow-ups only: never gate stock on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import msgspec
import redis.asyncio
from sqlalchemy import insert

from live.models import ViewerSession
from server.services import Services

SESSIONS_KEY = "live:sessions"
"""List of finished stays waiting for the database."""
FLUSH_BATCH = 1000


def present_key(broadcast_id: int) -> str:
    return f"{{b{broadcast_id}}}:present"


class Stay(msgspec.Struct, array_like=True):
    room_id: int
    customer_id: int
    joined_ms: int
    left_ms: int
    likes: int
    chats: int
    taps: int


@dataclass
class Engagement:
    """What one viewer did during one socket's life; kept on the gateway's Viewer."""

    joined_ms: int
    likes: int = 0
    chats: int = 0
    taps: int = 0


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(Stay)


async def enter(
    client: redis.asyncio.Redis, broadcast_id: int, customer_id: int, at_ms: int
) -> None:
    await client.hset(present_key(broadcast_id), str(customer_id), str(at_ms))  # type: ignore[misc]


async def leave(
    client: redis.asyncio.Redis,
    room_id: int,
    broadcast_id: int,
    customer_id: int,
    engagement: Engagement,
    at_ms: int,
) -> None:
    stay = Stay(
        room_id,
        customer_id,
        engagement.joined_ms,
        at_ms,
        engagement.likes,
        engagement.chats,
        engagement.taps,
    )
    async with client.pipeline(transaction=False) as pipe:
        pipe.hdel(present_key(broadcast_id), str(customer_id))
        pipe.rpush(SESSIONS_KEY, _encoder.encode(stay))
        await pipe.execute()


async def present_customers(client: redis.asyncio.Redis, broadcast_id: int) -> set[int]:
    return {int(c) for c in await client.hkeys(present_key(broadcast_id))}  # type: ignore[misc]


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


async def flush_stays(services: Services) -> int:
    """Move finished stays into viewer_sessions; returns how many. One flusher at a time (the
    worker's cron is unique): it reads a batch, commits it, and only then trims it off."""
    client = services.redis
    moved = 0
    while True:
        raw = await client.lrange(SESSIONS_KEY, 0, FLUSH_BATCH - 1)  # type: ignore[misc]
        if not raw:
            return moved
        stays = [_decoder.decode(item) for item in raw]
        async with services.sessionmaker() as session, session.begin():
            await session.execute(
                insert(ViewerSession),
                [
                    {
                        "room_id": s.room_id,
                        "customer_id": s.customer_id,
                        "joined_at": _at(s.joined_ms),
                        "left_at": _at(s.left_ms),
                        "watch_seconds": max(0, (s.left_ms - s.joined_ms) // 1000),
                        "likes": s.likes,
                        "chats": s.chats,
                        "taps": s.taps,
                    }
                    for s in stays
                ],
            )
        await client.ltrim(SESSIONS_KEY, len(raw), -1)  # type: ignore[misc]
        moved += len(raw)
