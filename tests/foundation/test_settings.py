"""Wrong settings stop start-up with one clear line naming the setting."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bench.processes import ROOT
from server.settings import SettingsError, load_settings


def test_defaults_are_the_embedded_sqlite_and_redis() -> None:
    settings = load_settings({})
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.redis.url == ""


def test_postgres_url_gets_the_async_driver() -> None:
    settings = load_settings({"DATABASE_URL": "postgresql://u:p@db:5432/storecast"})
    assert settings.database_url == "postgresql+asyncpg://u:p@db:5432/storecast"


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL"),
        ({"REDIS_URL": "http://x"}, "REDIS_URL"),
        ({"STORECAST_HTTP_PORT": "eighty"}, "STORECAST_HTTP_PORT"),
        ({"STORECAST_AUTH_SECRET": "short"}, "STORECAST_AUTH_SECRET"),
        ({"STORECAST_REDIS_AOF_REWRITE_MIN_MB": "0"}, "STORECAST_REDIS_AOF_REWRITE_MIN_MB"),
    ],
)
def test_a_wrong_setting_is_named(environ: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(environ)


def test_unreachable_database_stops_startup_with_one_line(tmp_path, redis_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "server.cli", "db", "upgrade"],
        env={
            "PATH": "/usr/bin:/bin",
            "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
            "REDIS_URL": redis_url,
            "STORECAST_VAR_DIR": str(tmp_path),
        },
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("storecast: DATABASE_URL"), result.stderr
