"""HQ's schedule in a real browser: plan a store broadcast, see an overlap refused with the
slot it clashes with, and the planned slot on the week's calendar."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.test_pages import DESKTOP, Chain, chain, js_errors  # noqa: F401 (fixtures)
from tests.support.browser import CHAIN_PEOPLE

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.demo]

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
BEIJING = ZoneInfo("Asia/Shanghai")


def next_own_slot(chain: Chain, store_id: int) -> datetime:  # noqa: F811
    """The start, in Beijing time, of the store's next own broadcast on the demo calendar."""
    now = datetime.now(BEIJING)
    answer = httpx.get(
        f"{chain.app.url}/api/schedule",
        params={"from": now.isoformat(), "to": (now + timedelta(days=7)).isoformat()},
        headers=chain.hq(),
    )
    answer.raise_for_status()
    starts = sorted(
        datetime.fromisoformat(slot["starts_at"]).astimezone(BEIJING)
        for slot in answer.json()
        if slot["store_id"] == store_id and slot["relays_id"] is None
    )
    assert starts and starts[0].hour == 19
    return starts[0]


@pytest.fixture
def hq_page(browser: Browser, js_errors: list[str]) -> Iterator[Page]:  # noqa: F811
    context = browser.new_context(**CHAIN_PEOPLE, viewport=DESKTOP)
    context.on("weberror", lambda e: js_errors.append(str(e.error)))
    yield context.new_page()
    context.close()


def test_hq_plans_a_store_broadcast_and_an_overlap_is_refused(
    chain: Chain,  # noqa: F811
    hq_page: Page,
    js_errors: list[str],  # noqa: F811
) -> None:
    page = hq_page
    page.goto(f"{chain.app.url}/static/hq.html?token={chain.hq_token}")
    expect(page.locator(".slot").first).to_be_visible()

    store_id = min(chain.demo.store_rooms)
    booked = next_own_slot(chain, store_id)  # the demo's 19:00-21:00 Beijing slot
    day = booked.strftime("%Y-%m-%d")
    form = page.get_by_test_id("plan-form")
    form.locator("select[name=kind]").select_option("store")
    form.locator("select[name=store_id]").select_option(str(store_id))
    form.locator("input[name=title]").fill("店长加场")
    form.locator("input[name=day]").fill(day)
    form.locator("input[name=starts]").fill("20:00")
    form.locator("input[name=ends]").fill("21:30")
    form.get_by_role("button").click()
    result = page.get_by_test_id("plan-result")
    expect(result).to_contain_text("未排入")
    expect(result).to_contain_text("overlaps")
    expect(result).to_contain_text("same store")

    form.locator("input[name=starts]").fill("21:00")
    form.locator("input[name=ends]").fill("22:00")
    form.get_by_role("button").click()
    expect(result).to_contain_text("已排入：店长加场")
    expect(page.locator(".slot", has_text="店长加场")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "hq-schedule.png"), full_page=True)
    assert js_errors == []


def test_hq_sees_a_store_room_go_live_on_the_dashboard(
    chain: Chain,  # noqa: F811
    hq_page: Page,
    js_errors: list[str],  # noqa: F811
) -> None:
    page = hq_page
    page.goto(f"{chain.app.url}/static/hq.html?token={chain.hq_token}")
    expect(page.get_by_test_id("live-rooms")).to_contain_text("现在没有直播间在播")
    room_id = chain.store_room(0)[0]
    room = httpx.get(f"{chain.app.url}/api/rooms/{room_id}", headers=chain.hq()).json()
    went_live = httpx.post(
        f"{chain.app.url}/api/broadcasts/{room['broadcast']['id']}/live", headers=chain.hq()
    )
    assert went_live.status_code == 200
    card = page.get_by_test_id(f"live-room-{room_id}")
    expect(card).to_be_visible()  # within the page's refresh of a few seconds
    expect(card).to_contain_text("直播中")
    expect(card.get_by_role("link", name="进入观察")).to_be_visible()  # the demo's clip plays
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "hq-live.png"))
    assert js_errors == []
