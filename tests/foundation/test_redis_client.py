"""The Redis client packs commands in C (server/redis.py) and Redis reads them as sent."""

from __future__ import annotations

import pytest
from redis.exceptions import DataError

from server.redis import make_client


async def test_values_of_every_type_reach_redis_as_sent(redis_url: str) -> None:
    client = make_client(redis_url)
    try:
        await client.delete("packing:h")
        await client.hset(
            "packing:h",
            mapping={"text": "双面羊绒大衣", "int": 189900, "float": 0.5, "bytes": b"\x00\xff"},
        )
        assert await client.hgetall("packing:h") == {
            b"text": "双面羊绒大衣".encode(),
            b"int": b"189900",
            b"float": b"0.5",
            b"bytes": b"\x00\xff",
        }
        assert await client.config_get("appendonly")  # a two-word command name
        async with client.pipeline(transaction=False) as pipe:
            pipe.incr("packing:n").incr("packing:n")
            assert (await pipe.execute())[-1] >= 2
    finally:
        await client.delete("packing:h", "packing:n")
        await client.aclose()


async def test_a_value_redis_cannot_hold_is_refused_before_sending(redis_url: str) -> None:
    client = make_client(redis_url)
    try:
        with pytest.raises(DataError):
            await client.set("packing:none", None)  # type: ignore[arg-type]
        assert await client.exists("packing:none") == 0
    finally:
        await client.aclose()
