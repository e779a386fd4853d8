"""A store room relaying a live hub says so and sells the hub's deals; a deal sells only
while a broadcast showing it is live (or in its replay)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.live.conftest import Chain, next_frame
from tests.live.pages import Pages, PageViewer

pytestmark = [pytest.mark.database, pytest.mark.demo]


async def order(socket: Any, deal_id: int, key: str) -> dict[str, Any]:
    frame = {"type": "order.place", "idempotency_key": key, "deal_id": deal_id, "quantity": 1}
    await socket.send(json.dumps(frame))
    while True:
        reply = json.loads(await socket.recv())
        if reply["type"].startswith("order."):
            return dict(reply)


async def test_a_store_room_relays_the_live_hub_until_the_store_goes_live(chain: Chain) -> None:
    room = chain.store_room(0)
    hub = (await chain.room(chain.demo.hub_room_id))["broadcast"]["id"]
    store = (await chain.room(room))["broadcast"]["id"]
    async with Pages() as pages, chain.viewer(room, customer_id=2) as socket:
        page = PageViewer("store", socket, pages)
        snapshot = await page.open()
        assert snapshot["hub_broadcast"]["id"] == hub
        assert (await page.shows())["showing"] == "own"  # both scheduled: 未开播

        went = await chain.http.post(f"/api/broadcasts/{hub}/live", headers=chain.hq)
        assert went.status_code == 200, went.text
        await next_frame_applied(page, "broadcast.state")
        assert (await page.shows())["showing"] == "relay"  # 总部直播转播中

        went = await chain.http.post(f"/api/broadcasts/{store}/live", headers=chain.host(0))
        assert went.status_code == 200, went.text
        await next_frame_applied(page, "broadcast.state")
        assert (await page.shows())["showing"] == "own"  # the store's own stream

    async with chain.viewer(room, customer_id=3) as late:  # a joiner gets the same
        joined = await next_frame(late, "snapshot")
    assert joined["hub_broadcast"]["status"] == "live"
    assert joined["broadcast"]["status"] == "live"


async def next_frame_applied(page: PageViewer, kind: str) -> dict[str, Any]:
    while (frame := await page.take())["type"] != kind:
        pass
    return frame


async def test_a_hub_deal_sells_in_a_store_room_only_once_a_broadcast_showing_it_is_live(
    chain: Chain,
) -> None:
    room = chain.store_room(0)
    hub = (await chain.room(chain.demo.hub_room_id))["broadcast"]["id"]
    async with chain.viewer(room, customer_id=2) as socket:
        snapshot = await next_frame(socket, "snapshot")
        deal = next(
            d["deal_id"]
            for d in snapshot["deals"].values()
            if d["status"] == "live" and d.get("broadcast_id") == hub
        )
        refused = await order(socket, deal, "before-the-show")
        assert (refused["type"], refused["reason"]) == ("order.rejected", "deal_not_live")

        went = await chain.http.post(f"/api/broadcasts/{hub}/live", headers=chain.hq)
        assert went.status_code == 200, went.text
        await next_frame(socket, "broadcast.state")
        taken = await order(socket, deal, "during-the-show")
        assert taken["type"] == "order.accepted", taken

        ended = await chain.http.post(f"/api/broadcasts/{hub}/end", headers=chain.hq)
        assert ended.status_code == 200, ended.text
        await next_frame(socket, "broadcast.state")
        replay = await order(socket, deal, "in-the-replay")
        assert replay["type"] == "order.accepted", replay  # the shoppable replay still sells
