"""Fixtures of the sign-in tests: the app in-process, asking a local WeChat stand-in."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from bench.processes import free_port, service_env
from server.app import create_app
from server.settings import load_settings
from tests.support.local_server import serving
from tests.support.wechat_api import APP_ID, APP_SECRET, FakeWechat


@pytest.fixture
def wechat() -> Iterator[tuple[FakeWechat, str]]:
    fake = FakeWechat()
    with serving(fake.app()) as url:
        yield fake, url


@pytest.fixture
async def wechat_client(
    database_url: str, redis_url: str, tmp_path: Path, wechat: tuple[FakeWechat, str]
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The app with WeChat as its identity provider."""
    env = service_env(
        database_url,
        redis_url,
        tmp_path / "var",
        STORECAST_HTTP_WS_PORT=str(free_port()),
        STORECAST_AUTH_LOGIN_PROVIDER="wechat",
        STORECAST_AUTH_WECHAT_BASE_URL=wechat[1],
        STORECAST_AUTH_WECHAT_APP_ID=APP_ID,
        STORECAST_AUTH_WECHAT_APP_SECRET=APP_SECRET,
    )
    async with AsyncTestClient(create_app(load_settings(env))) as client:
        yield client
