"""Viewer login through WeChat: the openid and the phone number come from WeChat alone."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.support.wechat_api import FakeWechat

Client = AsyncTestClient[Litestar]
Wechat = tuple[FakeWechat, str]


async def _profile(client: Client, token: str) -> dict[str, object]:
    response = await client.get("/api/customers/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    return dict(response.json())


@pytest.mark.database
async def test_two_login_codes_of_one_wechat_user_enter_the_same_customer(
    wechat_client: Client, wechat: Wechat
) -> None:
    fake, _ = wechat
    fake.openids.update({"code-a": "oUser-1", "code-b": "oUser-1"})
    first = await wechat_client.post("/api/auth/viewer", json={"code": "code-a"})
    second = await wechat_client.post("/api/auth/viewer", json={"code": "code-b"})
    assert first.status_code == second.status_code == 201
    assert first.json()["customer_id"] == second.json()["customer_id"]


@pytest.mark.database
async def test_the_phone_number_is_the_one_wechat_gives_for_the_phone_code(
    wechat_client: Client, wechat: Wechat
) -> None:
    fake, _ = wechat
    fake.openids["code-a"] = "oUser-2"
    fake.phones["phone-code-a"] = "13812345678"
    login = await wechat_client.post(
        "/api/auth/viewer", json={"code": "code-a", "phone_code": "phone-code-a"}
    )
    assert login.status_code == 201
    assert (await _profile(wechat_client, login.json()["token"]))["phone_masked"] == "138****5678"


async def test_a_phone_number_named_by_the_caller_is_refused(wechat_client: Client) -> None:
    response = await wechat_client.post(
        "/api/auth/viewer", json={"code": "code-a", "phone": "13900000000"}
    )
    assert response.status_code == 400


async def test_a_code_wechat_refuses_is_401_with_its_errcode(wechat_client: Client) -> None:
    response = await wechat_client.post("/api/auth/viewer", json={"code": "never-issued"})
    assert response.status_code == 401
    assert "40029" in response.json()["detail"]


async def test_a_login_code_is_good_once(wechat_client: Client, wechat: Wechat) -> None:
    wechat[0].openids["code-a"] = "oUser-3"
    assert (
        await wechat_client.post("/api/auth/viewer", json={"code": "code-a"})
    ).status_code == 201
    assert (
        await wechat_client.post("/api/auth/viewer", json={"code": "code-a"})
    ).status_code == 401


async def test_wechat_busy_is_503_so_the_viewer_retries(
    wechat_client: Client, wechat: Wechat
) -> None:
    wechat[0].busy = True
    response = await wechat_client.post("/api/auth/viewer", json={"code": "code-a"})
    assert response.status_code == 503


async def test_a_phone_code_wechat_refuses_refuses_the_login(
    wechat_client: Client, wechat: Wechat
) -> None:
    wechat[0].openids["code-a"] = "oUser-4"
    response = await wechat_client.post(
        "/api/auth/viewer", json={"code": "code-a", "phone_code": "made-up"}
    )
    assert response.status_code == 401
    assert "40029" in response.json()["detail"]


async def test_a_phone_number_issued_to_another_app_is_refused(
    wechat_client: Client, wechat: Wechat
) -> None:
    fake, _ = wechat
    fake.openids["code-a"] = "oUser-5"
    fake.phones["phone-code-a"] = "13812345678"
    fake.phone_app_id = "wxanotherapp"
    response = await wechat_client.post(
        "/api/auth/viewer", json={"code": "code-a", "phone_code": "phone-code-a"}
    )
    assert response.status_code == 401


async def test_one_access_token_serves_many_phone_logins(
    wechat_client: Client, wechat: Wechat
) -> None:
    fake, _ = wechat
    for n in range(3):
        fake.openids[f"code-{n}"] = f"oUser-6{n}"
        fake.phones[f"phone-{n}"] = f"1380000000{n}"
        response = await wechat_client.post(
            "/api/auth/viewer", json={"code": f"code-{n}", "phone_code": f"phone-{n}"}
        )
        assert response.status_code == 201
    assert fake.tokens_issued == 1


async def test_a_revoked_access_token_is_renewed_and_the_login_goes_through(
    wechat_client: Client, wechat: Wechat
) -> None:
    fake, _ = wechat
    fake.openids.update({"code-a": "oUser-7", "code-b": "oUser-8"})
    fake.phones.update({"phone-a": "13800000001", "phone-b": "13800000002"})
    body = {"code": "code-a", "phone_code": "phone-a"}
    assert (await wechat_client.post("/api/auth/viewer", json=body)).status_code == 201
    fake.revoked_tokens.add("token-1")
    body = {"code": "code-b", "phone_code": "phone-b"}
    assert (await wechat_client.post("/api/auth/viewer", json=body)).status_code == 201
    assert fake.tokens_issued == 2
