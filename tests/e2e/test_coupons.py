"""The 1.1-yuan coupon pack in a real browser: a viewer buys it in a store room, pays in the
sandbox, and its coupons lower the next order's price as the rules say."""

# ruff: noqa: F811 (the room's browser fixtures, imported from test_pages, are parameters here)

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from bench.processes import ServiceProcess
from server.auth import Role
from tests.e2e.test_pages import (  # noqa: F401 (fixtures)
    Chain,
    _yuan,
    chain,
    js_errors,
    pay_in_sandbox,
    phone,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.demo]

PACK = [(11100, 0), (30000, 100000), (30000, 100000), (40000, 130000)]
"""The demo pack's coupons: (amount off, minimum spend) in fen."""


def _hub_items(chain: Chain) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    with httpx.Client(base_url=chain.app.url, headers=chain.hq(), timeout=10) as http:
        hub = http.get(f"/api/rooms/{chain.demo.hub_room_id}").raise_for_status().json()
        return [
            (item, http.get(f"/api/deals/{item['deal_id']}").raise_for_status().json())
            for item in hub["window"]
            if item.get("deal_id") is not None
        ]


def test_a_viewer_buys_the_pack_and_its_coupons_lower_the_next_order(
    phone: Callable[[], Page],
    chain: Chain,
    start_worker_process: Callable[..., ServiceProcess],
    artifacts: Path,
    js_errors: list[str],
) -> None:
    start_worker_process()
    chain.hub_goes_live()
    items = _hub_items(chain)
    pack_item, pack = next((i, d) for i, d in items if d["kind"] == "coupon_pack")
    item, deal = max(
        ((i, d) for i, d in items if d["kind"] == "regular"), key=lambda pair: pair[1]["price_fen"]
    )
    price = deal["price_fen"] * 2  # two of the dearest live item: past every minimum
    assert price >= 130000
    expected_off = sum(off for off, minimum in PACK if price >= minimum)

    room_id, _, share = chain.store_room(0)
    viewer = phone()
    viewer.goto(chain.room_url(room_id, share, nick="周女士"))
    sheet = viewer.locator("#order-sheet")

    # The pack: 1.1 yuan, once per person.
    pack_card = viewer.locator(f'#cards .card[data-item-id="{pack_item["item_id"]}"]')
    expect(pack_card.locator(".deal-badge")).to_contain_text("券包")
    pack_card.get_by_test_id("buy").click()
    claim = sheet.get_by_role("button", name=re.compile("领取券包"))
    expect(claim).to_contain_text(_yuan(pack["price_fen"]))
    viewer.screenshot(path=artifacts / "room-coupon-pack.png", animations="disabled")
    claim.click()
    expect(sheet).to_contain_text(f"应付 {_yuan(110)}")
    pay_in_sandbox(viewer, sheet.get_by_test_id("pay"))

    # My coupons: the four, usable.
    viewer.get_by_test_id("my-coupons").click()
    coupons_sheet = viewer.locator("#coupons-sheet")
    expect(coupons_sheet.locator(".coupon-row.coupon-usable")).to_have_count(4)
    viewer.screenshot(path=artifacts / "room-my-coupons.png", animations="disabled")
    coupons_sheet.get_by_role("button", name="×").click()

    # Two of the dearest item: every coupon whose minimum they meet, stacked.
    card = viewer.locator(f'#cards .card[data-item-id="{item["item_id"]}"]')
    card.get_by_test_id("buy").click()
    sheet.get_by_role("button", name="+").click()
    expect(sheet.get_by_test_id("quantity")).to_have_text("2")
    chips = sheet.locator(".coupon-chip:not([disabled])")
    expect(chips).to_have_count(sum(1 for _, minimum in PACK if price >= minimum))
    for n in range(chips.count()):
        chips.nth(n).click()
        expect(sheet.locator(".coupon-chip.chosen")).to_have_count(n + 1)
    expect(sheet.get_by_test_id("coupon-off")).to_have_text(f"-{_yuan(expected_off)}")
    expect(sheet.get_by_test_id("coupon-due")).to_have_text(_yuan(price - expected_off))
    viewer.screenshot(path=artifacts / "room-coupon-breakdown.png", animations="disabled")
    sheet.get_by_role("button", name=re.compile("确认下单")).click()
    expect(sheet).to_contain_text(f"应付 {_yuan(price - expected_off)}")
    viewer.screenshot(path=artifacts / "room-coupon-accepted.png", animations="disabled")

    # A second claim of the pack is refused in words.
    sheet.get_by_role("button", name="关闭").click()
    pack_card.get_by_test_id("buy").click()
    sheet.get_by_role("button", name=re.compile("领取券包")).click()
    expect(sheet.locator(".sheet-error")).to_have_text("券包已领取过")
    assert js_errors == []


def test_a_host_holds_an_order_for_a_viewer_who_confirms_and_pays_through_the_link(
    page: Page,
    phone: Callable[[], Page],
    chain: Chain,
    start_worker_process: Callable[..., ServiceProcess],
    token_for: Callable[..., str],
    artifacts: Path,
    js_errors: list[str],
) -> None:
    start_worker_process()
    room_id, store_id, share = chain.store_room(0)
    staff_id = next(staff for staff, store, _ in chain.demo.hosts if store == store_id)
    guide_id = next(guide for guide, store, _ in chain.demo.guides if store == store_id)
    viewer = phone()
    viewer.goto(chain.room_url(room_id, share, nick="吴先生"))
    expect(viewer.locator("#banner")).to_be_hidden()
    customer_id = viewer.evaluate(
        f"JSON.parse(localStorage.getItem('storecast.viewer.{room_id}')).customer_id"
    )

    page.goto(chain.host_url(room_id, token_for(Role.HOST, staff_id, store_id)))
    form = page.locator("#on-behalf form")
    form.locator('input[name="customer_id"]').fill(str(customer_id))
    form.locator('input[name="guide_id"]').fill(str(guide_id))
    form.locator('select[name="deal_id"]').select_option(label="高腰阔腿裤 · ¥319.20")
    form.locator('input[name="quantity"]').fill("2")
    form.get_by_role("button", name="生成订单并发送链接").click()
    link = page.get_by_test_id("on-behalf-link").locator("input")
    expect(link).to_have_value(re.compile(r"/static/on-behalf\.html\?order="))
    page.screenshot(path=artifacts / "host-on-behalf.png", animations="disabled")

    viewer.goto(link.input_value())
    for _ in range(20):  # "on its way" until the worker has written the order
        if viewer.get_by_test_id("confirm").count():
            break
        viewer.wait_for_timeout(500)
        viewer.reload()
    expect(viewer.locator("#confirm")).to_contain_text("× 2")
    viewer.screenshot(path=artifacts / "on-behalf-confirm.png", animations="disabled")
    viewer.get_by_test_id("confirm").click()
    viewer.get_by_test_id("pay").click()
    viewer.get_by_role("button", name=re.compile("确认支付")).click()
    expect(viewer.locator("#result")).to_contain_text("支付成功")
    assert js_errors == []
