"""A store host sells their own item in real browsers: picks it from the catalogue (no
product ids), plans a flash sale for it (HQ's floor shown, a price under it refused in
words), launches it, and a viewer in the store's room sees the buy button and buys."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Page, expect

from bench.processes import ServiceProcess
from server.auth import Role
from tests.e2e.test_pages import (  # noqa: F401 (fixtures)
    Chain,
    chain,
    js_errors,
    pay_in_sandbox,
    phone,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.demo]


def test_a_store_host_picks_an_item_plans_and_launches_a_flash_sale_and_a_viewer_buys(
    page: Page,
    phone: Callable[[], Page],  # noqa: F811
    chain: Chain,  # noqa: F811
    token_for: Callable[..., str],
    start_worker_process: Callable[..., ServiceProcess],
    artifacts: Path,
    js_errors: list[str],  # noqa: F811
) -> None:
    start_worker_process()
    room_id, store_id, share = chain.store_room(0)
    staff_id = next(s for s, store, _ in chain.demo.hosts if store == store_id)
    page.goto(chain.host_url(room_id, token_for(Role.HOST, staff_id, store_id=store_id)))
    rows = page.locator("#items .item-row")
    expect(rows).to_have_count(10)  # the hub's items it relays
    page.locator("#go-live").click()
    expect(page.locator("#status")).to_have_text("直播中")

    # The catalogue, searched by name: the store's stock beside each product.
    page.get_by_test_id("catalogue-search").fill("丝巾")
    found = page.get_by_test_id("catalogue-item")
    expect(found).to_have_count(1)
    expect(found).to_contain_text("丝巾")
    expect(found).to_contain_text("库存")
    found.click()
    expect(page.get_by_test_id("picked")).to_contain_text("丝巾")
    page.screenshot(path=artifacts / "host-catalogue-picker.png", animations="disabled")
    page.locator("#add-item").get_by_role("button", name="添加").click()
    expect(rows).to_have_count(11)
    row = page.locator("#items .item-row.own", has_text="丝巾")

    # A deal for it: under HQ's floor (70% of 199 yuan) is refused, naming the floor.
    row.get_by_role("button", name="设活动").click()
    form = page.get_by_test_id("deal-form")
    expect(form.get_by_test_id("deal-floor")).to_contain_text("¥139.30")
    form.get_by_test_id("deal-price").fill("100")
    form.get_by_test_id("deal-stock").fill("5")
    form.get_by_test_id("deal-create").click()
    expect(page.locator(".toast-error").last).to_contain_text("price floor of 13930")
    form.get_by_test_id("deal-price").fill("149")
    page.screenshot(path=artifacts / "host-deal-form.png", animations="disabled")
    form.get_by_test_id("deal-create").click()
    expect(form).to_be_hidden()
    expect(row.locator(".deal-status")).to_have_text("未开始")
    row.get_by_role("button", name="开抢", exact=True).click()
    expect(row.locator(".deal-status")).to_have_text("进行中")
    expect(row).to_contain_text("剩 5 件")

    # A viewer in the store's room: the store's own item now has a buy button.
    viewer = phone()
    room_url = chain.room_url(room_id, share, nick="林小姐")
    viewer.goto(room_url)
    card = viewer.locator("#cards .card", has_text="丝巾")
    expect(card.locator(".deal-badge")).to_contain_text("秒杀")
    expect(card).to_contain_text("仅剩 5 件")
    expect(card).to_contain_text("¥149")
    card.get_by_test_id("buy").click()
    sheet = viewer.locator("#order-sheet")
    sheet.get_by_role("button", name=re.compile("确认下单")).click()
    expect(sheet).to_contain_text("抢到了")
    expect(sheet).to_contain_text("应付 ¥149")
    expect(card).to_contain_text("仅剩 4 件")
    viewer.screenshot(path=artifacts / "room-store-deal.png", animations="disabled")
    pay = sheet.get_by_test_id("pay")
    order_id = urlsplit(pay.get_attribute("href") or "").path.rsplit("/", 1)[-1]
    pay_in_sandbox(viewer, pay)
    expect(viewer).to_have_url(room_url)

    # The store's console counts it paid.
    landed = page.locator(f'#orders .host-order[data-order-id="{order_id}"]')
    expect(landed).to_have_attribute("data-status", "paid", timeout=10_000)
    expect(page.get_by_test_id("orders-gmv")).to_have_text("¥149")
    page.screenshot(path=artifacts / "host-store-deal.png", animations="disabled")
    assert js_errors == []


def test_hq_plans_a_hub_group_buy_from_the_console_and_follows_its_groups_live(
    page: Page,
    phone: Callable[[], Page],  # noqa: F811
    chain: Chain,  # noqa: F811
    start_worker_process: Callable[..., ServiceProcess],
    artifacts: Path,
    js_errors: list[str],  # noqa: F811
) -> None:
    start_worker_process()
    page.goto(chain.host_url(chain.demo.hub_room_id, chain.hq_token))
    rows = page.locator("#items .item-row")
    expect(rows).to_have_count(10)
    # HQ searches by code and sees the chain's stock; the item joins the hub's window.
    page.get_by_test_id("catalogue-search").fill("md0014")
    found = page.get_by_test_id("catalogue-item")
    expect(found).to_have_count(1)
    expect(found).to_contain_text("库存 130")  # 50 + 60 + 20 across the three stores
    found.click()
    page.locator("#add-item").get_by_role("button", name="添加").click()
    expect(rows).to_have_count(11)
    row = page.locator("#items .item-row", has_text="丝巾")

    row.get_by_role("button", name="设活动").click()
    form = page.get_by_test_id("deal-form")
    expect(form.get_by_test_id("deal-floor")).to_have_count(0)  # HQ sets any price
    form.get_by_test_id("deal-kind").select_option("group_buy")
    form.get_by_test_id("deal-price").fill("99")
    form.get_by_test_id("deal-stock").fill("30")
    form.get_by_test_id("deal-group_size").fill("3")
    form.get_by_test_id("deal-group_minutes").fill("20")
    page.screenshot(path=artifacts / "hq-group-deal-form.png", animations="disabled")
    form.get_by_test_id("deal-create").click()
    expect(form).to_be_hidden()
    row.get_by_role("button", name="开抢", exact=True).click()
    expect(row.locator(".deal-status")).to_have_text("进行中")
    page.locator("#go-live").click()
    expect(page.locator("#status")).to_have_text("直播中")
    progress = page.get_by_test_id("group-progress").filter(has_text="丝巾")
    expect(progress).to_contain_text("暂无进行中的团")

    # A viewer in a store room opens a group: HQ's console shows "1/3, 19:5x left".
    room_id, _, share = chain.store_room(1)
    viewer = phone()
    viewer.goto(chain.room_url(room_id, share, nick="林小姐"))
    card = viewer.locator("#cards .card", has_text="丝巾")
    expect(card.locator(".deal-badge")).to_contain_text("拼团")
    card.get_by_test_id("buy").click()
    sheet = viewer.locator("#group-sheet")
    sheet.get_by_test_id("group-open").click()
    expect(sheet).to_contain_text("开团成功")
    line = progress.get_by_test_id("group-line")
    expect(line).to_contain_text("1/3 人", timeout=15_000)
    expect(line).to_contain_text(re.compile(r"剩 (20:00|19:\d\d)"))
    expect(line).to_contain_text("林**")
    page.get_by_test_id("deal-progress").scroll_into_view_if_needed()
    page.screenshot(path=artifacts / "hq-group-progress.png", animations="disabled")

    # HQ's limits on store deals, from the same console.
    limits = page.get_by_test_id("deal-limits")
    expect(limits.get_by_test_id("limits-floor_pct")).to_have_value("70")
    limits.get_by_test_id("limits-floor_pct").fill("80")
    limits.get_by_test_id("limits-save").click()
    expect(page.locator(".toast-ok").last).to_have_text("已保存")
    with httpx.Client(base_url=chain.app.url, headers=chain.hq(), timeout=10) as http:
        assert http.get("/api/deal-limits").json()["floor_pct"] == 80
    page.locator("#lang").click()
    english = page.get_by_test_id("group-progress").filter(has_text="Silk scarf")
    expect(english.get_by_test_id("group-line")).to_contain_text(
        re.compile(r"1 of 3, \d\d:\d\d left")
    )
    assert js_errors == []
