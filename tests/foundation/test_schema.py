"""/schema says what the routes do: who may call them, how they fail, what they return."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

Client = AsyncTestClient[Litestar]
ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}


@pytest.fixture
async def schema(client: Client) -> dict[str, Any]:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


def test_protected_routes_declare_bearer_auth_and_public_ones_none(schema: dict[str, Any]) -> None:
    scheme = schema["components"]["securitySchemes"]["BearerToken"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    secured = {(m, p) for m, p, op in _operations(schema) if op.get("security")}
    assert ("GET", "/api/rooms/{room_id}") in secured
    assert ("POST", "/api/deals") in secured
    assert ("POST", "/api/auth/viewer") not in secured
    assert ("GET", "/healthz") not in secured
    for method, path, operation in _operations(schema):
        if operation.get("security"):
            assert operation["security"] == [{"BearerToken": []}], (method, path)


def test_every_route_describes_its_errors_with_the_one_error_body(schema: dict[str, Any]) -> None:
    for method, path, operation in _operations(schema):
        responses = operation["responses"]
        expected = {"400", "404", "500"} | ({"401", "403"} if operation.get("security") else set())
        assert expected <= responses.keys(), (method, path)
        if path in ("/api/orders", "/api/payments/notify"):
            continue  # their own refusals: below, and the provider's FAIL answer
        for status in expected:
            body = responses[status]["content"]["application/json"]["schema"]
            assert body == ERROR_BODY, (method, path, status)


def test_order_placement_describes_its_rejection_body(schema: dict[str, Any]) -> None:
    responses = schema["paths"]["/api/orders"]["post"]["responses"]
    for status in ("400", "403", "404", "409", "429"):
        body = responses[status]["content"]["application/json"]["schema"]
        assert {"$ref": "#/components/schemas/OrderRejected"} in body["oneOf"], status


def test_stream_positions_are_described_as_epoch_offset_pairs(schema: dict[str, Any]) -> None:
    streams = schema["components"]["schemas"]["Snapshot"]["properties"]["streams"]
    pair = streams["additionalProperties"]
    assert pair["type"] == "array"
    assert [item["type"] for item in pair["prefixItems"]] == ["string", "integer"]
    assert (pair["minItems"], pair["maxItems"]) == (2, 2)


def test_path_ids_are_bounded_to_the_database_integer(schema: dict[str, Any]) -> None:
    (room_id,) = schema["paths"]["/api/rooms/{room_id}"]["get"]["parameters"]
    assert (room_id["schema"]["minimum"], room_id["schema"]["maximum"]) == (1, 2**31 - 1)
