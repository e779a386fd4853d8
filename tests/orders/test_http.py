"""The HTTP side: place, read and refund orders; nobody reads another customer's order."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from orders.persister import OrderPersister
from server.auth import Role
from server.services import Services
from tests.orders.conftest import World, make_deal, stock_left
from tests.orders.test_payments import pay
from tests.support.http import bearer

pytestmark = pytest.mark.database
Client = AsyncTestClient[Litestar]


async def test_a_viewer_orders_pays_and_reads_their_orders_over_http(
    client: Client,
    services: Services,
    world: World,
    persister: OrderPersister,
    token_for: Callable[..., str],
) -> None:
    deal = await make_deal(services, world, stock=5)
    me = bearer(token_for(Role.VIEWER, world.customer_ids[0], world.store_id))
    placed = await client.post(
        "/api/orders", json={"idempotency_key": "k1", "deal_id": deal, "quantity": 2}, headers=me
    )
    assert placed.status_code == 201, placed.text
    body = placed.json()
    assert body["type"] == "order.accepted" and body["amount_due_fen"] == 19800
    assert f"/pay/sandbox/{body['order_id']}?pay_token=" in body["pay_url"]
    await persister.drain()
    await pay(services, body["order_id"], 19800)
    mine = (await client.get("/api/orders/mine", headers=me)).json()
    assert [(o["id"], o["status"]) for o in mine] == [(body["order_id"], "paid")]
    one = await client.get(f"/api/orders/{body['order_id']}", headers=me)
    assert one.json()["quantity"] == 2


async def test_bad_order_bodies_get_clear_errors_and_reserve_nothing(
    client: Client, services: Services, world: World, token_for: Callable[..., str]
) -> None:
    deal = await make_deal(services, world, stock=5)
    me = bearer(token_for(Role.VIEWER, world.customer_ids[0], world.store_id))
    wrong_type = await client.post(
        "/api/orders", json={"idempotency_key": "k", "deal_id": "one", "quantity": 1}, headers=me
    )
    assert wrong_type.status_code == 400 and "deal_id" in wrong_type.text
    zero = await client.post(
        "/api/orders", json={"idempotency_key": "k", "deal_id": deal, "quantity": 0}, headers=me
    )
    assert zero.status_code == 400 and zero.json()["reason"] == "invalid_quantity"
    unknown = await client.post(
        "/api/orders", json={"idempotency_key": "k", "deal_id": 424242, "quantity": 1}, headers=me
    )
    assert unknown.status_code == 404 and unknown.json()["reason"] == "unknown_deal"
    extra = await client.post(
        "/api/orders",
        json={"idempotency_key": "k", "deal_id": deal, "quantity": 1, "price_fen": 1},
        headers=me,
    )
    assert extra.status_code == 400
    assert await stock_left(services, deal) == 5


async def test_another_customers_order_is_not_found_for_reading_or_refunding(
    client: Client,
    services: Services,
    world: World,
    persister: OrderPersister,
    token_for: Callable[..., str],
) -> None:
    deal = await make_deal(services, world, stock=5)
    owner = bearer(token_for(Role.VIEWER, world.customer_ids[0], world.store_id))
    stranger = bearer(token_for(Role.VIEWER, world.customer_ids[1], world.store_id))
    placed = (
        await client.post(
            "/api/orders",
            json={"idempotency_key": "k", "deal_id": deal, "quantity": 1},
            headers=owner,
        )
    ).json()
    await persister.drain()
    await pay(services, placed["order_id"], placed["amount_due_fen"])
    order_url = f"/api/orders/{placed['order_id']}"
    assert (await client.get(order_url, headers=stranger)).status_code == 404
    refused = await client.post(f"{order_url}/refund", json={}, headers=stranger)
    assert refused.status_code == 404
    assert (await client.get("/api/orders/mine", headers=stranger)).json() == []
    assert (await client.get(order_url, headers=owner)).json()["status"] == "paid"


async def test_hq_plans_launches_and_adds_stock_to_a_running_deal(
    client: Client, services: Services, world: World, token_for: Callable[..., str]
) -> None:
    hq = bearer(token_for(Role.HQ, 1))
    viewer = bearer(token_for(Role.VIEWER, world.customer_ids[0], world.store_id))
    terms = {"kind": "flash_sale", "product_id": world.product_id, "price_fen": 9900, "stock": 2}
    assert (await client.post("/api/deals", json=terms, headers=viewer)).status_code == 403
    planned = await client.post("/api/deals", json=terms, headers=hq)
    assert planned.status_code == 201, planned.text
    deal = planned.json()["id"]
    launched = await client.post(f"/api/deals/{deal}/launch", headers=hq)
    assert launched.json()["status"] == "live"
    added = await client.post(f"/api/deals/{deal}/stock", json={"units": 3}, headers=hq)
    assert added.json()["stock"] == 5 and added.json()["stock_left"] == 5
    assert await stock_left(services, deal) == 5
    bad = await client.post("/api/deals", json={**terms, "kind": "raffle"}, headers=hq)
    assert bad.status_code == 400


async def test_an_order_flood_over_http_is_rate_limited(
    client: Client, services: Services, world: World, token_for: Callable[..., str]
) -> None:
    deal = await make_deal(services, world, stock=100, per_customer_limit=0)
    me = bearer(token_for(Role.VIEWER, world.customer_ids[0], world.store_id))
    codes = [
        (
            await client.post(
                "/api/orders",
                json={"idempotency_key": f"k{n}", "deal_id": deal, "quantity": 1},
                headers=me,
            )
        ).status_code
        for n in range(12)
    ]
    assert 429 in codes and codes.count(201) <= 2 * 5  # at most two one-second windows' worth
    assert await stock_left(services, deal) == 100 - codes.count(201)
