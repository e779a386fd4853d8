"""The chain's pulse on a store host's console in a real browser: while the hub is live, the
top items across the chain's rooms of the last 15 minutes and this room against the median."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from live.models import Broadcast
from orders.models import Deal
from server import factories
from server.auth import Role
from server.model_base import utcnow
from server.services import open_services
from server.settings import Settings
from tests.conftest import ARTIFACTS
from tests.e2e.test_pages import DESKTOP, Chain, _run_async, chain, js_errors  # noqa: F401
from tests.support.browser import CHAIN_PEOPLE

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.demo]


async def sell_across_the_chain(settings: Settings, hub_room_broadcast: int) -> None:
    """Three coats in the first relaying store's room, one in the second's, minutes ago."""
    services = await open_services(settings)
    try:
        async with services.sessionmaker() as session, session.begin():
            relays = list(
                await session.scalars(
                    select(Broadcast)
                    .where(Broadcast.relays_id == hub_room_broadcast)
                    .order_by(Broadcast.store_id)
                )
            )
            deal = await session.scalar(
                select(Deal).where(Deal.broadcast_id == hub_room_broadcast).order_by(Deal.id)
            )
            assert deal is not None and len(relays) >= 2
            for n, room in enumerate([relays[0]] * 3 + [relays[1]]):
                order = await factories.add_paid_order(
                    session,
                    deal,
                    customer_id=1 + n,
                    room_store_id=room.store_id,
                    at=utcnow() - timedelta(minutes=2),
                    idempotency_key=f"pulse-e2e-{n}",
                )
                order.broadcast_id = room.id
    finally:
        await services.close()


@pytest.fixture
def console(browser: Browser, js_errors: list[str]) -> Iterator[Page]:  # noqa: F811
    context = browser.new_context(**CHAIN_PEOPLE, viewport=DESKTOP)
    context.on("weberror", lambda e: js_errors.append(str(e.error)))
    yield context.new_page()
    context.close()


def test_a_store_host_sees_the_chains_pulse_while_the_hub_is_live(
    chain: Chain,  # noqa: F811
    settings: Settings,
    token_for: Callable[..., str],
    console: Page,
    js_errors: list[str],  # noqa: F811
) -> None:
    room_id, store_id, _ = chain.store_room(0)
    staff_id = next(staff for staff, store, _ in chain.demo.hosts if store == store_id)
    token = token_for(Role.HOST, staff_id, store_id)
    hub = httpx.get(f"{chain.app.url}/api/rooms/{chain.demo.hub_room_id}", headers=chain.hq())
    hub_id = hub.json()["broadcast"]["id"]
    _run_async(sell_across_the_chain(settings, hub_id))

    console.goto(chain.host_url(room_id, token))
    expect(console.get_by_test_id("orders-count")).to_be_visible()
    expect(console.get_by_test_id("pulse")).to_be_hidden()
    chain.hub_goes_live()
    console.reload()
    pulse = console.get_by_test_id("pulse")
    expect(pulse).to_contain_text("全链路脉搏 · 近 15 分钟")
    expect(pulse.locator(".pulse-list li").first).to_contain_text("4 件")
    expect(console.get_by_test_id("pulse-mine")).to_contain_text("高于中位数")
    expect(console.get_by_test_id("pulse-mine")).to_contain_text("第 1 / ")
    pulse.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    console.screenshot(path=str(ARTIFACTS / "host-pulse.png"), full_page=True)
    assert js_errors == []
