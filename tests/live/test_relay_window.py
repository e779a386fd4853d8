"""Every store room shows exactly what HQ and its host chose: the window findings of issue 19,
each checked on what a page computes (static/js/roomstate.js) and on a fresh snapshot."""

from __future__ import annotations

from typing import Any

import pytest

from live.streams import StreamBus
from tests.live.conftest import Chain
from tests.live.pages import Pages, PageViewer

pytestmark = [pytest.mark.database, pytest.mark.demo]


async def _ok(chain: Chain, method: str, url: str, body: Any, headers: dict[str, str]) -> Any:
    response = await chain.http.request(method, url, json=body, headers=headers)
    assert response.status_code in (200, 201, 204), response.text
    return response.json() if response.status_code != 204 else None


async def _ids(chain: Chain, store: int) -> tuple[int, int]:
    """(the store's broadcast, the hub broadcast it relays)."""
    room = await chain.room(chain.store_room(store))
    own = f"b{room['broadcast']['id']}"
    hub = next(stream for stream in room["streams"] if stream != own)
    return int(room["broadcast"]["id"]), int(hub[1:])


async def _page_equals_fresh_snapshot(
    chain: Chain, viewer: PageViewer, room: int
) -> dict[str, Any]:
    await viewer.catch_up(StreamBus(chain.services.redis))
    shown = await viewer.shows()
    assert shown == await viewer.pages.fresh(await chain.room(room))
    return shown


async def test_a_store_item_is_not_on_air_after_hq_removed_the_on_air_item(chain: Chain) -> None:
    store, hub = await _ids(chain, 0)
    room = chain.store_room(0)
    async with Pages() as pages, chain.viewer(room, customer_id=1) as socket:
        viewer = PageViewer("v", socket, pages)
        await viewer.open()
        added = await _ok(
            chain,
            "post",
            f"/api/broadcasts/{hub}/window",
            {"product_id": 12, "price_fen": 9900},
            chain.hq,
        )
        await _ok(
            chain, "post", f"/api/broadcasts/{hub}/on-air", {"item_id": added["item_id"]}, chain.hq
        )
        await _ok(
            chain, "delete", f"/api/broadcasts/{hub}/window/{added['item_id']}", None, chain.hq
        )
        own = await _ok(
            chain,
            "post",
            f"/api/broadcasts/{store}/window",
            {"product_id": 13, "price_fen": 500},
            chain.host(0),
        )

        shown = await _page_equals_fresh_snapshot(chain, viewer, room)

    assert own["item_id"] != added["item_id"]
    assert shown["on_air_item_id"] is None
    assert (await chain.room(room))["on_air_item_id"] is None


async def test_a_viewer_who_joined_while_the_on_air_item_was_hidden_sees_it_after_unhide(
    chain: Chain,
) -> None:
    store, hub = await _ids(chain, 0)
    room = chain.store_room(0)
    item = (await chain.room(room))["window"][1]["item_id"]
    await _ok(chain, "post", f"/api/broadcasts/{hub}/on-air", {"item_id": item}, chain.hq)
    await _ok(chain, "post", f"/api/broadcasts/{store}/hidden", {"item_id": item}, chain.host(0))
    async with Pages() as pages, chain.viewer(room, customer_id=1) as socket:
        viewer = PageViewer("v", socket, pages)
        assert (await viewer.open())["on_air_item_id"] is None
        await _ok(
            chain,
            "post",
            f"/api/broadcasts/{store}/hidden",
            {"item_id": item, "hidden": False},
            chain.host(0),
        )

        shown = await _page_equals_fresh_snapshot(chain, viewer, room)

    assert shown["on_air_item_id"] == item


async def test_a_store_stops_hiding_an_item_hq_removed_and_shows_hqs_next_item(
    chain: Chain,
) -> None:
    store, hub = await _ids(chain, 0)
    room = chain.store_room(0)
    item = (await chain.room(room))["window"][2]["item_id"]
    await _ok(chain, "post", f"/api/broadcasts/{store}/hidden", {"item_id": item}, chain.host(0))
    async with Pages() as pages, chain.viewer(room, customer_id=1) as socket:
        viewer = PageViewer("v", socket, pages)
        await viewer.open()
        await _ok(chain, "delete", f"/api/broadcasts/{hub}/window/{item}", None, chain.hq)
        removed = await _page_equals_fresh_snapshot(chain, viewer, room)
        added = await _ok(
            chain,
            "post",
            f"/api/broadcasts/{hub}/window",
            {"product_id": 12, "price_fen": 9900},
            chain.hq,
        )

        shown = await _page_equals_fresh_snapshot(chain, viewer, room)

    assert removed["hidden"] == []
    store_stream = [f for f in viewer.received if f.get("stream") == f"b{store}"]
    assert [f["hidden_item_ids"] for f in store_stream if f["type"] == "window.changed"] == [[]]
    assert added["item_id"] != item
    assert added["item_id"] in shown["visible"]


async def test_removing_the_item_a_store_presents_clears_it_in_that_store(chain: Chain) -> None:
    store, hub = await _ids(chain, 0)
    room = chain.store_room(0)
    item = (await chain.room(room))["window"][0]["item_id"]
    await _ok(chain, "post", f"/api/broadcasts/{store}/on-air", {"item_id": item}, chain.host(0))
    async with Pages() as pages, chain.viewer(room, customer_id=1) as socket:
        viewer = PageViewer("v", socket, pages)
        assert (await viewer.open())["on_air_item_id"] == item
        await _ok(chain, "delete", f"/api/broadcasts/{hub}/window/{item}", None, chain.hq)

        shown = await _page_equals_fresh_snapshot(chain, viewer, room)

    assert shown["on_air_item_id"] is None
    assert shown["on_air_by_stream"] == {}
