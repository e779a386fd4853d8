"""A viewer whose network drops comes back with `resume`: the page gets only what it missed
(a replay, not a snapshot) and shows all of it. And the room's video: a stream that cannot
play leaves the poster with a message."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect
from websockets.sync.client import connect

from server.auth import Role
from tests.e2e.test_pages import Chain, chain, js_errors, phone  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.demo]


def socket_log(page: Page) -> list[dict[str, Any]]:
    return list(page.evaluate("() => globalThis.socketLog || []"))


def test_a_viewer_whose_network_drops_gets_the_missed_events_replayed(
    phone: Callable[[], Page],  # noqa: F811
    chain: Chain,  # noqa: F811
    artifacts: Path,
    js_errors: list[str],  # noqa: F811
) -> None:
    room_id, _, share = chain.store_room(0)
    viewer = phone()
    viewer.goto(chain.room_url(room_id, share))
    cards = viewer.locator("#cards .card")
    window = httpx.get(f"{chain.app.url}/api/rooms/{room_id}", headers=chain.hq()).json()["window"]
    expect(cards).to_have_count(len(window))
    expect(viewer.locator("#banner")).to_be_hidden()
    assert [e["kind"] for e in socket_log(viewer)] == ["hello", "snapshot"]

    viewer.context.set_offline(True)
    expect(viewer.locator("#banner")).to_be_visible()

    with httpx.Client(base_url=chain.app.url, headers=chain.hq()) as http:
        hub = http.get(f"/api/rooms/{chain.demo.hub_room_id}").json()
        hub_id = hub["broadcast"]["id"]
        added = http.post(
            f"/api/broadcasts/{hub_id}/window", json={"product_id": 12, "price_fen": 99900}
        )
        assert added.status_code == 201, added.text
        on_air = hub["window"][1]["item_id"]
        put = http.post(f"/api/broadcasts/{hub_id}/on-air", json={"item_id": on_air})
        assert put.status_code == 204, put.text
    with connect(f"{chain.app.ws_url}/ws/rooms/{room_id}?token={chain.hq_token}") as hq:
        hq.send(json.dumps({"type": "chat.send", "text": "欢迎回来，新品已上架"}))
        while json.loads(hq.recv(timeout=5))["type"] != "chat":
            pass
    viewer.screenshot(path=artifacts / "room-offline.png", animations="disabled")

    viewer.context.set_offline(False)
    expect(viewer.locator("#banner")).to_be_hidden()
    expect(cards).to_have_count(len(window) + 1)  # HQ added one while the viewer was away
    expect(viewer.locator("#onair .onair-card")).to_have_attribute("data-item-id", str(on_air))
    expect(viewer.locator("#chat")).to_contain_text("欢迎回来，新品已上架")
    expect(viewer.locator(f'#cards .card[data-item-id="{on_air}"]')).to_have_class(
        re.compile("is-on-air")
    )
    viewer.screenshot(path=artifacts / "room-resumed.png", animations="disabled")

    log = socket_log(viewer)
    kinds = [e["kind"] for e in log]
    assert kinds == ["hello", "snapshot", "resume", "replay"], log
    assert log[-1]["events"] == 3  # the window change, the on-air choice, the chat line
    assert js_errors == []


def test_a_stream_that_cannot_play_leaves_the_poster_and_says_so(
    phone: Callable[[], Page],  # noqa: F811
    chain: Chain,  # noqa: F811
    artifacts: Path,
    js_errors: list[str],  # noqa: F811
) -> None:
    """HLS goes through the vendored hls.js, FLV through mpegts.js; a dead stream fails."""
    room_id, _, share = chain.store_room(0)
    with httpx.Client(base_url=chain.app.url, headers=chain.hq()) as http:
        store = http.get(f"/api/rooms/{room_id}").json()["broadcast"]["id"]
        dead = "http://127.0.0.1:9/live/store.m3u8"  # nothing listens on the discard port
        assert http.post(f"/api/broadcasts/{store}/media", json={"play_url": dead}).is_success
        viewer = phone()
        viewer.goto(chain.room_url(room_id, share))
        video, note = viewer.locator("#video"), viewer.locator("#video-note")
        expect(video).to_have_attribute("data-engine", "hls.js")
        expect(note).to_be_visible(timeout=20_000)
        expect(note).to_have_text("视频暂时无法播放，请稍后再试")
        expect(viewer.locator("#poster")).to_be_visible()
        viewer.screenshot(path=artifacts / "room-stream-failed.png", animations="disabled")

        flv = "http://127.0.0.1:9/live/store.flv"
        assert http.post(f"/api/broadcasts/{store}/media", json={"play_url": flv}).is_success
        expect(video).to_have_attribute("data-engine", "mpegts.js")
        expect(note).to_be_visible(timeout=20_000)
    assert js_errors == []


def test_a_store_room_relays_the_live_hub_and_its_host_sees_which_stream_viewers_get(
    page: Page,
    phone: Callable[[], Page],  # noqa: F811
    chain: Chain,  # noqa: F811
    token_for: Callable[..., str],
    artifacts: Path,
    js_errors: list[str],  # noqa: F811
) -> None:
    room_id, store_id, share = chain.store_room(0)
    staff_id = next(staff for staff, store, _ in chain.demo.hosts if store == store_id)
    page.goto(chain.host_url(room_id, token_for(Role.HOST, staff_id, store_id)))
    seen = page.get_by_test_id("viewers-see")
    expect(seen).to_have_text("观众正在看：本店直播间")
    viewer = phone()
    viewer.goto(chain.room_url(room_id, share))
    expect(viewer.locator("#status")).to_have_text("未开播")

    with httpx.Client(base_url=chain.app.url, headers=chain.hq()) as http:
        hub = http.get(f"/api/rooms/{chain.demo.hub_room_id}").json()["broadcast"]["id"]
        assert http.post(f"/api/broadcasts/{hub}/live").is_success
    expect(viewer.locator("#status")).to_have_text("总部直播转播中")
    expect(seen).to_contain_text("总部直播（转播）")
    page.screenshot(path=artifacts / "host-relaying.png", animations="disabled")
    viewer.screenshot(path=artifacts / "room-relaying.png", animations="disabled")

    page.locator("#go-live").click()
    expect(viewer.locator("#status")).to_have_text("直播中")
    expect(seen).to_have_text("观众正在看：本店直播间")
    assert js_errors == []


def test_the_index_page_lists_the_rooms_as_links(
    page: Page,
    chain: Chain,  # noqa: F811
    artifacts: Path,
    js_errors: list[str],  # noqa: F811
) -> None:
    page.goto(f"{chain.app.url}/")
    rooms = page.locator("#rooms .room")
    expect(rooms.first).to_contain_text("总部直播间")
    assert rooms.count() >= 1 + len(chain.demo.store_rooms)  # tonight's, and the week's
    watch = rooms.first.get_by_role("link", name="观看 · Watch")
    expect(watch).to_have_attribute("href", f"/static/room.html?room={chain.demo.hub_room_id}")
    page.screenshot(path=artifacts / "index.png", full_page=True, animations="disabled")
    hub = httpx.get(
        f"{chain.app.url}/api/rooms/{chain.demo.hub_room_id}", headers=chain.hq()
    ).json()
    watch.click()
    expect(page.locator("#cards .card")).to_have_count(len(hub["window"]))
    assert js_errors == []
