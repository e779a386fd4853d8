"""The product window: HQ's edits reach every relaying store room with one publish; a store
host's edits stay in their own room; an old snapshot plus the events, merged by
static/js/roomstate.js itself, equals a fresh one."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from live.streams import StreamBus, channel
from server.auth import Role
from tests.live.conftest import Chain, next_frame
from tests.live.pages import Pages, PageViewer

pytestmark = pytest.mark.demo


def shown(view: dict[str, Any]) -> list[tuple[int, int]]:
    """What a viewer sees: (item, price) in display order, hub items first."""
    visible = [i for i in view["window"] if i["item_id"] not in view["hidden_item_ids"]]
    ordered = sorted(visible, key=lambda i: (bool(i.get("store_only")), i["position"]))
    return [(i["item_id"], i["price_fen"]) for i in ordered]


async def test_hq_window_edits_reach_every_store_room_with_one_publish(chain: Chain) -> None:
    hub = await chain.room(chain.demo.hub_room_id)
    hub_id = hub["broadcast"]["id"]
    pubsub = chain.services.redis.pubsub()
    await pubsub.psubscribe(channel("b*"))
    async with (
        chain.viewer(chain.store_room(0), customer_id=1) as first,
        chain.viewer(chain.store_room(1), customer_id=2) as second,
    ):
        await next_frame(first, "snapshot")
        await next_frame(second, "snapshot")
        added = await chain.http.post(
            f"/api/broadcasts/{hub_id}/window",
            json={"product_id": 12, "price_fen": 99900},
            headers=chain.hq,
        )
        assert added.status_code == 201, added.text
        item = added.json()["item_id"]
        for socket in (first, second):
            frame = await next_frame(socket, "window.changed")
            assert frame["stream"] == f"b{hub_id}"
            assert (item, 99900) in [(i["item_id"], i["price_fen"]) for i in frame["items"]]
    published = []
    deadline = asyncio.get_running_loop().time() + 0.5  # the publish has long arrived: count it
    while asyncio.get_running_loop().time() < deadline:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
        if message is not None and json.loads(message["data"])["type"] == "window.changed":
            published.append(message["channel"])
    await pubsub.aclose()
    assert published == [channel(f"b{hub_id}").encode()]  # one publish for three store rooms


async def test_store_edits_stay_in_the_store_room_and_events_rebuild_the_snapshot(
    chain: Chain,
) -> None:
    mine, other = chain.store_room(0), chain.store_room(1)
    before = await chain.room(mine)
    store_broadcast = before["broadcast"]["id"]
    hub_item = before["window"][3]["item_id"]
    async with (
        Pages() as pages,
        chain.viewer(mine, customer_id=1) as viewer,
        chain.viewer(other, customer_id=2) as elsewhere,
    ):
        page = PageViewer("mine", viewer, pages)
        await page.open()
        await next_frame(elsewhere, "snapshot")
        host = chain.host(0)
        edits = [
            ("post", f"/api/broadcasts/{store_broadcast}/hidden", {"item_id": hub_item}),
            (
                "post",
                f"/api/broadcasts/{store_broadcast}/window",
                {"product_id": 15, "price_fen": 500},
            ),
            (
                "post",
                f"/api/broadcasts/{store_broadcast}/window",
                {"product_id": 16, "price_fen": 700},
            ),
        ]
        for method, url, body in edits:
            response = await chain.http.request(method, url, json=body, headers=host)
            assert response.status_code in (201, 204), response.text
        await page.catch_up(StreamBus(chain.services.redis))
        last = [f for f in page.received if f["type"] == "window.changed"][-1]
        own = [i["item_id"] for i in last["items"]]
        for method, url, body in [
            ("put", f"/api/broadcasts/{store_broadcast}/window/order", {"item_ids": own[::-1]}),
            ("patch", f"/api/broadcasts/{store_broadcast}/window/{own[0]}", {"price_fen": 450}),
        ]:
            response = await chain.http.request(method, url, json=body, headers=host)
            assert response.status_code in (200, 204), response.text
        await page.catch_up(StreamBus(chain.services.redis))
        with pytest.raises(TimeoutError):  # the other store's room heard none of it
            await next_frame(elsewhere, "window.changed", within=0.5)
        fresh = await chain.room(mine)
        assert await page.shows() == await pages.fresh(fresh)  # roomstate.js's merge
    changes = [f for f in page.received if f["type"] == "window.changed"]
    assert len(changes) == 5
    assert {f["stream"] for f in changes} == {f"b{store_broadcast}"}
    assert hub_item not in [i for i, _ in shown(fresh)]
    assert shown(fresh)[-2:] == [(own[1], 700), (own[0], 450)]


async def test_viewers_and_other_stores_hosts_cannot_edit_a_window(chain: Chain) -> None:
    room = await chain.room(chain.store_room(0))
    broadcast = room["broadcast"]["id"]
    viewer = {"Authorization": f"Bearer {chain.token_for(Role.VIEWER, 1)}"}
    body = {"product_id": 15, "price_fen": 500}
    url = f"/api/broadcasts/{broadcast}/window"
    assert (await chain.http.post(url, json=body, headers=viewer)).status_code == 403
    assert (await chain.http.post(url, json=body, headers=chain.host(1))).status_code == 403
    assert (
        await chain.http.post(url, json={"product_id": 15, "price_fen": -1}, headers=chain.host(0))
    ).status_code == 400
    assert (
        await chain.http.post(url, json={"product_id": 9999, "price_fen": 5}, headers=chain.host(0))
    ).status_code == 404
    hub_item = room["window"][0]["item_id"]
    response = await chain.http.patch(
        f"{url}/{hub_item}", json={"price_fen": 1}, headers=chain.host(0)
    )
    assert response.status_code == 404  # a hub item's price is HQ's, not the store's
    assert (await chain.room(chain.store_room(0)))["window"] == room["window"]


async def test_the_snapshot_carries_each_items_deal_with_its_stock_left(chain: Chain) -> None:
    async with chain.viewer(chain.store_room(2), customer_id=3) as viewer:
        snapshot = await next_frame(viewer, "snapshot")
    deals = snapshot["deals"]
    linked = [i["deal_id"] for i in snapshot["window"]]
    assert all(linked) and set(map(str, linked)) == set(deals)
    statuses = sorted(d["status"] for d in deals.values())
    assert statuses == ["draft", "draft"] + ["live"] * 8  # flash sales wait; the pack sells
    assert all(d["stock_left"] > 0 for d in deals.values())


async def test_a_store_presenting_a_hub_item_keeps_it_when_hq_presents_another(
    chain: Chain,
) -> None:
    room = await chain.room(chain.store_room(0))
    store_broadcast = room["broadcast"]["id"]
    hub_broadcast = (await chain.room(chain.demo.hub_room_id))["broadcast"]["id"]
    mine, hqs = room["window"][1]["item_id"], room["window"][2]["item_id"]
    for broadcast, item, headers in (
        (store_broadcast, mine, chain.host(0)),
        (hub_broadcast, hqs, chain.hq),
    ):
        response = await chain.http.post(
            f"/api/broadcasts/{broadcast}/on-air", json={"item_id": item}, headers=headers
        )
        assert response.status_code == 204, response.text
    store_view = await chain.room(chain.store_room(0))
    assert store_view["on_air_item_id"] == mine
    assert store_view["on_air_by_stream"] == {f"b{hub_broadcast}": hqs, f"b{store_broadcast}": mine}
    assert (await chain.room(chain.store_room(1)))["on_air_item_id"] == hqs
    other_store_item = (await chain.room(chain.store_room(1)))["window"][0]["item_id"]
    response = await chain.http.post(
        f"/api/broadcasts/{store_broadcast}/on-air",
        json={"item_id": other_store_item + 10_000},
        headers=chain.host(0),
    )
    assert response.status_code == 404
