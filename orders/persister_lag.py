"""How far SQL trails the order streams: the persister's backlog, read from Redis alone.

The oldest order not yet in SQL is either the oldest pending entry (delivered, not yet
acknowledged) or the first entry after the group's last delivered one; its id is its
acceptance time in Redis' clock, so the lag is read against Redis' TIME and no host clock
enters. Two pipelined round trips whatever the number of deals."""

from __future__ import annotations

from typing import Any

import redis.asyncio

from orders.keys import GROUP, STREAMS_KEY, DealKeys
from server.backlog import Backlog


def _ms(entry_id: bytes | str) -> int:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(text.split("-")[0])


def _group(groups: Any) -> dict[str, Any] | None:
    if isinstance(groups, Exception):
        return None  # the stream exists without the group: the persister has not seen it yet
    return next((g for g in groups if g["name"] == GROUP.encode()), None)


async def read_backlog(client: redis.asyncio.Redis) -> Backlog:
    members = await client.smembers(STREAMS_KEY)  # type: ignore[misc]
    deals = [DealKeys(int(m)) for m in sorted(members)]
    async with client.pipeline(transaction=False) as pipe:
        pipe.time()
        for keys in deals:
            pipe.xinfo_groups(keys.stream)
            pipe.xpending(keys.stream, GROUP)
            pipe.xlen(keys.stream)
            pipe.xlen(keys.dead)
        first = await pipe.execute(raise_on_error=False)
    seconds, micros = first[0]
    now_ms = seconds * 1000 + micros // 1000
    oldest: list[int] = []
    unpersisted = dead = 0
    async with client.pipeline(transaction=False) as pipe:
        for index, keys in enumerate(deals):
            groups, pending, length, dead_count = first[1 + 4 * index : 5 + 4 * index]
            dead += dead_count if isinstance(dead_count, int) else 0
            group = _group(groups)
            if group is None:
                unpersisted += length if isinstance(length, int) else 0
                pipe.xrange(keys.stream, count=1)
                continue
            pending_count = pending.get("pending", 0) if isinstance(pending, dict) else 0
            if pending_count:
                oldest.append(_ms(pending["min"]))
            lag = group.get("lag")  # entries not yet delivered (Redis 7)
            if isinstance(lag, int):
                unpersisted += pending_count + lag
            elif isinstance(length, int):
                # Redis 6.2 does not count them: the persister trims what it acknowledged
                # once a second, so the stream's length is the backlog within a second's worth.
                unpersisted += length
            pipe.xrange(keys.stream, min=f"({group['last-delivered-id'].decode()}", count=1)
        firsts = await pipe.execute(raise_on_error=False)
    for first_undelivered in firsts:
        if isinstance(first_undelivered, list) and first_undelivered:
            oldest.append(_ms(first_undelivered[0][0]))
    lag_s = max(0, now_ms - min(oldest)) / 1000 if oldest else 0.0
    return Backlog(lag_seconds=lag_s, unpersisted=unpersisted, dead_letters=dead)
