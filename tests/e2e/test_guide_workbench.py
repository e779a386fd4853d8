"""The guide workbench in a real browser on a phone-sized screen, after the demo's ended
broadcast: the guide sees exactly their non-buyers with what they watched and the items they
tapped (with product images), copies a script, completes a task, and HQ's figures move; a task
issued meanwhile appears without a reload; their credited sales with reasons and their figures
with definitions."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from attribution.models import Binding, FollowupTask
from bench.processes import ServiceProcess
from live.models import Broadcast, Room, ViewerSession
from orders.models import Deal, Order
from server.auth import Role
from server.demo import load_demo_data
from server.model_base import utcnow
from server.services import open_services
from server.settings import Settings
from tests.conftest import ARTIFACTS
from tests.support.browser import CHAIN_PEOPLE

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.demo]

PHONE = {"width": 390, "height": 844}


def _run_async(coroutine: Any) -> Any:
    """Playwright's sync API keeps a loop running in this thread: run ours in another."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def non_buyers_bound_to(settings: Settings, guide_id: int) -> set[str]:
    """From the raw tables, not the tasks: last night's viewers bound to the guide, less those
    who paid in it."""
    services = await open_services(settings)
    try:
        async with services.sessionmaker() as session:
            hub = await session.scalar(
                select(Broadcast.id).where(Broadcast.kind == "hub", Broadcast.status == "ended")
            )
            family = [
                hub,
                *await session.scalars(select(Broadcast.id).where(Broadcast.relays_id == hub)),
            ]
            rooms = select(Room.id).where(Room.broadcast_id.in_(family))
            viewers = set(
                await session.scalars(
                    select(ViewerSession.customer_id).where(ViewerSession.room_id.in_(rooms))
                )
            )
            bound = set(
                await session.scalars(
                    select(Binding.customer_id).where(
                        Binding.guide_id == guide_id, Binding.ended_at.is_(None)
                    )
                )
            )
            buyers = set(
                await session.scalars(
                    select(Order.customer_id)
                    .join(Deal, Deal.id == Order.deal_id)
                    .where(Deal.broadcast_id == hub, Order.status == "paid")
                )
            )
            return {str(c) for c in (viewers & bound) - buyers}
    finally:
        await services.close()


async def new_task_for(settings: Settings, guide_id: int, customer_id: int) -> int:
    """A task issued while the page is open (as the worker would after another broadcast)."""
    services = await open_services(settings)
    try:
        async with services.sessionmaker() as session, session.begin():
            now = utcnow()
            task = FollowupTask(
                kind="watched",
                customer_id=customer_id,
                guide_id=guide_id,
                broadcast_id=999_999,
                watch_seconds=600,
                due_at=now,
                expires_at=now + timedelta(days=3),
            )
            session.add(task)
            await session.flush()
            return task.id
    finally:
        await services.close()


def test_a_guide_works_the_queue_of_last_nights_non_buyers_on_a_phone(
    browser: Browser,
    settings: Settings,
    start_app_process: Callable[..., ServiceProcess],
    token_for: Callable[..., str],
) -> None:
    demo = _run_async(load_demo_data(settings))
    app = start_app_process()
    guide_id, store_id, _ = demo.guides[0]
    expected = _run_async(non_buyers_bound_to(settings, guide_id))
    hq = {"Authorization": f"Bearer {token_for(Role.HQ, demo.hq_staff_id)}"}
    before = httpx.get(f"{app.url}/api/followups/figures", headers=hq).json()
    guide_headers = {"Authorization": f"Bearer {token_for(Role.GUIDE, guide_id, store_id)}"}
    mine = httpx.get(f"{app.url}/api/guides/me/sales", headers=guide_headers).json()
    sales = {"n": len(mine["credits"])}
    context = browser.new_context(
        viewport=PHONE,
        **CHAIN_PEOPLE,
        is_mobile=True,
        has_touch=True,
        permissions=["clipboard-read", "clipboard-write"],
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{app.url}/static/guide.html?token={token_for(Role.GUIDE, guide_id, store_id)}")
        own = page.locator('.task[data-pool="0"]:not([data-kind="care"])')
        expect(own.first).to_be_visible()
        shown = set(own.evaluate_all("els => els.map(e => e.dataset.customer)"))
        assert shown == expected and expected
        expect(page.locator("#n-watched")).not_to_have_text("0")
        first = own.first
        expect(first.locator(".did")).to_contain_text("看播")
        expect(first.locator(".task-phone")).to_have_text(re.compile(r"^1\d\d\*{4}\d{4}$"))
        page.screenshot(path=str(ARTIFACTS / "guide-workbench-queue.png"), full_page=True)

        # What they tapped and saw on air, with the catalogue's images, on the card and the list.
        tapped = own.filter(has=page.locator(".thumbs img")).first
        expect(tapped).to_be_visible()
        customer = tapped.get_attribute("data-customer")
        tapped.click()
        items = page.locator("#items li")
        expect(items.first).to_be_visible()
        expect(items.first.locator("img")).to_have_attribute(
            "src", re.compile(r"^/static/img/.+\.svg$")
        )
        expect(items.first).to_contain_text("讲解")
        assert page.locator("#items img").evaluate_all(
            "imgs => imgs.every(i => i.complete && i.naturalWidth > 0)"
        )
        expect(page.locator("#sheet")).to_be_visible()
        expect(page.locator("#sheet")).not_to_contain_text("null")
        expect(page.locator("#sheet")).not_to_contain_text("undefined")
        script = page.locator("#script").inner_text()
        assert "专属导购" in script
        page.locator("#copy-script").click()
        expect(page.locator(".toast").last).to_contain_text("已复制")
        assert page.evaluate("navigator.clipboard.readText()") == script
        page.screenshot(path=str(ARTIFACTS / "guide-workbench-card.png"), full_page=True)

        page.locator('.outcome[data-outcome="reached"]').click()
        expect(page.locator("#sheet-bg")).to_be_hidden()
        expect(
            page.locator(f'.task[data-customer="{customer}"]:not([data-kind="care"])')
        ).to_have_count(0)
        expect(page.locator("#rate")).not_to_have_text("–")

        new_task = _run_async(new_task_for(settings, guide_id, int(customer or 0)))
        expect(page.locator(f'.task[data-task="{new_task}"]')).to_be_visible(timeout=15_000)

        page.locator("#tab-sales").click()
        expect(page.locator("#sales-total")).to_have_text(re.compile(r"^-?¥"))
        credits = page.locator("#sales .credit")
        assert credits.count() == sales["n"]
        if sales["n"]:
            expect(credits.first.locator(".reason")).not_to_be_empty()
        figures = page.locator("#figures li")
        expect(figures).to_have_count(4)
        expect(page.locator("#figures")).to_contain_text("加粉率")
        expect(page.locator("#figures")).to_contain_text("复购率")
        page.screenshot(path=str(ARTIFACTS / "guide-workbench-sales.png"), full_page=True)

        page.locator("#tab-share").click()
        expect(page.locator("#qr svg")).to_be_visible()
        expect(page.locator("#share-link")).to_contain_text(f"share={demo.guides[0][2]}")
        page.screenshot(path=str(ARTIFACTS / "guide-workbench-share.png"), full_page=True)
        assert errors == []
    finally:
        context.close()
    after = httpx.get(f"{app.url}/api/followups/figures", headers=hq).json()
    assert after["done"] == before["done"] + 1
    assert after["execution_rate"] > before["execution_rate"]
