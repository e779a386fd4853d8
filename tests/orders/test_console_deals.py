"""Deals from the consoles: HQ plans any deal; a store host plans deals of their store's own
items within HQ's limits, picks them from the catalogue, launches and stops them, and a
viewer buys from the store's room."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from live.models import WindowItem
from orders.models import Deal
from orders.persister import OrderPersister
from server import factories
from server.auth import Role
from server.services import Services
from tests.orders.test_payments import pay
from tests.support.http import bearer

pytestmark = pytest.mark.database
Client = AsyncTestClient[Litestar]


@dataclass
class Shop:
    """A hub broadcast, two stores relaying it (a host each, a live store broadcast each), a
    coat and a scarf on the first store's shelves, a hat on the second's, one customer."""

    hub: int
    store: int
    other_store: int
    store_broadcast: int
    other_broadcast: int
    store_room: int
    host: dict[str, str]
    other_host: dict[str, str]
    hq: dict[str, str]
    viewer: dict[str, str]
    coat: int
    scarf: int
    hat: int


@pytest.fixture
async def shop(services: Services, token_for: Callable[..., str]) -> Shop:
    async with services.sessionmaker() as session, session.begin():
        store = await factories.add_store(session)
        other = await factories.add_store(
            session, region_id=store.region_id, code="HZ01", name="杭州湖滨店"
        )
        host = await factories.add_staff(session, "host", "王主播", store.id)
        other_host = await factories.add_staff(session, "host", "李主播", other.id)
        hq = await factories.add_staff(session, "hq", "总部")
        hub = await factories.add_broadcast(session, status="live")
        await factories.add_room(session, hub.id)
        relay, room = await factories.add_store_relay(session, hub, store, host_id=host.id)
        other_relay, _ = await factories.add_store_relay(session, hub, other, host_id=other_host.id)
        coat = await factories.add_product(session, list_price_fen=100000)
        scarf = await factories.add_product(
            session, sku="SC0042", name="羊绒围巾", name_en="Cashmere scarf", list_price_fen=30000
        )
        hat = await factories.add_product(session, sku="HT0007", name="毛线帽", list_price_fen=9900)
        await factories.add_store_stock(session, store.id, [(coat.id, 40), (scarf.id, 12)])
        await factories.add_store_stock(session, other.id, [(hat.id, 30)])
        customer = await factories.add_customer(session, "openid-1", home_store_id=store.id)
    return Shop(
        hub=hub.id,
        store=store.id,
        other_store=other.id,
        store_broadcast=relay.id,
        other_broadcast=other_relay.id,
        store_room=room.id,
        host=bearer(token_for(Role.HOST, host.id, store.id)),
        other_host=bearer(token_for(Role.HOST, other_host.id, other.id)),
        hq=bearer(token_for(Role.HQ, hq.id)),
        viewer=bearer(token_for(Role.VIEWER, customer.id, store.id)),
        coat=coat.id,
        scarf=scarf.id,
        hat=hat.id,
    )


def flash(shop: Shop, product: int, **terms: object) -> dict[str, object]:
    body: dict[str, object] = {
        "kind": "flash_sale",
        "product_id": product,
        "price_fen": 80000,
        "stock": 10,
        "broadcast_id": shop.store_broadcast,
        "per_customer_limit": 2,
    }
    body.update(terms)
    return body


async def test_a_host_searches_only_their_stores_items_by_name_or_code(
    client: Client, shop: Shop
) -> None:
    everything = (await client.get("/api/catalogue", headers=shop.host)).json()
    assert [i["product_id"] for i in everything] == [shop.coat, shop.scarf]
    by_code = (await client.get("/api/catalogue?q=sc00", headers=shop.host)).json()
    assert [(i["sku"], i["stock"]) for i in by_code] == [("SC0042", 12)]
    by_name = (await client.get("/api/catalogue?q=围巾", headers=shop.host)).json()
    assert [i["product_id"] for i in by_name] == [shop.scarf]
    assert by_name[0]["floor_fen"] == 21000 and by_name[0]["max_deal_stock"] == 12
    assert (await client.get("/api/catalogue?q=毛线帽", headers=shop.host)).json() == []
    wildcard = (await client.get("/api/catalogue?q=%25", headers=shop.host)).json()
    assert wildcard == []


async def test_hq_searches_every_product_with_the_stores_stock_together(
    client: Client, shop: Shop
) -> None:
    found = (await client.get("/api/catalogue", headers=shop.hq)).json()
    assert [(i["product_id"], i["stock"]) for i in found] == [
        (shop.coat, 40),
        (shop.scarf, 12),
        (shop.hat, 30),
    ]
    assert (await client.get("/api/catalogue", headers=shop.viewer)).status_code == 403


async def test_a_host_plans_launches_stops_a_store_deal_and_a_viewer_buys_it(
    client: Client, services: Services, shop: Shop, persister: OrderPersister
) -> None:
    planned = await client.post("/api/deals", json=flash(shop, shop.coat), headers=shop.host)
    assert planned.status_code == 201, planned.text
    deal = planned.json()["id"]
    item = await client.post(
        f"/api/broadcasts/{shop.store_broadcast}/window",
        json={"product_id": shop.coat, "price_fen": 100000},
        headers=shop.host,
    )
    linked = await client.patch(
        f"/api/broadcasts/{shop.store_broadcast}/window/{item.json()['item_id']}",
        json={"deal_id": deal},
        headers=shop.host,
    )
    assert linked.status_code == 200, linked.text
    await client.post(f"/api/broadcasts/{shop.store_broadcast}/live", headers=shop.host)
    launched = await client.post(f"/api/deals/{deal}/launch", headers=shop.host)
    assert launched.json()["status"] == "live"

    order = {"idempotency_key": "k1", "deal_id": deal, "quantity": 1, "room_id": shop.store_room}
    placed = await client.post("/api/orders", json=order, headers=shop.viewer)
    assert placed.status_code == 201, placed.text
    await persister.drain()
    await pay(services, placed.json()["order_id"], 80000)
    sales = (await client.get(f"/api/deals/{deal}/sales", headers=shop.host)).json()
    assert (sales["paid_orders"], sales["paid_units"], sales["paid_fen"]) == (1, 1, 80000)

    stopped = await client.post(f"/api/deals/{deal}/stop", headers=shop.host)
    assert stopped.json()["status"] == "stopped"
    again = await client.post(
        "/api/orders", json={**order, "idempotency_key": "k2"}, headers=shop.viewer
    )
    assert again.status_code == 409 and again.json()["reason"] == "deal_not_live"


async def test_a_price_under_hqs_floor_is_refused_naming_the_floor(
    client: Client, shop: Shop
) -> None:
    cheap = await client.post(
        "/api/deals", json=flash(shop, shop.coat, price_fen=69999), headers=shop.host
    )
    assert cheap.status_code == 400
    assert "price floor of 70000" in cheap.json()["detail"]
    limits = {"floor_pct": 50, "floor_fen": 60000, "stock_pct": 100}
    assert (await client.put("/api/deal-limits", json=limits, headers=shop.host)).status_code == 403
    assert (await client.put("/api/deal-limits", json=limits, headers=shop.hq)).status_code == 200
    assert (await client.get("/api/deal-limits", headers=shop.host)).json() == limits
    still = await client.post(
        "/api/deals", json=flash(shop, shop.coat, price_fen=55000), headers=shop.host
    )
    assert still.status_code == 400 and "price floor of 60000" in still.json()["detail"]
    ok = await client.post(
        "/api/deals", json=flash(shop, shop.coat, price_fen=60000), headers=shop.host
    )
    assert ok.status_code == 201, ok.text


async def test_a_hosts_deals_together_take_no_more_than_hqs_share_of_the_store_stock(
    client: Client, shop: Shop
) -> None:
    await client.put(
        "/api/deal-limits", json={"floor_pct": 70, "floor_fen": 0, "stock_pct": 50}, headers=shop.hq
    )
    over = await client.post("/api/deals", json=flash(shop, shop.coat, stock=21), headers=shop.host)
    assert over.status_code == 400
    assert "stock limit of 20 units" in over.json()["detail"]
    first = await client.post(
        "/api/deals", json=flash(shop, shop.coat, stock=15), headers=shop.host
    )
    assert first.status_code == 201
    second = await client.post(
        "/api/deals", json=flash(shop, shop.coat, stock=6), headers=shop.host
    )
    assert second.status_code == 400
    assert "stock limit of 5 units" in second.json()["detail"]
    assert "15 held by its open deals" in second.json()["detail"]
    picked = (await client.get("/api/catalogue?q=MD0001", headers=shop.host)).json()
    assert picked[0]["max_deal_stock"] == 5


async def test_a_host_cannot_plan_for_another_stores_items_or_broadcast(
    client: Client, shop: Shop
) -> None:
    hat = await client.post(
        "/api/deals", json=flash(shop, shop.hat, price_fen=9900), headers=shop.host
    )
    assert hat.status_code == 403 and "not one of your store's items" in hat.json()["detail"]
    elsewhere = await client.post(
        "/api/deals",
        json=flash(shop, shop.coat, broadcast_id=shop.other_broadcast),
        headers=shop.host,
    )
    assert elsewhere.status_code == 403 and "not your store's" in elsewhere.json()["detail"]
    on_hub = await client.post(
        "/api/deals", json=flash(shop, shop.coat, broadcast_id=shop.hub), headers=shop.host
    )
    assert on_hub.status_code == 403
    nowhere = await client.post(
        "/api/deals", json=flash(shop, shop.coat, broadcast_id=None), headers=shop.host
    )
    assert nowhere.status_code == 400 and "broadcast_id" in nowhere.json()["detail"]
    pack = await client.post(
        "/api/deals",
        json=flash(shop, shop.coat, kind="coupon_pack", params={"coupons": "1000/0x1"}),
        headers=shop.host,
    )
    assert pack.status_code == 403 and "kind" in pack.json()["detail"]
    mine = (await client.post("/api/deals", json=flash(shop, shop.coat), headers=shop.host)).json()
    stolen = await client.post(f"/api/deals/{mine['id']}/launch", headers=shop.other_host)
    assert stolen.status_code == 403
    peek = await client.get(f"/api/deals/{mine['id']}/sales", headers=shop.other_host)
    assert peek.status_code == 403


async def test_a_host_plans_a_group_buy_within_limits_and_bad_terms_are_refused(
    client: Client, shop: Shop
) -> None:
    group = flash(shop, shop.scarf, kind="group_buy", price_fen=21000, stock=9)
    planned = await client.post(
        "/api/deals",
        json={**group, "params": {"group_size": 3, "group_minutes": 30}},
        headers=shop.host,
    )
    assert planned.status_code == 201, planned.text
    no_size = await client.post("/api/deals", json=group, headers=shop.host)
    assert no_size.status_code == 400 and "group_size" in no_size.json()["detail"]
    negative = await client.post(
        "/api/deals", json=flash(shop, shop.coat, stock=-1), headers=shop.host
    )
    assert negative.status_code == 400
    backwards = await client.post(
        "/api/deals",
        json=flash(shop, shop.coat, starts_at_ms=2_000_000_000_000, ends_at_ms=1_900_000_000_000),
        headers=shop.host,
    )
    assert backwards.status_code == 400 and "ends_at_ms" in backwards.json()["detail"]


async def test_hq_plans_hub_deals_of_every_kind_without_store_limits(
    client: Client, shop: Shop
) -> None:
    hub = {"product_id": shop.hat, "stock": 500, "broadcast_id": shop.hub, "price_fen": 100}
    for kind, params in (
        ("flash_sale", {}),
        ("regular", {}),
        ("group_buy", {"group_size": 3, "group_minutes": 15}),
        ("coupon_pack", {"coupons": "11100/0x1,30000/100000x2", "stackable": True}),
    ):
        made = await client.post(
            "/api/deals", json={**hub, "kind": kind, "params": params}, headers=shop.hq
        )
        assert made.status_code == 201, (kind, made.text)
        sales = (
            await client.get(f"/api/deals/{made.json()['id']}/sales", headers=shop.host)
        ).json()
        assert sales["paid_orders"] == 0 and sales["kind"] == kind


async def test_two_deals_planned_at_once_cannot_both_take_the_last_units(
    client: Client, shop: Shop
) -> None:
    answers = await asyncio.gather(
        *(
            client.post("/api/deals", json=flash(shop, shop.coat, stock=25), headers=shop.host)
            for _ in range(2)
        )
    )
    assert sorted(a.status_code for a in answers) == [201, 400]
    assert (await client.get("/api/catalogue?q=MD0001", headers=shop.host)).json()[0][
        "max_deal_stock"
    ] == 15


async def test_an_ended_deal_gives_its_units_back_to_the_store(client: Client, shop: Shop) -> None:
    first = (
        await client.post(
            "/api/deals", json=flash(shop, shop.scarf, price_fen=21000, stock=12), headers=shop.host
        )
    ).json()
    refused = await client.post(
        "/api/deals", json=flash(shop, shop.scarf, price_fen=21000, stock=1), headers=shop.host
    )
    assert refused.status_code == 400
    assert (
        await client.post(f"/api/deals/{first['id']}/end", headers=shop.other_host)
    ).status_code == 403
    ended = await client.post(f"/api/deals/{first['id']}/end", headers=shop.host)
    assert ended.json()["status"] == "ended"
    again = await client.post(
        "/api/deals", json=flash(shop, shop.scarf, price_fen=21000, stock=12), headers=shop.host
    )
    assert again.status_code == 201, again.text


async def test_a_store_group_buy_opens_in_the_store_room_and_its_groups_show(
    client: Client, services: Services, shop: Shop
) -> None:
    group = flash(shop, shop.scarf, kind="group_buy", price_fen=21000, stock=9)
    group["params"] = {"group_size": 3, "group_minutes": 30}
    deal = (await client.post("/api/deals", json=group, headers=shop.host)).json()["id"]
    await client.post(f"/api/broadcasts/{shop.store_broadcast}/live", headers=shop.host)
    await client.post(f"/api/deals/{deal}/launch", headers=shop.host)
    opened = await client.post(
        f"/api/group-buys/deals/{deal}/open",
        json={"idempotency_key": "o1", "room_id": shop.store_room},
        headers=shop.viewer,
    )
    assert opened.status_code == 201, opened.text
    listing = (await client.get(f"/api/group-buys/deals/{deal}")).json()
    assert [(g["members"], g["size"]) for g in listing["groups"]] == [(1, 3)]


async def test_a_packs_sales_count_packs_paid_and_coupons_issued(
    client: Client, services: Services, shop: Shop, persister: OrderPersister
) -> None:
    pack = {
        "kind": "coupon_pack",
        "product_id": shop.hat,
        "price_fen": 110,
        "stock": 100,
        "broadcast_id": shop.hub,
        "params": {"coupons": "11100/0x1,30000/100000x2,40000/130000x1", "stackable": True},
    }
    deal = (await client.post("/api/deals", json=pack, headers=shop.hq)).json()["id"]
    await client.post(f"/api/deals/{deal}/launch", headers=shop.hq)
    claim = {"idempotency_key": "p1", "deal_id": deal, "quantity": 1, "room_id": shop.store_room}
    placed = await client.post("/api/orders", json=claim, headers=shop.viewer)
    assert placed.status_code == 201, placed.text
    await persister.drain()
    waiting = (await client.get(f"/api/deals/{deal}/sales", headers=shop.hq)).json()
    assert (waiting["paid_orders"], waiting["pending_orders"]) == (0, 1)
    await pay(services, placed.json()["order_id"], 110)
    sales = (await client.get(f"/api/deals/{deal}/sales", headers=shop.host)).json()
    assert (sales["paid_units"], sales["paid_fen"], sales["pending_orders"]) == (1, 110, 0)
    assert (sales["coupons_issued"], sales["coupons_used"]) == (4, 0)


async def _store_item(client: Client, shop: Shop, product: int) -> int:
    item = await client.post(
        f"/api/broadcasts/{shop.store_broadcast}/window",
        json={"product_id": product, "price_fen": 100000},
        headers=shop.host,
    )
    assert item.status_code == 201, item.text
    return int(item.json()["item_id"])


async def test_a_deal_planned_on_an_item_is_linked_to_it_in_the_same_call(
    client: Client, shop: Shop
) -> None:
    item = await _store_item(client, shop, shop.coat)
    planned = await client.post(
        f"/api/broadcasts/{shop.store_broadcast}/window/{item}/deal",
        json=flash(shop, shop.coat),
        headers=shop.host,
    )
    assert planned.status_code == 201, planned.text
    deal = planned.json()["deal_id"]
    assert planned.json()["item_id"] == item and deal is not None
    read = (await client.get(f"/api/deals/{deal}", headers=shop.host)).json()
    assert (read["broadcast_id"], read["status"], read["stock"]) == (
        shop.store_broadcast,
        "draft",
        10,
    )


async def test_a_deal_refused_while_planned_on_an_item_leaves_no_deal_and_no_link(
    client: Client, services: Services, shop: Shop
) -> None:
    item = await _store_item(client, shop, shop.coat)
    async with services.sessionmaker() as session:
        before = await session.scalar(select(func.count()).select_from(Deal))
    url = f"/api/broadcasts/{shop.store_broadcast}/window/{item}/deal"
    under_floor = await client.post(
        url, json=flash(shop, shop.coat, price_fen=69999), headers=shop.host
    )
    assert under_floor.status_code == 400 and "price floor" in under_floor.json()["detail"]
    other_product = await client.post(url, json=flash(shop, shop.scarf), headers=shop.host)
    assert other_product.status_code == 400
    hub_item = await client.post(
        url.replace(str(shop.store_broadcast), str(shop.hub), 1),
        json=flash(shop, shop.coat, broadcast_id=None),
        headers=shop.host,
    )
    assert hub_item.status_code in (403, 404)
    async with services.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Deal)) == before
        linked = await session.scalar(select(WindowItem.deal_id).where(WindowItem.id == item))
    assert linked is None
