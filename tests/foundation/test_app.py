"""The app answers health, authenticates roles, and refuses bad input clearly."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.auth import Role

Client = AsyncTestClient[Litestar]


async def test_health_reports_database_and_redis_up(client: Client) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "redis": "ok",
        "persister": "ok",
        "persister_lag_seconds": 0.0,
        "dead_letters": 0,
    }


async def test_api_docs_are_served_at_schema(client: Client) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    assert "/api/auth/viewer" in response.json()["paths"]


@pytest.mark.database
async def test_viewer_logs_in_from_the_mini_program_and_sees_own_masked_profile(
    client: Client,
) -> None:
    login = await client.post(
        "/api/auth/viewer",
        json={"code": "wx-openid-1", "phone_code": "13812345678", "nickname": "林小姐"},
    )
    assert login.status_code == 201
    token = login.json()["token"]
    profile = await client.get("/api/customers/me", headers={"Authorization": f"Bearer {token}"})
    assert profile.status_code == 200
    assert profile.json()["phone_masked"] == "138****5678"
    again = await client.post("/api/auth/viewer", json={"code": "wx-openid-1"})
    assert again.json()["customer_id"] == login.json()["customer_id"]


async def test_missing_token_is_401(client: Client) -> None:
    assert (await client.get("/api/me")).status_code == 401


async def test_expired_token_is_401(client: Client, token_for: Callable[..., str]) -> None:
    token = token_for(Role.HQ, 1, ttl=-10)
    response = await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["detail"] == "token expired"


async def test_forged_token_is_401(client: Client, token_for: Callable[..., str]) -> None:
    token = token_for(Role.HQ, 1)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    response = await client.get("/api/me", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


async def test_wrong_role_is_403(client: Client, token_for: Callable[..., str]) -> None:
    viewer = token_for(Role.VIEWER, 1)
    response = await client.get("/api/stores", headers={"Authorization": f"Bearer {viewer}"})
    assert response.status_code == 403
    hq = token_for(Role.HQ, 1)
    assert (
        await client.get("/api/stores", headers={"Authorization": f"Bearer {hq}"})
    ).status_code == 200


async def test_wrong_typed_body_is_400_naming_the_field(client: Client) -> None:
    response = await client.post("/api/auth/viewer", json={"code": 42})
    assert response.status_code == 400
    assert response.json()["extra"][0]["key"] == "code"


async def test_unknown_field_is_400(client: Client) -> None:
    response = await client.post("/api/auth/viewer", json={"code": "x", "role": "hq"})
    assert response.status_code == 400


async def test_unknown_route_is_404(client: Client) -> None:
    assert (await client.get("/api/no-such-thing")).status_code == 404


def test_every_route_declares_its_roles(app: Litestar) -> None:
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if getattr(handler, "http_methods", None) == {"OPTIONS"}:
                continue  # Litestar's automatic preflight answer, not one of ours
            opt = handler.opt
            assert opt.get("public") or opt.get("roles"), f"{route.path} declares no roles"
