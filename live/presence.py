"""Presence and engagement: which sockets are in which room, who they belong to, for how
long, and what was done there.

Presence is per socket, not per viewer: each socket has a field of its room's presence hash,
`{node}/{socket}` -> the person (`viewer:42`, `host:7`...), so a page that opens its new socket
before the old one closes (a network change) never loses its presence when the old one goes.
Counts are derived from it: the people (distinct values) among the fields of nodes still alive
(live/nodes.py), so a dead node's sockets leave the count within the bound stated there.

Engagement (likes, chats, taps per item) is counted in the gateway's memory for the socket's
life, not in Redis: a tap costs nothing but a dict update. When a socket closes, one record of
its stay is pushed on a Redis list; the worker moves those
records into `viewer_sessions` in batches, where attribution/ reads them to turn non-buyers into
follow-ups. A kill -9 of a node loses the stays still open on it (its viewers reconnect to
another node and start new stays). Presence is for display and follow-ups only: never gate
stock on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import redis.asyncio
from sqlalchemy import insert

from live.keys import SESSIONS_KEY, claims_key, present_key, viewers_key
from live.models import ViewerSession
from live.nodes import alive_nodes
from server.redis_batch import RedisBatcher
from server.services import Services

FLUSH_BATCH = 1000
TAPPED_ITEMS = 50
"""Distinct items whose taps a stay records: a window holds fewer; a client sending made-up
ids cannot grow the record past this."""
SOCKETS_PER_VIEWER = 3
"""A phone, a tablet and a reconnect in flight; the fourth socket is refused (4009)."""
SOCKET_CLAIM_TTL_S = 24 * 3600
"""A viewer's claim list outlives any stay; entries of dead nodes are dropped on the next claim."""

_ENTER = redis.asyncio.Redis().register_script(  # a client that only hashes it: EVALSHA
    (Path(__file__).parent / "lua" / "enter_room.lua").read_text()
)


def socket_field(node: str, socket_id: int) -> str:
    return f"{node}/{socket_id}"


def _node_of(field: bytes | str) -> str:
    text = field.decode() if isinstance(field, bytes) else field
    return text.split("/", 1)[0]


class Stay(msgspec.Struct, array_like=True):
    room_id: int
    customer_id: int
    joined_ms: int
    left_ms: int
    likes: int
    chats: int
    taps: int
    tapped: dict[int, int] = {}
    """Taps per window item id; absent from records pushed before items were counted."""


@dataclass(slots=True)
class Engagement:
    """What one viewer did during one socket's life; kept on the gateway's Viewer."""

    joined_ms: int
    likes: int = 0
    chats: int = 0
    taps: int = 0
    tapped: dict[int, int] = field(default_factory=dict)
    """Taps per window item id, counted in the gateway's memory like the other figures, so a
    tap costs no Redis or SQL call; at most TAPPED_ITEMS distinct items are kept."""

    def tap(self, item_id: int) -> None:
        self.taps += 1
        if item_id in self.tapped or len(self.tapped) < TAPPED_ITEMS:
            self.tapped[item_id] = self.tapped.get(item_id, 0) + 1


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(Stay)


async def enter(
    writes: RedisBatcher,
    broadcast_id: int,
    field: str,
    person: str,
    claim_among: set[str] | None,
) -> bool:
    """Write the socket into its room's presence. A customer's socket (`claim_among`: the live
    nodes, live/nodes.py:alive_nodes, read after it arrived) is first claimed: False, and
    written nowhere, when SOCKETS_PER_VIEWER of theirs are open on those nodes. Checked,
    claimed and written in one script, so two sockets at once cannot both pass."""
    if claim_among is None:
        await writes.commands(("HSET", present_key(broadcast_id), field, person))
        return True
    keys = [claims_key(person), present_key(broadcast_id)]
    args = [field, SOCKETS_PER_VIEWER, SOCKET_CLAIM_TTL_S, person, *sorted(claim_among)]
    return bool(await writes.script(_ENTER, keys, args))


async def leave(
    writes: RedisBatcher, broadcast_id: int, field: str, person: str, stay: Stay | None
) -> None:
    """The socket is gone: out of the room's presence, its claim released (a customer's:
    `stay` is their record for follow-ups), in one round trip shared with the other sockets
    coming and going."""
    commands: list[tuple[object, ...]] = [("HDEL", present_key(broadcast_id), field)]
    if stay is not None:
        commands.append(("HDEL", claims_key(person), field))
        commands.append(("RPUSH", SESSIONS_KEY, _encoder.encode(stay)))
    await writes.commands(*commands)


def stay_of(room_id: int, customer_id: int, engagement: Engagement, left_ms: int) -> Stay:
    return Stay(
        room_id,
        customer_id,
        engagement.joined_ms,
        left_ms,
        engagement.likes,
        engagement.chats,
        engagement.taps,
        dict(engagement.tapped),
    )


async def present_people(client: redis.asyncio.Redis, broadcast_id: int) -> set[str]:
    """The people with a socket in the room on a live node; dead nodes' fields are dropped."""
    fields = await client.hgetall(present_key(broadcast_id))  # type: ignore[misc]
    if not fields:
        return set()
    alive = await alive_nodes(client)
    dead = [f for f in fields if _node_of(f) not in alive]
    if dead:
        await client.hdel(present_key(broadcast_id), *dead)  # type: ignore[misc]
    return {p.decode() for f, p in fields.items() if _node_of(f) in alive}


async def count_viewers(client: redis.asyncio.Redis, broadcast_id: int) -> int:
    """Count the room's people now and keep the figure for the next snapshot."""
    viewers = len(await present_people(client, broadcast_id))
    await client.set(viewers_key(broadcast_id), viewers)
    return viewers


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
                        "tapped_items": {str(item): n for item, n in s.tapped.items()},
                    }
                    for s in stays
                ],
            )
        await client.ltrim(SESSIONS_KEY, len(raw), -1)  # type: ignore[misc]
        moved += len(raw)
