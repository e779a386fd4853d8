"""The app secret that WeChat wants in code2session's query string never reaches a log."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.logs import configure_logging
from tests.support.wechat_api import APP_SECRET, FakeWechat


@pytest.fixture
def service_logging(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """The service's own logging at INFO, with pytest's capture beside its handler."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    httpx_level = logging.getLogger("httpx").level
    configure_logging("INFO")
    root.addHandler(caplog.handler)
    caplog.handler.setLevel(logging.DEBUG)
    yield caplog
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("httpx").setLevel(httpx_level)


async def test_a_wechat_login_logs_no_app_secret(
    wechat_client: AsyncTestClient[Litestar],
    wechat: tuple[FakeWechat, str],
    service_logging: pytest.LogCaptureFixture,
) -> None:
    wechat[0].openids["code-a"] = "oUser-logs"
    response = await wechat_client.post("/api/auth/viewer", json={"code": "code-a"})
    assert response.status_code == 201
    ours = [r for r in service_logging.records if r.name != "uvicorn.access"]  # not WeChat's
    assert all(APP_SECRET not in record.getMessage() for record in ours)
