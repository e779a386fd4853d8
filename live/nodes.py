"""Which app nodes are alive: each gateway names itself and keeps a heartbeat key with a TTL.

Presence (live/presence.py) is written per node, so what a node held is counted only while
its heartbeat lasts: a node killed with -9 stops refreshing, its key expires after NODE_TTL_MS
and the next count leaves its sockets out. Bound: a dead node's viewers leave the count within
NODE_TTL_MS + HEARTBEAT_SECONDS + one counts interval (~8.3 s), since every node recounts its
rooms on each heartbeat.
"""

from __future__ import annotations

import secrets

import redis.asyncio

from live.keys import NODES_KEY, heartbeat_key

HEARTBEAT_SECONDS = 2.0
NODE_TTL_MS = 6000
"""Three missed heartbeats: a busy loop is late by far less, a dead node is gone after it."""


def new_node_id() -> str:
    return secrets.token_hex(4)


async def beat(client: redis.asyncio.Redis, node: str) -> None:
    """Announce (or keep announcing) this node as alive; called every HEARTBEAT_SECONDS."""
    async with client.pipeline(transaction=False) as pipe:
        pipe.set(heartbeat_key(node), 1, px=NODE_TTL_MS)
        pipe.sadd(NODES_KEY, node)
        await pipe.execute()


async def retire(client: redis.asyncio.Redis, node: str) -> None:
    """A node stopping cleanly: its presence stops counting at once."""
    async with client.pipeline(transaction=False) as pipe:
        pipe.delete(heartbeat_key(node))
        pipe.srem(NODES_KEY, node)
        await pipe.execute()


async def alive_nodes(client: redis.asyncio.Redis) -> set[str]:
    """Nodes whose heartbeat has not expired; the dead are forgotten on the way."""
    known = sorted(m.decode() for m in await client.smembers(NODES_KEY))  # type: ignore[misc]
    if not known:
        return set()
    beats = await client.mget([heartbeat_key(node) for node in known])
    dead = [node for node, found in zip(known, beats, strict=True) if found is None]
    if dead:
        await client.srem(NODES_KEY, *dead)  # type: ignore[misc]
    return {node for node, found in zip(known, beats, strict=True) if found is not None}
