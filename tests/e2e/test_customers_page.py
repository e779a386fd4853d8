"""The customers page in a real browser over the demo chain: a host lists their store's
customers with masked phones, opens a card with its binding and credited purchases, and reads
one of their guides' credited sales with reasons; HQ searches every store's customers and
unmasks a phone through the audited endpoint."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import func, select

from attribution.models import PhoneUnmask
from bench.processes import ServiceProcess
from server.auth import Role
from server.demo import load_demo_data
from server.services import open_services
from server.settings import Settings
from tests.conftest import ARTIFACTS
from tests.support.browser import CHAIN_PEOPLE

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.demo]
MASKED = re.compile(r"^1\d\d\*{4}\d{4}$")


def _run_async(coroutine: Any) -> Any:
    """Playwright's sync API keeps a loop running in this thread: run ours in another."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def unmask_rows(settings: Settings) -> int:
    services = await open_services(settings)
    try:
        async with services.sessionmaker() as session:
            return int(await session.scalar(select(func.count()).select_from(PhoneUnmask)) or 0)
    finally:
        await services.close()


def test_a_host_reads_cards_and_guide_sales_and_hq_unmasks_with_an_audit(
    browser: Browser,
    settings: Settings,
    start_app_process: Callable[..., ServiceProcess],
    token_for: Callable[..., str],
) -> None:
    demo = _run_async(load_demo_data(settings))
    app = start_app_process()
    host_id, store_id, _ = demo.hosts[0]
    context = browser.new_context(**CHAIN_PEOPLE, viewport={"width": 1366, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(
            f"{app.url}/static/customers.html?token={token_for(Role.HOST, host_id, store_id)}"
        )
        rows = page.locator("#customers tr[data-customer-id]")
        expect(rows.first).to_be_visible()
        phones = page.locator("#customers .phone").all_inner_texts()
        assert phones and all(MASKED.match(phone) for phone in phones)

        # The guide's sales: the first guide of the store, with each credit's reason.
        expect(page.locator("#sales .credit").first).to_be_visible()
        expect(page.locator("#sales-total")).to_contain_text("归属业绩")
        assert "绑定导购" in page.locator("#sales .credit .reason").first.inner_text()
        page.screenshot(path=str(ARTIFACTS / "customers-host.png"), full_page=True)

        # A bound customer's card: binding, its history, purchases with reasons, no unmask.
        page.locator("#customers tr:not(:has(.tag.pool))").first.click()
        card = page.locator("#card .sheet")
        expect(card).to_be_visible()
        expect(card.locator(".binding")).to_contain_text("自")
        expect(card.locator(".history li").first).to_contain_text("总部导入")
        expect(card).not_to_contain_text("null")
        expect(card.locator("#unmask")).to_have_count(0)
        page.screenshot(path=str(ARTIFACTS / "customers-card.png"), full_page=True)
        card.get_by_role("button", name="关闭").click()
        expect(page.locator("#card")).to_be_hidden()

        page.locator("#lang").click()
        expect(page.locator("h1")).to_have_text("Customers and sales")
        expect(page.locator("#sales-total")).to_contain_text("credited in the last")

        # HQ: every store, a search by a phone's last digits, the audited unmask.
        hq_page = context.new_page()
        hq_page.on("pageerror", lambda e: errors.append(str(e)))
        hq_page.goto(
            f"{app.url}/static/customers.html?lang=zh&token={token_for(Role.HQ, demo.hq_staff_id)}"
        )
        expect(hq_page.locator("#store")).to_be_visible()
        first = hq_page.locator("#customers tr[data-customer-id]").first
        expect(first).to_be_visible()
        digits = first.locator(".phone").inner_text()[-4:]
        hq_page.locator("#q").fill(digits)
        expect(
            hq_page.locator("#customers tr[data-customer-id]").first.locator(".phone")
        ).to_contain_text(digits)
        before = _run_async(unmask_rows(settings))
        hq_page.once("dialog", lambda dialog: dialog.accept("回访核对"))
        hq_page.locator("#customers tr[data-customer-id]").first.click()
        hq_page.locator("#unmask").click()
        expect(hq_page.locator("#unmasked")).to_have_text(re.compile(rf"1\d{{6}}{digits}$"))
        assert _run_async(unmask_rows(settings)) == before + 1
        hq_page.screenshot(path=str(ARTIFACTS / "customers-hq-unmask.png"), full_page=True)
        assert errors == []
    finally:
        context.close()
