"""Orders on behalf (代客下单): a guide holds a deal's units for a customer, who confirms through
the link and pays; unconfirmed, the hold expires and the units go back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
import time_machine
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from attribution.models import SaleCredit
from live.publish import LiveRooms
from orders.expiry import sweep_expired
from orders.models import Deal, Order
from orders.persister import OrderPersister
from server import factories
from server.auth import Role
from server.demo import load_demo_data
from server.model_base import utcnow
from server.services import Services
from server.settings import Settings
from tests.orders.conftest import Order_, World, make_deal, stock_left
from tests.orders.test_coupons import buy_pack, pack_deal
from tests.orders.test_payments import order_status, pay
from tests.support.http import bearer

pytestmark = pytest.mark.database

Client = AsyncTestClient[Litestar]


async def add_guide(services: Services, store_id: int, code: str = "g-chen") -> int:
    async with services.sessionmaker() as session, session.begin():
        return (await factories.add_guide(session, store_id, share_code=code)).id


def link_parts(confirm_url: str) -> tuple[str, str]:
    query = parse_qs(urlparse(confirm_url).query)
    return query["order"][0], query["token"][0]


async def test_a_guide_holds_units_and_the_customer_confirms_and_pays(
    client: Client,
    services: Services,
    world: World,
    token_for: Callable[..., str],
    persister: OrderPersister,
) -> None:
    deal = await make_deal(services, world, price_fen=5000, stock=10)
    guide = await add_guide(services, world.store_id)
    as_guide = bearer(token_for(Role.GUIDE, guide, world.store_id))
    customer = world.customer_ids[3]
    placed = await client.post(
        "/api/on-behalf-orders",
        json={"idempotency_key": "ob-1", "customer_id": customer, "deal_id": deal, "quantity": 2},
        headers=as_guide,
    )
    assert placed.status_code == 201, placed.text
    body = placed.json()
    assert body["amount_due_fen"] == 10000
    assert await stock_left(services, deal) == 8  # held for the customer
    pay_by = datetime.fromisoformat(body["pay_by"])
    assert timedelta(minutes=29) < pay_by - utcnow() <= timedelta(minutes=30)
    await persister.drain()
    async with services.sessionmaker() as session:
        order = await session.get(Order, body["order_id"])
    assert order is not None
    assert (order.placed_by_guide_id, order.room_store_id, order.customer_id) == (
        guide,
        world.store_id,
        customer,
    )

    order_id, token = link_parts(body["confirm_url"])
    me = bearer(token_for(Role.VIEWER, customer, world.store_id))
    link = f"/api/on-behalf-orders/{order_id}"
    seen = (await client.get(link, params={"token": token}, headers=me)).json()
    assert (seen["quantity"], seen["guide_name"], seen["confirmed"], seen["pay_url"]) == (
        2,
        "陈导购",
        False,
        "",
    )
    stranger = bearer(token_for(Role.VIEWER, world.customer_ids[4], world.store_id))
    assert (await client.get(link, params={"token": token}, headers=stranger)).status_code == 404
    assert (await client.get(link, params={"token": "forged"}, headers=me)).status_code == 404
    confirmed = await client.post(f"{link}/confirm", params={"token": token}, headers=me)
    assert confirmed.status_code == 200 and confirmed.json()["confirmed"] is True
    assert "pay_token=" in confirmed.json()["pay_url"]
    await pay(services, order_id, 10000)
    assert await order_status(services, order_id) == "paid"
    assert await stock_left(services, deal) == 8


async def test_an_unconfirmed_hold_expires_and_the_units_return(
    client: Client,
    services: Services,
    world: World,
    token_for: Callable[..., str],
    persister: OrderPersister,
) -> None:
    deal = await make_deal(services, world, stock=3)
    guide = await add_guide(services, world.store_id)
    placed = await client.post(
        "/api/on-behalf-orders",
        json={
            "idempotency_key": "ob-2",
            "customer_id": world.customer_ids[0],
            "deal_id": deal,
            "quantity": 3,
            "hold_minutes": 5,
        },
        headers=bearer(token_for(Role.GUIDE, guide, world.store_id)),
    )
    assert placed.status_code == 201, placed.text
    order_id, token = link_parts(placed.json()["confirm_url"])
    assert await stock_left(services, deal) == 0
    await persister.drain()
    rooms = LiveRooms(services.redis)
    with time_machine.travel(utcnow() + timedelta(minutes=4), tick=False):
        assert await sweep_expired(services, rooms=rooms) == 0
    with time_machine.travel(utcnow() + timedelta(minutes=6), tick=False):
        assert await sweep_expired(services, rooms=rooms) == 1
    assert await order_status(services, order_id) == "expired"
    assert await stock_left(services, deal) == 3
    late = await client.post(
        f"/api/on-behalf-orders/{order_id}/confirm",
        params={"token": token},
        headers=bearer(token_for(Role.VIEWER, world.customer_ids[0], world.store_id)),
    )
    assert late.status_code == 409


async def test_a_host_names_a_guide_of_their_store_and_coupons_apply(
    client: Client,
    services: Services,
    world: World,
    token_for: Callable[..., str],
    order: Order_,
    persister: OrderPersister,
) -> None:
    deal = await make_deal(services, world, kind="on_behalf", price_fen=30000, stock=5)
    pack = await pack_deal(services, world)
    a, *_ = await buy_pack(services, order, persister, pack, 1)
    guide = await add_guide(services, world.store_id)
    async with services.sessionmaker() as session, session.begin():
        region = await factories.add_region(session, "华南")
        elsewhere = await factories.add_store(session, region_id=region.id, code="GZ01")
        other_guide = (await factories.add_guide(session, elsewhere.id, share_code="g-x")).id
    host = bearer(token_for(Role.HOST, 1, world.store_id))
    ask = {"idempotency_key": "ob-3", "customer_id": world.customer_ids[1], "deal_id": deal}
    unnamed = await client.post("/api/on-behalf-orders", json=ask, headers=host)
    assert unnamed.status_code == 400
    foreign = await client.post(
        "/api/on-behalf-orders", json={**ask, "guide_id": other_guide}, headers=host
    )
    assert foreign.status_code == 403
    placed = await client.post(
        "/api/on-behalf-orders", json={**ask, "guide_id": guide, "coupon_ids": [a]}, headers=host
    )
    assert placed.status_code == 201, placed.text
    assert placed.json()["amount_due_fen"] == 30000 - 11100
    # The customer alone cannot buy a deal sold only on behalf.
    alone = await order(deal, customer=2)
    assert alone.reason == "deal_not_live"  # type: ignore[union-attr]
    await persister.drain()
    async with services.sessionmaker() as session:
        row = (
            await session.execute(
                select(Order.placed_by_guide_id, Order.discount_fen).where(
                    Order.id == placed.json()["order_id"]
                )
            )
        ).one()
    assert tuple(row) == (guide, 11100)


@pytest.mark.demo
async def test_the_demo_sells_the_pack_and_has_an_order_waiting_for_its_customer(
    settings: Settings, services: Services
) -> None:
    await load_demo_data(settings)
    await OrderPersister(services).drain()
    async with services.sessionmaker() as session:
        pack = await session.scalar(select(Deal).where(Deal.kind == "coupon_pack"))
        waiting = await session.scalar(select(Order).where(Order.placed_by_guide_id.is_not(None)))
    assert pack is not None and (pack.price_fen, pack.status) == (110, "live")
    assert waiting is not None and waiting.status == "pending_payment"
    assert waiting.pay_by - utcnow() > timedelta(hours=23)


async def test_the_paid_on_behalf_order_is_credited_to_the_guide_who_placed_it(
    client: Client,
    services: Services,
    world: World,
    token_for: Callable[..., str],
    persister: OrderPersister,
) -> None:
    deal = await make_deal(services, world, price_fen=5000, stock=10)
    guide = await add_guide(services, world.store_id)
    placed = await client.post(
        "/api/on-behalf-orders",
        json={"idempotency_key": "ob-c", "customer_id": world.customer_ids[5], "deal_id": deal},
        headers=bearer(token_for(Role.GUIDE, guide, world.store_id)),
    )
    order_id = placed.json()["order_id"]
    await persister.drain()
    await pay(services, order_id, 5000)
    async with services.sessionmaker() as session:
        credited = await session.scalar(
            select(SaleCredit.guide_id).where(SaleCredit.order_id == order_id)
        )
    assert credited == guide
