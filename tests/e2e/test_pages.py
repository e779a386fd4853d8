"""The viewer room and the host console in a real browser, against real app processes.

The host console and the viewer run in separate browser contexts (separate storage, as two
people on two devices would); the viewer's is a phone-sized one.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from bench.processes import ServiceProcess
from server.auth import Role
from server.demo import DemoSummary, load_demo_data
from server.settings import Settings
from tests.support.browser import CHAIN_PEOPLE

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.demo]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


@dataclass
class Chain:
    app: ServiceProcess
    demo: DemoSummary
    hq_token: str

    def hq(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.hq_token}"}

    def store_room(self, n: int = 0) -> tuple[int, int, str]:
        """(room id, store id, a share code of one of that store's guides)."""
        store_id, room_id = sorted(self.demo.store_rooms.items())[n]
        share = next(code for _, store, code in self.demo.guides if store == store_id)
        return room_id, store_id, share

    def room_url(self, room_id: int, share: str, **extra: str) -> str:
        query = "".join(f"&{k}={quote(v)}" for k, v in extra.items())
        return f"{self.app.url}/static/room.html?room={room_id}&share={share}{query}"

    def host_url(self, room_id: int, token: str) -> str:
        return f"{self.app.url}/static/host.html?room={room_id}&token={token}"

    def hub_goes_live(self) -> None:
        """HQ goes live: a deal sells (and its card offers it) while a broadcast showing it is
        live."""
        with httpx.Client(base_url=self.app.url, headers=self.hq(), timeout=10) as http:
            hub = http.get(f"/api/rooms/{self.demo.hub_room_id}").raise_for_status().json()
            http.post(f"/api/broadcasts/{hub['broadcast']['id']}/live").raise_for_status()


def pay_in_sandbox(viewer: Page, pay_link: Any) -> None:
    """Through the sandbox pay page ("being recorded" until the worker has written the order),
    then Back to where the viewer came from, as a viewer would."""
    pay_link.click()
    pay_button = viewer.get_by_role("button", name=re.compile("确认支付"))
    for _ in range(20):
        try:
            expect(pay_button).to_be_visible(timeout=1000)
            break
        except AssertionError:
            viewer.reload()
    pay_button.click()
    expect(viewer.locator("#result")).to_contain_text("支付成功")
    viewer.go_back()


def _run_async(coroutine: Any) -> Any:
    """Playwright's sync API keeps a loop running in this thread: run ours in another."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.fixture
def chain(
    settings: Settings,
    start_app_process: Callable[..., ServiceProcess],
    token_for: Callable[..., str],
) -> Chain:
    demo = _run_async(load_demo_data(settings))
    app = start_app_process()
    return Chain(app, demo, token_for(Role.HQ, demo.hq_staff_id))


@pytest.fixture
def js_errors(page: Page) -> Iterator[list[str]]:
    """Uncaught errors of every page opened in the test; a test ends by asserting none."""
    errors: list[str] = []
    page.context.on("weberror", lambda e: errors.append(str(e.error)))
    yield errors


@pytest.fixture
def phone(browser: Browser, js_errors: list[str]) -> Iterator[Callable[[], Page]]:
    """A viewer's phone: its own browser context (storage), 390x844, touch."""
    contexts = []

    def open_phone() -> Page:
        context = browser.new_context(
            **CHAIN_PEOPLE, viewport=PHONE, device_scale_factor=2, has_touch=True
        )
        context.on("weberror", lambda e: js_errors.append(str(e.error)))
        contexts.append(context)
        return context.new_page()

    yield open_phone
    for context in contexts:
        context.close()


def test_hq_puts_an_item_on_air_and_another_stores_viewer_sees_it(
    page: Page, phone: Callable[[], Page], chain: Chain, artifacts: Path, js_errors: list[str]
) -> None:
    page.goto(chain.host_url(chain.demo.hub_room_id, chain.hq_token))
    rows = page.locator("#items .item-row")
    expect(rows).to_have_count(10)  # eight garments, the pack, its group-buy
    expect(page.locator("#conn")).to_have_class(re.compile("conn-open"))

    room_id, _, share = chain.store_room(1)
    viewer = phone()
    viewer.goto(chain.room_url(room_id, share))
    expect(viewer.locator("#cards .card")).to_have_count(10)
    expect(viewer.locator("#banner")).to_be_hidden()
    expect(viewer.locator("#onair")).to_be_hidden()

    target = rows.nth(2)
    item_id = target.get_attribute("data-item-id")
    assert item_id
    target.get_by_role("button", name="讲解", exact=True).click()
    expect(target.get_by_role("button", name="讲解中", exact=True)).to_be_visible()

    on_air = viewer.locator("#onair .onair-card")
    expect(on_air).to_have_attribute("data-item-id", item_id)
    expect(on_air).to_contain_text("讲解中")
    expect(on_air).to_contain_text("高腰阔腿裤")  # the hub's third window product
    expect(viewer.locator(f'#cards .card[data-item-id="{item_id}"]')).to_have_class(
        re.compile("is-on-air")
    )
    expect(page.locator("#now-on-air")).to_contain_text("高腰阔腿裤")

    # HQ drags the first item below the third: every relaying room shows the new order.
    first = rows.nth(0)
    box = rows.nth(2).bounding_box()
    assert box
    first.drag_to(rows.nth(2), target_position={"x": 200, "y": box["height"] - 6})
    expect(rows.nth(2)).to_contain_text("双面羊绒大衣")
    cards = viewer.locator("#cards .card")
    expect(cards.nth(0)).to_contain_text("真丝印花衬衫")
    expect(cards.nth(2)).to_contain_text("双面羊绒大衣")

    viewer.screenshot(path=artifacts / "room-phone.png", animations="disabled")
    viewer.set_viewport_size(DESKTOP)
    expect(on_air).to_be_visible()
    viewer.screenshot(path=artifacts / "room-desktop.png", animations="disabled")
    page.screenshot(path=artifacts / "host-desktop.png", animations="disabled")
    page.set_viewport_size(PHONE)
    expect(rows.first).to_be_visible()
    page.screenshot(path=artifacts / "host-phone.png", full_page=True, animations="disabled")

    # English on the toggle; the product names come in English from the server.
    viewer.set_viewport_size(PHONE)
    viewer.locator("#lang").click()
    expect(on_air).to_contain_text("On air")
    expect(on_air).to_contain_text("High-waist wide-leg trousers")
    expect(viewer.locator("#window-title")).to_have_text("Shop the live")
    viewer.screenshot(path=artifacts / "room-phone-en.png", animations="disabled")
    assert js_errors == []


def test_a_viewer_like_moves_the_host_console_count(
    page: Page,
    phone: Callable[[], Page],
    chain: Chain,
    token_for: Callable[..., str],
    artifacts: Path,
    js_errors: list[str],
) -> None:
    room_id, store_id, share = chain.store_room(0)
    staff_id = next(s for s, store, _ in chain.demo.hosts if store == store_id)
    page.goto(chain.host_url(room_id, token_for(Role.HOST, staff_id, store_id=store_id)))
    expect(page.locator("#items .item-row")).to_have_count(10)
    expect(page.locator("#likes")).to_have_text("0")

    viewer = phone()
    viewer.goto(chain.room_url(room_id, share, nick="王女士"))
    expect(viewer.locator("#cards .card")).to_have_count(10)
    expect(viewer.locator("#banner")).to_be_hidden()
    like = viewer.locator("#like")
    for _ in range(5):
        like.click()
    expect(viewer.locator("#hearts .heart").first).to_be_attached()
    expect(viewer.locator("#likes")).to_have_text("5")
    expect(page.locator("#likes")).to_have_text("5")
    expect(page.locator("#viewers")).not_to_have_text("0")

    # The store's host hides a hub item it cannot sell: gone from its viewers' window.
    hub_row = page.locator("#items .item-row").nth(4)
    hidden_id = hub_row.get_attribute("data-item-id")
    hub_row.get_by_role("button", name="隐藏", exact=True).click()
    expect(hub_row.get_by_role("button", name="恢复显示", exact=True)).to_be_visible()
    expect(viewer.locator("#cards .card")).to_have_count(9)
    expect(viewer.locator(f'#cards .card[data-item-id="{hidden_id}"]')).to_have_count(0)

    # Chat reaches the host, who mutes its author; the viewer is told on the next line.
    viewer.locator("#chat-input").fill("这件大衣有米色吗？")
    viewer.locator("#chat-input").press("Enter")
    line = page.locator("#chat .chat-row").filter(has_text="这件大衣有米色吗？")
    expect(line).to_contain_text("王**")
    expect(viewer.locator("#chat")).to_contain_text("这件大衣有米色吗？")
    line.get_by_role("button", name="禁言").click()
    expect(line).to_contain_text("已禁言")
    viewer.locator("#chat-input").fill("还在吗")
    viewer.locator("#chat-input").press("Enter")
    expect(viewer.locator(".toast")).to_contain_text("你已被主播禁言")
    page.screenshot(path=artifacts / "host-store-desktop.png", animations="disabled")
    viewer.screenshot(path=artifacts / "room-chat-muted.png", animations="disabled")

    # Unmuted, the viewer is heard again; the host hides that line from every viewer.
    line.get_by_role("button", name="解除禁言").click()
    expect(line.get_by_role("button", name="禁言", exact=True)).to_be_visible()
    viewer.locator("#chat-input").fill("米色有货吗")
    viewer.locator("#chat-input").press("Enter")
    again = page.locator("#chat .chat-row").filter(has_text="米色有货吗")
    expect(viewer.locator("#chat")).to_contain_text("米色有货吗")
    again.get_by_role("button", name="隐藏", exact=True).click()
    expect(again).to_have_count(0)
    expect(viewer.locator("#chat")).not_to_contain_text("米色有货吗")
    expect(viewer.locator("#chat")).to_contain_text("这件大衣有米色吗？")
    assert js_errors == []


def _flash_sale_item(chain: Chain) -> tuple[dict[str, Any], dict[str, Any]]:
    """A hub window item with a flash sale: the demo's, or one made here if it has none."""
    with httpx.Client(base_url=chain.app.url, headers=chain.hq(), timeout=10) as http:
        hub = http.get(f"/api/rooms/{chain.demo.hub_room_id}").raise_for_status().json()
        for item in hub["window"]:
            if item.get("deal_id") is None:
                continue
            deal = http.get(f"/api/deals/{item['deal_id']}").raise_for_status().json()
            if deal["kind"] == "flash_sale":
                return item, deal
        item = hub["window"][0]
        deal = (
            http.post(
                "/api/deals",
                json={
                    "kind": "flash_sale",
                    "product_id": item["product_id"],
                    "price_fen": item["price_fen"] * 6 // 10,
                    "stock": 50,
                    "broadcast_id": hub["broadcast"]["id"],
                    "per_customer_limit": 2,
                },
            )
            .raise_for_status()
            .json()
        )
        http.patch(
            f"/api/broadcasts/{hub['broadcast']['id']}/window/{item['item_id']}",
            json={"deal_id": deal["id"]},
        ).raise_for_status()
        return item, deal


def _yuan(fen: int) -> str:
    whole, cents = divmod(fen, 100)
    return f"¥{whole:,}" + (f".{cents:02d}" if cents else "")


def test_a_viewer_orders_pays_in_the_sandbox_and_sees_it_paid_and_the_host_console_shows_it(
    page: Page,
    phone: Callable[[], Page],
    chain: Chain,
    start_worker_process: Callable[..., ServiceProcess],
    artifacts: Path,
    js_errors: list[str],
) -> None:
    start_worker_process()
    item, deal = _flash_sale_item(chain)
    item_id = str(item["item_id"])

    # HQ launches the flash sale from the hub's console.
    page.goto(chain.host_url(chain.demo.hub_room_id, chain.hq_token))
    row = page.locator(f'#items .item-row[data-item-id="{item_id}"]')
    row.get_by_role("button", name="开抢", exact=True).click()
    expect(row.locator(".deal-status")).to_have_text("进行中")
    # It sells while a broadcast showing it is live: HQ goes live, and the store rooms relay it.
    page.locator("#go-live").click()
    expect(page.locator("#status")).to_have_text("直播中")

    # A viewer in a store room relaying the hub buys two.
    room_id, _, share = chain.store_room(0)
    viewer = phone()
    room_url = chain.room_url(room_id, share, nick="林小姐")
    viewer.goto(room_url)
    card = viewer.locator(f'#cards .card[data-item-id="{item_id}"]')
    expect(card.locator(".deal-badge")).to_contain_text("秒杀")
    expect(card).to_contain_text("仅剩 50 件")
    expect(viewer.locator("#status")).to_have_text("总部直播转播中")
    card.get_by_test_id("buy").click()
    sheet = viewer.locator("#order-sheet")
    expect(sheet.get_by_test_id("quantity")).to_have_text("1")
    sheet.get_by_role("button", name="+").click()
    expect(sheet.get_by_test_id("quantity")).to_have_text("2")
    expect(sheet.get_by_role("button", name="+")).to_be_disabled()  # limit 2 per customer
    unit = deal["price_fen"]
    expect(sheet.get_by_test_id("breakdown")).to_have_text(f"{_yuan(unit)} × 2 = {_yuan(unit * 2)}")
    viewer.screenshot(path=artifacts / "room-order-sheet.png", animations="disabled")
    sheet.get_by_role("button", name=re.compile("确认下单")).click()
    expect(sheet).to_contain_text("抢到了")
    expect(sheet).to_contain_text(f"应付 {_yuan(unit * 2)}")
    expect(card).to_contain_text("仅剩 48 件")
    viewer.screenshot(path=artifacts / "room-order-accepted.png", animations="disabled")
    pay = sheet.get_by_test_id("pay")
    order_id = urlsplit(pay.get_attribute("href") or "").path.rsplit("/", 1)[-1]
    assert order_id

    # The sandbox pay page, then back to the room with the browser's Back button.
    pay_in_sandbox(viewer, pay)
    expect(viewer).to_have_url(room_url)
    expect(viewer.locator("#banner")).to_be_hidden()

    # Two bought, two allowed: a third is refused with the reason in words.
    card.get_by_test_id("buy").click()
    sheet.get_by_role("button", name=re.compile("确认下单")).click()
    expect(sheet.locator(".sheet-error")).to_have_text("已达限购")
    sheet.get_by_role("button", name="关闭").click()

    viewer.locator("#orders-open").click()
    order_row = viewer.locator(f'#orders-sheet .order-row[data-order-id="{order_id}"]')
    expect(order_row.get_by_test_id("order-status")).to_have_text("已支付")
    expect(order_row).to_contain_text(_yuan(unit * 2))
    viewer.screenshot(path=artifacts / "room-my-orders.png", animations="disabled")

    # The hub's console lists the store room's order as paid, with the totals.
    landed = page.locator(f'#orders .host-order[data-order-id="{order_id}"]')
    expect(landed).to_have_attribute("data-status", "paid", timeout=10_000)
    expect(landed).to_contain_text("已支付")
    expect(landed).to_contain_text("林**")
    expect(page.get_by_test_id("orders-paid")).to_have_text("1")
    expect(page.get_by_test_id("orders-gmv")).to_have_text(_yuan(unit * 2))
    page.screenshot(path=artifacts / "host-orders.png", animations="disabled")
    assert js_errors == []


def test_a_store_hides_shows_and_hq_removes_the_item_on_air_and_every_phone_follows(
    page: Page,
    phone: Callable[[], Page],
    chain: Chain,
    token_for: Callable[..., str],
    js_errors: list[str],
) -> None:
    room_id, store_id, share = chain.store_room(1)
    staff_id = next(staff for staff, store, _ in chain.demo.hosts if store == store_id)
    with httpx.Client(base_url=chain.app.url, headers=chain.hq()) as http:
        hub = http.get(f"/api/rooms/{chain.demo.hub_room_id}").json()
        hub_id, item_id = hub["broadcast"]["id"], hub["window"][2]["item_id"]
        assert http.post(f"/api/broadcasts/{hub_id}/on-air", json={"item_id": item_id}).is_success
    page.goto(chain.host_url(room_id, token_for(Role.HOST, staff_id, store_id)))
    row = page.locator(f'#items .item-row[data-item-id="{item_id}"]')
    early = phone()
    early.goto(chain.room_url(room_id, share))
    expect(early.locator("#onair .onair-card")).to_have_attribute("data-item-id", str(item_id))

    row.get_by_role("button", name="隐藏", exact=True).click()  # the store cannot fulfil it
    expect(early.locator("#onair")).to_be_hidden()
    expect(early.locator("#cards .card")).to_have_count(9)
    late = phone()  # joins while the item on air is hidden
    late.goto(chain.room_url(room_id, share))
    expect(late.locator("#cards .card")).to_have_count(9)
    expect(late.locator("#onair")).to_be_hidden()

    row.get_by_role("button", name="恢复显示", exact=True).click()
    for viewer in (early, late):
        expect(viewer.locator("#onair .onair-card")).to_have_attribute("data-item-id", str(item_id))
        expect(viewer.locator("#cards .card")).to_have_count(10)

    with httpx.Client(base_url=chain.app.url, headers=chain.hq()) as http:
        assert http.delete(f"/api/broadcasts/{hub_id}/window/{item_id}").is_success
    for viewer in (early, late):
        expect(viewer.locator("#onair")).to_be_hidden()
        expect(viewer.locator("#cards .card")).to_have_count(9)
    expect(row).to_have_count(0)
    assert js_errors == []
