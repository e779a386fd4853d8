"""HQ chases (催办) a guide in a real browser: the follow-through table shows the guide's overdue
tasks, HQ presses 催办 (twice: the second reminds nobody again), and the guide's workbench on
a phone shows the reminder without a reload. The live grid runs over HQ's socket meanwhile."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select, update

from attribution.models import FollowupTask
from server.auth import Role
from server.model_base import utcnow
from server.services import open_services
from server.settings import Settings
from tests.conftest import ARTIFACTS
from tests.e2e.test_pages import (  # noqa: F401 (fixtures)
    DESKTOP,
    PHONE,
    Chain,
    _run_async,
    chain,
    js_errors,
)
from tests.support.browser import CHAIN_PEOPLE

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.demo]


async def make_overdue(settings: Settings, guide_id: int, count: int) -> None:
    """Two days late: `count` of the guide's open tasks from last night's broadcast."""
    services = await open_services(settings)
    try:
        async with services.sessionmaker() as session, session.begin():
            ids = list(
                await session.scalars(
                    select(FollowupTask.id)
                    .where(FollowupTask.guide_id == guide_id, FollowupTask.status == "open")
                    .order_by(FollowupTask.id)
                    .limit(count)
                )
            )
            assert len(ids) == count
            late = utcnow() - timedelta(days=2)
            await session.execute(
                update(FollowupTask)
                .where(FollowupTask.id.in_(ids))
                .values(due_at=late, created_at=late, expires_at=late + timedelta(days=3))
            )
    finally:
        await services.close()


@pytest.fixture
def pages(browser: Browser, js_errors: list[str]) -> Iterator[Callable[..., Page]]:  # noqa: F811
    contexts = []

    def open_page(viewport: dict[str, int]) -> Page:
        context = browser.new_context(**CHAIN_PEOPLE, viewport=viewport)
        context.on("weberror", lambda e: js_errors.append(str(e.error)))
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def test_hq_chases_a_guide_and_the_workbench_shows_the_reminder(
    chain: Chain,  # noqa: F811
    settings: Settings,
    token_for: Callable[..., str],
    pages: Callable[..., Page],
    js_errors: list[str],  # noqa: F811
) -> None:
    guide_id, store_id, _ = chain.demo.guides[0]
    _run_async(make_overdue(settings, guide_id, 2))
    chain.hub_goes_live()

    guide = pages(PHONE)
    guide.goto(
        f"{chain.app.url}/static/guide.html?token={token_for(Role.GUIDE, guide_id, store_id)}"
    )
    expect(guide.locator("#queue li").first).to_be_visible()
    expect(guide.locator(".reminder")).to_have_count(0)

    hq = pages(DESKTOP)
    hq.goto(f"{chain.app.url}/static/hq.html?token={chain.hq_token}")
    expect(hq.get_by_test_id(f"live-room-{chain.demo.hub_room_id}")).to_be_visible()
    expect(hq.get_by_test_id("live-rooms")).to_have_attribute("data-mode", "socket")
    with hq.context.expect_page() as opened:
        hq.get_by_test_id(f"observe-{chain.demo.hub_room_id}").click()
    observer = opened.value
    expect(observer.locator("#status")).to_have_text("直播中")
    expect(observer.locator(".dock")).to_be_hidden()
    observer.screenshot(path=str(ARTIFACTS / "hq-observer.png"))
    observer.close()
    hq.locator("#task-levels button[data-level=guide]").click()
    row = hq.get_by_test_id(f"task-row-guide-{guide_id}")
    expect(row.locator("td.overdue")).to_have_text("2")
    row.get_by_test_id(f"chase-guide-{guide_id}").click()
    expect(hq.locator(".toast")).to_contain_text("已提醒 1 位导购")
    row.get_by_test_id(f"chase-guide-{guide_id}").click()
    expect(hq.locator(".toast").last).to_contain_text("半小时内已催办过")
    hq.get_by_test_id("tasks-panel").scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    hq.screenshot(path=str(ARTIFACTS / "hq-chase.png"), full_page=True)

    reminder = guide.locator(".reminder")
    expect(reminder).to_have_count(1, timeout=10_000)
    expect(reminder).to_contain_text("你有 2 个跟进任务已逾期")
    guide.screenshot(path=str(ARTIFACTS / "guide-chased.png"), full_page=True)
    reminder.get_by_role("button").click()
    expect(guide.locator(".reminder")).to_have_count(0)
    assert js_errors == []
