"""The sandbox pays only the signed-in owner's order, and only through its pay link."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from orders.intake import Accepted
from orders.models import Order
from orders.pay_links import pay_token, pay_url
from orders.persister import OrderPersister
from server.auth import Role
from server.services import Services
from tests.orders.conftest import Order_, World, make_deal

pytestmark = pytest.mark.database

Client = AsyncTestClient[Litestar]


async def order_status(services: Services, order_id: str) -> str:
    async with services.sessionmaker() as session:
        return str(await session.scalar(select(Order.status).where(Order.id == order_id)))


@pytest.fixture
async def recorded(
    services: Services, world: World, order: Order_, persister: OrderPersister
) -> str:
    """An order of the world's first customer, accepted and written to the database."""
    placed = await order(await make_deal(services, world))
    assert isinstance(placed, Accepted)
    await persister.drain()
    return placed.order_id


def as_customer(token_for: Callable[..., str], world: World, index: int) -> dict[str, str]:
    token = token_for(Role.VIEWER, world.customer_ids[index], world.store_id)
    return {"Authorization": f"Bearer {token}"}


async def test_the_owner_sees_the_amount_and_pays_through_the_pay_link(
    client: Client,
    services: Services,
    world: World,
    recorded: str,
    token_for: Callable[..., str],
) -> None:
    link = urlsplit(pay_url(services.settings, recorded))
    api = f"/api{link.path}?{link.query}"
    owner = as_customer(token_for, world, 0)
    seen = await client.get(api, headers=owner)
    assert seen.status_code == 200
    assert seen.json() == {"order_id": recorded, "amount_fen": 9900, "status": "pending_payment"}
    paid = await client.post(api, headers=owner)
    assert paid.status_code == 200 and paid.json() == {"outcome": "applied", "paid": True}
    assert await order_status(services, recorded) == "paid"


async def test_another_customer_with_the_pay_link_neither_sees_nor_pays_the_order(
    client: Client,
    services: Services,
    world: World,
    recorded: str,
    token_for: Callable[..., str],
) -> None:
    api = f"/api/pay/sandbox/{recorded}?pay_token={pay_token(services.settings, recorded)}"
    stranger = as_customer(token_for, world, 1)
    assert (await client.get(api, headers=stranger)).status_code == 404
    assert (await client.post(api, headers=stranger)).status_code == 404
    assert await order_status(services, recorded) == "pending_payment"


async def test_without_a_viewer_token_the_sandbox_pays_nothing(
    client: Client, services: Services, recorded: str, token_for: Callable[..., str]
) -> None:
    api = f"/api/pay/sandbox/{recorded}?pay_token={pay_token(services.settings, recorded)}"
    assert (await client.post(api)).status_code == 401
    host = {"Authorization": f"Bearer {token_for(Role.HOST, 1, 1)}"}
    assert (await client.post(api, headers=host)).status_code == 403
    assert await order_status(services, recorded) == "pending_payment"


async def test_the_owner_without_the_right_pay_token_pays_nothing(
    client: Client,
    services: Services,
    world: World,
    order: Order_,
    recorded: str,
    persister: OrderPersister,
    token_for: Callable[..., str],
) -> None:
    other = await order(await make_deal(services, world))
    assert isinstance(other, Accepted)
    await persister.drain()
    owner = as_customer(token_for, world, 0)
    missing = await client.post(f"/api/pay/sandbox/{recorded}", headers=owner)
    wrong = await client.post(f"/api/pay/sandbox/{recorded}?pay_token=guess", headers=owner)
    borrowed = await client.post(
        f"/api/pay/sandbox/{recorded}?pay_token={pay_token(services.settings, other.order_id)}",
        headers=owner,
    )
    assert (missing.status_code, wrong.status_code, borrowed.status_code) == (400, 403, 403)
    assert await order_status(services, recorded) == "pending_payment"


async def test_the_pay_link_of_an_accepted_order_carries_its_pay_token(
    client: Client, services: Services, world: World, token_for: Callable[..., str]
) -> None:
    deal = await make_deal(services, world)
    placed = await client.post(
        "/api/orders",
        json={"idempotency_key": "k1", "deal_id": deal, "quantity": 1},
        headers=as_customer(token_for, world, 0),
    )
    link = urlsplit(placed.json()["pay_url"])
    order_id = placed.json()["order_id"]
    assert link.path == f"/pay/sandbox/{order_id}"
    assert parse_qs(link.query)["pay_token"] == [pay_token(services.settings, order_id)]
    page = await client.get(f"{link.path}?{link.query}")
    assert page.status_code == 200 and "/static/js/sandbox-pay.js" in page.text
    assert "99.00" not in page.text  # the page itself tells nothing of the order


async def test_the_sandbox_api_is_described_in_the_schema(client: Client) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    assert {"get", "post"} <= set(paths["/api/pay/sandbox/{order_id}"])


async def test_with_the_sandbox_configured_there_is_no_wechat_prepay(
    client: Client, services: Services, world: World, recorded: str, token_for: Callable[..., str]
) -> None:
    response = await client.post(
        f"/api/orders/{recorded}/prepay", headers=as_customer(token_for, world, 0)
    )
    assert response.status_code == 404
