"""Several app processes share one Redis and one database."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from bench.processes import ServiceProcess


@pytest.mark.database
@pytest.mark.slow
def test_a_write_through_one_node_is_read_through_the_other(
    start_app_process: Callable[..., ServiceProcess],
) -> None:
    first, second = start_app_process(), start_app_process()
    assert first.port != second.port
    login = httpx.post(
        f"{first.url}/api/auth/viewer",
        json={"code": "shared-openid", "phone_code": "13900001111", "nickname": "周"},
    )
    assert login.status_code == 201
    token = login.json()["token"]
    profile = httpx.get(
        f"{second.url}/api/customers/me", headers={"Authorization": f"Bearer {token}"}
    )
    assert profile.status_code == 200
    assert profile.json()["id"] == login.json()["customer_id"]
    assert profile.json()["phone_masked"] == "139****1111"
