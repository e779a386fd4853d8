"""A pre-sale deal (预售) says so and sells before the show; other deals wait for it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from server.auth import Role
from server.factories import add_product
from tests.live.conftest import Chain, next_frame
from tests.live.test_relay_selling import order

pytestmark = [pytest.mark.database, pytest.mark.demo]


async def presale_on_the_hub(chain: Chain, hub: int) -> int:
    """HQ plans a pre-sale deal, launches it and puts it in the hub's window."""
    async with chain.services.sessionmaker() as session, session.begin():
        product = (await add_product(session, sku="PRE001", name="预售羽绒服")).id
    planned = await chain.http.post(
        "/api/deals",
        json={
            "kind": "flash_sale",
            "product_id": product,
            "price_fen": 29900,
            "stock": 5,
            "broadcast_id": hub,
            "presale": True,
        },
        headers=chain.hq,
    )
    assert planned.status_code == 201, planned.text
    assert planned.json()["presale"] is True
    deal = int(planned.json()["id"])
    launched = await chain.http.post(f"/api/deals/{deal}/launch", headers=chain.hq)
    assert launched.status_code == 200, launched.text
    item = await chain.http.post(
        f"/api/broadcasts/{hub}/window",
        json={"product_id": product, "price_fen": 39900},
        headers=chain.hq,
    )
    assert item.status_code == 201, item.text
    linked = await chain.http.patch(
        f"/api/broadcasts/{hub}/window/{item.json()['item_id']}",
        json={"deal_id": deal},
        headers=chain.hq,
    )
    assert linked.status_code == 200, linked.text
    return deal


def live_hub_deal(
    deals: dict[str, Any], hub: int, *, presale: bool | None = None, kind: str | None = None
) -> int:
    """A launched deal of the hub in a snapshot's deals, of the kind (and pre-sale flag) asked."""
    return next(
        d["deal_id"]
        for d in deals.values()
        if d["status"] == "live"
        and d.get("broadcast_id") == hub
        and (presale is None or d["presale"] is presale)
        and (kind is None or d["kind"] == kind)
    )


async def test_only_a_presale_deal_sells_while_no_broadcast_showing_it_is_live(
    chain: Chain,
) -> None:
    room = chain.store_room(0)
    hub = (await chain.room(chain.demo.hub_room_id))["broadcast"]["id"]
    presale = await presale_on_the_hub(chain, hub)
    async with chain.viewer(room, customer_id=2) as socket:
        snapshot = await next_frame(socket, "snapshot")
        assert snapshot["broadcast"]["status"] == snapshot["hub_broadcast"]["status"] == "scheduled"
        deals = snapshot["deals"]
        assert deals[str(presale)]["presale"] is True  # the room card shows 预售
        regular = live_hub_deal(deals, hub, presale=False)
        taken = await order(socket, presale, "presale-before-the-show")
        assert taken["type"] == "order.accepted", taken
        refused = await order(socket, regular, "regular-before-the-show")
        assert (refused["type"], refused["reason"]) == ("order.rejected", "deal_not_live")

        went = await chain.http.post(f"/api/broadcasts/{hub}/live", headers=chain.hq)
        assert went.status_code == 200, went.text
        await next_frame(socket, "broadcast.state")
        during = await order(socket, presale, "presale-during-the-show")
        assert during["type"] == "order.accepted", during  # still sells once the show is on


async def test_a_deal_is_no_presale_unless_planned_as_one(chain: Chain) -> None:
    async with chain.services.sessionmaker() as session, session.begin():
        product = (await add_product(session, sku="REG001")).id
    planned = await chain.http.post(
        "/api/deals",
        json={"kind": "flash_sale", "product_id": product, "price_fen": 100, "stock": 1},
        headers=chain.hq,
    )
    assert planned.status_code == 201, planned.text
    assert planned.json()["presale"] is False


async def test_an_order_over_http_follows_the_same_selling_rule_as_the_room_socket(
    chain: Chain,
) -> None:
    room = chain.store_room(0)
    hub = (await chain.room(chain.demo.hub_room_id))["broadcast"]["id"]
    presale = await presale_on_the_hub(chain, hub)
    async with chain.viewer(room, customer_id=2) as socket:
        deals = (await next_frame(socket, "snapshot"))["deals"]
    regular = live_hub_deal(deals, hub, presale=False)
    me = {"Authorization": f"Bearer {chain.token_for(Role.VIEWER, 2)}"}

    async def order_over_http(deal: int, key: str, room_id: int | None) -> tuple[int, str]:
        body = {"idempotency_key": key, "deal_id": deal, "quantity": 1, "room_id": room_id}
        reply = await chain.http.post("/api/orders", json=body, headers=me)
        return reply.status_code, reply.json().get("reason", reply.json()["type"])

    assert await order_over_http(regular, "in-the-room", room) == (409, "deal_not_live")
    assert await order_over_http(regular, "no-room", None) == (409, "deal_not_live")
    assert await order_over_http(presale, "presale", room) == (201, "order.accepted")

    went = await chain.http.post(f"/api/broadcasts/{hub}/live", headers=chain.hq)
    assert went.status_code == 200, went.text
    assert await order_over_http(regular, "during-the-show", room) == (201, "order.accepted")


async def test_a_group_buy_opens_only_once_the_show_is_on_over_http_and_the_socket(
    chain: Chain,
) -> None:
    room = chain.store_room(0)
    hub = (await chain.room(chain.demo.hub_room_id))["broadcast"]["id"]
    me = {"Authorization": f"Bearer {chain.token_for(Role.VIEWER, 2)}"}
    async with chain.viewer(room, customer_id=2) as socket:
        deals = (await next_frame(socket, "snapshot"))["deals"]
        group = live_hub_deal(deals, hub, kind="group_buy")
        await socket.send(
            json.dumps({"type": "group.place", "idempotency_key": "g-socket", "deal_id": group})
        )
        refused = await next_frame(socket, "group.rejected")
        assert refused["reason"] == "deal_not_live"
    over_http = await chain.http.post(
        f"/api/group-buys/deals/{group}/open",
        json={"idempotency_key": "g-http", "room_id": room},
        headers=me,
    )
    assert over_http.status_code == 409 and "deal_not_live" in over_http.text

    went = await chain.http.post(f"/api/broadcasts/{hub}/live", headers=chain.hq)
    assert went.status_code == 200, went.text
    opened = await chain.http.post(
        f"/api/group-buys/deals/{group}/open",
        json={"idempotency_key": "g-live", "room_id": room},
        headers=me,
    )
    assert opened.status_code == 201, opened.text
