"""Concurrent script calls go to Redis together and each still gets its own reply, also
after Redis forgot the scripts."""

from __future__ import annotations

import asyncio

from orders.script_batch import ScriptBatcher
from server.services import Services


async def test_concurrent_calls_share_round_trips_and_get_their_own_replies(
    services: Services,
) -> None:
    script = services.redis.register_script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
    batcher = ScriptBatcher(services.redis)
    assert await batcher.call(script, ["n"], [0]) == 0  # loads the script
    connections = len(await services.redis.client_list())
    before = int((await services.redis.info("stats"))["total_commands_processed"])
    replies = await asyncio.gather(*(batcher.call(script, ["n"], [1]) for _ in range(300)))
    after = int((await services.redis.info("stats"))["total_commands_processed"])
    assert sorted(replies) == list(range(1, 301))  # every call ran once, atomically
    # Each call is its EVALSHA and the INCRBY inside it, nothing more (no NOSCRIPT probes)...
    assert after - before == 300 * 2 + 1
    # ...and 300 concurrent callers did not open 300 connections: they shared pipelines.
    assert len(await services.redis.client_list()) <= connections + 1


async def test_scripts_redis_forgot_are_loaded_again(services: Services) -> None:
    script = services.redis.register_script("return ARGV[1] .. '!'")
    batcher = ScriptBatcher(services.redis)
    assert await batcher.call(script, [], ["a"]) == b"a!"
    await services.redis.script_flush()
    assert await asyncio.gather(
        batcher.call(script, [], ["b"]), batcher.call(script, [], ["c"])
    ) == [
        b"b!",
        b"c!",
    ]
