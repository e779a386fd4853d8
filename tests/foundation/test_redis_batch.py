"""Concurrent Redis calls go out together and each still gets its own reply, in order, also
after Redis forgot the scripts."""

from __future__ import annotations

import asyncio

import pytest
import redis.exceptions

from server.redis_batch import RedisBatcher
from server.services import Services


async def test_concurrent_calls_share_round_trips_and_get_their_own_replies(
    services: Services,
) -> None:
    script = services.redis.register_script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
    batcher = RedisBatcher(services.redis)
    assert await batcher.script(script, ["n"], [0]) == 0  # loads the script
    connections = len(await services.redis.client_list())
    before = int((await services.redis.info("stats"))["total_commands_processed"])
    replies = await asyncio.gather(*(batcher.script(script, ["n"], [1]) for _ in range(300)))
    after = int((await services.redis.info("stats"))["total_commands_processed"])
    assert sorted(replies) == list(range(1, 301))  # every call ran once, atomically
    # Each call is its EVALSHA and the INCRBY inside it, nothing more (no NOSCRIPT probes)...
    assert after - before == 300 * 2 + 1
    # ...and 300 concurrent callers did not open 300 connections: they shared pipelines.
    assert len(await services.redis.client_list()) <= connections + 1


async def test_commands_queued_together_run_in_the_order_they_were_made(
    services: Services,
) -> None:
    batcher = RedisBatcher(services.redis)
    await services.redis.delete("claim")
    first, again, owner = await asyncio.gather(
        batcher.commands(("SET", "claim", 7, "NX", "EX", 60), ("GET", "claim")),
        batcher.commands(("SET", "claim", 8, "NX", "EX", 60), ("GET", "claim")),
        batcher.commands(("GET", "claim")),
    )
    assert first == [b"OK", b"7"]
    assert again == [None, b"7"]
    assert owner == [b"7"]


async def test_scripts_redis_forgot_are_loaded_again(services: Services) -> None:
    script = services.redis.register_script("return ARGV[1] .. '!'")
    batcher = RedisBatcher(services.redis)
    assert await batcher.script(script, [], ["a"]) == b"a!"
    await services.redis.script_flush()
    assert await asyncio.gather(
        batcher.script(script, [], ["b"]), batcher.script(script, [], ["c"])
    ) == [
        b"b!",
        b"c!",
    ]


async def test_a_dropped_connection_fails_its_batch_and_the_next_batch_reconnects(
    services: Services,
) -> None:
    batcher = RedisBatcher(services.redis)
    assert await batcher.commands(("PING",)) == [b"PONG"]
    await services.redis.client_kill_filter(_type="normal", skipme=True)  # the batcher's too
    with pytest.raises(redis.exceptions.ConnectionError):
        await batcher.commands(("PING",))
    assert await batcher.commands(("PING",)) == [b"PONG"]
