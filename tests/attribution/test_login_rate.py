"""Logins are limited per client address, anonymous (web) logins included."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from bench.processes import free_port, service_env
from server.app import create_app
from server.settings import load_settings

LIMIT = 3


@pytest.fixture
async def limited_client(
    database_url: str, redis_url: str, tmp_path: Path
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    env = service_env(
        database_url,
        redis_url,
        tmp_path / "var",
        STORECAST_HTTP_WS_PORT=str(free_port()),
        STORECAST_AUTH_LOGINS_PER_MINUTE=str(LIMIT),
    )
    async with AsyncTestClient(create_app(load_settings(env))) as client:
        yield client


@pytest.mark.database
async def test_anonymous_logins_beyond_the_limit_of_an_address_are_429_and_make_no_customer(
    limited_client: AsyncTestClient[Litestar],
) -> None:
    made = set()
    for n in range(LIMIT):
        response = await limited_client.post("/api/auth/viewer", json={"code": f"web-{n}"})
        assert response.status_code == 201
        made.add(response.json()["customer_id"])
    refused = await limited_client.post("/api/auth/viewer", json={"code": "web-extra"})
    assert refused.status_code == 429
    assert len(made) == LIMIT
    again = await limited_client.post("/api/auth/viewer", json={"code": "web-0"})
    assert again.status_code == 429
