"""The embedded Redis runs with the persistence its settings name, and comes back with its data."""

from __future__ import annotations

from pathlib import Path

import redis

from server.redis import EmbeddedRedis
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
