"""The embedded Redis runs with the persistence its settings name, comes back with its data,
and is waited for, not started twice, while it replays its AOF."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import redis
import redis.asyncio

from server.redis import PORT_FILE, EmbeddedRedis, aof_rewrite_in_progress, running_embedded_url
from server.settings import load_settings


def test_embedded_redis_runs_with_its_persistence_settings(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "STORECAST_REDIS_APPENDFSYNC": "always",
            "STORECAST_REDIS_AOF_REWRITE_MIN_MB": "128",
        }
    )
    server = EmbeddedRedis.configured(tmp_path, settings.redis).start()
    try:
        config = redis.Redis.from_url(server.url).config_get("a*")
        assert config["appendonly"] == "yes"
        assert config["appendfsync"] == "always"
        assert config["auto-aof-rewrite-min-size"] == str(128 * 1024 * 1024)
    finally:
        server.stop()


def test_what_redis_was_told_is_there_after_it_restarts(tmp_path: Path) -> None:
    server = EmbeddedRedis.configured(tmp_path, load_settings({}).redis).start()
    try:
        redis.Redis.from_url(server.url).hset("{deal:1}:state", mapping={"stock": 499})
        server.stop()
        server.start()  # replays its append-only file before it answers
        assert redis.Redis.from_url(server.url).hget("{deal:1}:state", "stock") == b"499"
    finally:
        server.stop()


def test_a_second_process_waits_for_a_redis_replaying_its_aof(tmp_path: Path) -> None:
    server = EmbeddedRedis.configured(tmp_path, load_settings({}).redis).start()
    client = redis.Redis.from_url(server.url)
    client.execute_command("DEBUG", "POPULATE", 1_000_000)  # about a second to replay here
    client.bgrewriteaof()
    while (
        client.info("persistence")["aof_rewrite_in_progress"]
        or client.info("persistence")["aof_rewrite_scheduled"]
    ):
        time.sleep(0.05)
    server.stop()
    restarting = threading.Thread(target=server.start)
    restarting.start()
    try:
        while not (tmp_path / PORT_FILE).exists():  # named as soon as it is started
            time.sleep(0.01)
        url = running_embedded_url(tmp_path)
        assert url == server.url
        assert redis.Redis.from_url(url).dbsize() == 1_000_000  # it waited for the replay
    finally:
        restarting.join()
        server.stop()


def test_files_of_a_redis_that_is_gone_name_none(tmp_path: Path) -> None:
    server = EmbeddedRedis.configured(tmp_path, load_settings({}).redis).start()
    assert server.process is not None
    server.process.kill()  # kill -9: its port and pid files stay behind
    server.process.wait()
    assert (tmp_path / PORT_FILE).exists()
    assert running_embedded_url(tmp_path) is None


async def until_rewriting_is(client: redis.asyncio.Redis, rewriting: bool) -> None:
    """Redis is another process: polling its state is all there is."""
    while True:
        if await aof_rewrite_in_progress(client) == rewriting:
            return
        await asyncio.sleep(0.01)


async def test_a_rewrite_of_the_append_only_file_is_seen_while_it_runs(tmp_path: Path) -> None:
    server = EmbeddedRedis.configured(tmp_path, load_settings({}).redis).start()
    client = redis.asyncio.Redis.from_url(server.url)
    try:
        assert not await aof_rewrite_in_progress(client)
        await client.execute_command("DEBUG", "POPULATE", 200)
        # A millisecond per key in the rewriting child: long enough to be seen at work.
        await client.config_set("rdb-key-save-delay", 1000)
        await client.bgrewriteaof()
        async with asyncio.timeout(10):
            await until_rewriting_is(client, True)  # it may be scheduled first
            await client.config_set("rdb-key-save-delay", 0)
            await until_rewriting_is(client, False)
    finally:
        await client.aclose()
        server.stop()
