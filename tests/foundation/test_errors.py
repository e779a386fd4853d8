"""Every refusal and failure of the API answers one body, `{"status_code", "detail"}`, whatever
raised it: Litestar's validation, a domain error kind, or a crash; and handlers reach what they
need through injection, never through the app's state."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

import attribution.controllers
from server import factories
from server.auth import Role
from server.errors import ErrorBody
from server.services import Services

Client = AsyncTestClient[Litestar]
ROOT = Path(__file__).resolve().parents[2]


def error_body(response: httpx.Response, status: int) -> ErrorBody:
    """The answer's body, checked to be exactly an ErrorBody of this status."""
    assert response.status_code == status, response.text
    body = msgspec.json.decode(response.content, type=ErrorBody)
    assert body.status_code == status and body.detail
    return body


async def scheduled_store_broadcast(services: Services) -> tuple[int, int]:
    """A store's broadcast not yet live, and the store."""
    async with services.sessionmaker() as session, session.begin():
        store = await factories.add_store(session)
        broadcast = await factories.add_broadcast(session, kind="store", store_id=store.id)
        return broadcast.id, store.id


@pytest.mark.database
async def test_refusals_of_every_kind_answer_the_one_error_body(
    client: Client, services: Services, token_for: Callable[..., str]
) -> None:
    broadcast_id, store_id = await scheduled_store_broadcast(services)
    hq = {"Authorization": f"Bearer {token_for(Role.HQ, 1)}"}
    other_host = {"Authorization": f"Bearer {token_for(Role.HOST, 2, store_id=store_id + 1)}"}

    invalid = await client.post("/api/auth/viewer", json={"code": 42})
    assert error_body(invalid, 400).extra
    error_body(await client.get("/api/deals/999999", headers=hq), 404)
    forbidden = await client.post(f"/api/broadcasts/{broadcast_id}/live", headers=other_host)
    assert error_body(forbidden, 403).detail == "this broadcast belongs to another store"
    conflict = await client.post(f"/api/broadcasts/{broadcast_id}/end", headers=hq)
    assert error_body(conflict, 409).detail == "a scheduled broadcast cannot end"
    error_body(await client.get("/api/stores"), 401)


@pytest.mark.database
async def test_a_crash_answers_500_naming_nothing_inside(
    client: Client, token_for: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(attribution.controllers, "stores_with_regions", broken)
    hq = {"Authorization": f"Bearer {token_for(Role.HQ, 1)}"}
    body = error_body(await client.get("/api/stores", headers=hq), 500)
    assert body == ErrorBody(500, "Internal Server Error")


def test_no_handler_touches_the_app_state() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for package in ("live", "orders", "attribution")
        for path in sorted((ROOT / package).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\bapp\.state\b|\bextras\b", line)
    ]
    assert found == []


def test_the_schema_lists_every_api_route_with_its_error_answers(app: Litestar) -> None:
    schema = app.openapi_schema.to_schema()
    paths = schema["paths"]
    routes = {
        (route.path, method)
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if handler.include_in_schema and route.path.startswith("/api/")
        for method in handler.http_methods
        if method != "OPTIONS"
    }
    assert len(routes) > 30
    for path, method in routes:
        documented = re.sub(r"\{(\w+):\w+\}", r"{\1}", path)
        operation = paths[documented][method.lower()]
        for status in ("400", "404", "409", "500"):
            assert status in operation["responses"], f"{method} {path} lacks {status}"
        refused = operation["responses"]["500"]["content"]["application/json"]["schema"]
        assert refused == {"$ref": "#/components/schemas/ErrorBody"}, f"{method} {path}"
