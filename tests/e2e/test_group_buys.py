"""A group-buy in real browsers: a viewer opens a group from the room (over the room socket)
and pays, a second viewer on another device joins through the share link alone (no
broadcast), pays, and both see the group fill."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from bench.processes import ServiceProcess
from tests.e2e.test_pages import (  # noqa: F401 (fixtures)
    Chain,
    chain,
    js_errors,
    pay_in_sandbox,
    phone,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.demo]


def _group_item(chain: Chain) -> tuple[dict[str, Any], dict[str, Any]]:  # noqa: F811
    with httpx.Client(base_url=chain.app.url, headers=chain.hq(), timeout=10) as http:
        hub = http.get(f"/api/rooms/{chain.demo.hub_room_id}").raise_for_status().json()
        for item in hub["window"]:
            if item.get("deal_id") is None:
                continue
            deal = http.get(f"/api/deals/{item['deal_id']}").raise_for_status().json()
            if deal["kind"] == "group_buy":
                return item, deal
    raise AssertionError("the demo has no group-buy")


def test_a_viewer_opens_a_group_a_friend_joins_through_the_link_and_both_see_it_fill(
    phone: Callable[[], Page],  # noqa: F811
    chain: Chain,  # noqa: F811
    start_worker_process: Callable[..., ServiceProcess],
    artifacts: Path,
    js_errors: list[str],  # noqa: F811
) -> None:
    start_worker_process()
    chain.hub_goes_live()
    item, deal = _group_item(chain)
    item_id = str(item["item_id"])
    price = f"¥{deal['price_fen'] // 100:,}" + (
        f".{deal['price_fen'] % 100:02d}" if deal["price_fen"] % 100 else ""
    )

    # Viewer one, in a store room: the group-buy card, its open groups, "start a group".
    room_id, _, share = chain.store_room(0)
    leader = phone()
    room_url = chain.room_url(room_id, share, nick="林小姐")
    leader.goto(room_url)
    card = leader.locator(f'#cards .card[data-item-id="{item_id}"]')
    expect(card.locator(".deal-badge")).to_contain_text("拼团")
    # The card says how many groups are filling and the time the nearest one has left.
    teaser = card.get_by_test_id("group-teaser")
    expect(teaser).to_contain_text("1 个团在拼 · 还差 1 人 · 剩 01:5")
    card.scroll_into_view_if_needed()
    leader.screenshot(path=artifacts / "group-room-card.png", animations="disabled")
    card.get_by_test_id("buy").click()
    sheet = leader.locator("#group-sheet")
    expect(sheet.get_by_test_id("group-price")).to_have_text(price)
    # The demo's own group waits for a second member: real members only, masked.
    expect(sheet.locator(".group-row").first.get_by_test_id("group-progress")).to_have_text(
        "1/2 人"
    )
    leader.screenshot(path=artifacts / "group-room-sheet.png", animations="disabled")
    expect(leader.locator("#banner")).to_be_hidden()  # the socket is up: the open goes over it
    sheet.get_by_test_id("group-open").click()
    expect(sheet).to_contain_text("开团成功")
    expect(sheet.locator(".group-row.is-mine").get_by_test_id("group-progress")).to_have_text(
        "1/2 人"
    )
    link = sheet.get_by_test_id("group-share-link").input_value()
    assert "/static/group.html?g=" in link and f"share={share}" in link
    leader.screenshot(path=artifacts / "group-opened.png", animations="disabled")
    pay_in_sandbox(leader, sheet.get_by_test_id("group-pay"))
    expect(leader).to_have_url(room_url)

    # Viewer two, another device, only the link: no room, no broadcast.
    friend = phone()
    friend.goto(f"{link}&nick=周先生")
    page = friend.locator("#group")
    expect(page.get_by_test_id("group-progress")).to_have_text("1/2 人")
    expect(page.locator(".names")).to_have_text("林**")
    expect(page.locator(".countdown")).to_contain_text("剩")
    friend.screenshot(path=artifacts / "group-share-page.png", animations="disabled")
    page.get_by_test_id("group-join").click()
    expect(page.get_by_test_id("group-progress")).to_have_text("2/2 人")
    pay_in_sandbox(friend, page.get_by_test_id("group-pay"))
    expect(page.get_by_test_id("group-status")).to_have_text("拼团成功", timeout=15_000)
    expect(page.locator(".names")).to_have_text("林**、周**")
    friend.screenshot(path=artifacts / "group-share-formed.png", animations="disabled")

    # Viewer one sees it fill in the room.
    card.get_by_test_id("buy").click()
    expect(sheet.get_by_test_id("my-group-status")).to_have_text("拼团成功", timeout=15_000)
    leader.screenshot(path=artifacts / "group-room-formed.png", animations="disabled")
    assert js_errors == []
