"""HQ's store ranking in a real browser at desktop width: after a demo broadcast the table lists
the stores in the order their figures and HQ's weights give (worked out here again from the
KPIs), the bottom store is flagged, a store's trend chart has the demo's history, and the KPI
definitions stand beside the figures."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.test_pages import DESKTOP, Chain, chain, js_errors  # noqa: F401 (fixtures)
from tests.support.browser import CHAIN_PEOPLE

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.demo]

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
PHASE_DAYS = (30, 90)
KPI_OF_WEIGHT = {
    "live_minutes": "live_minutes",
    "sessions": "sessions",
    "live_sales": "live_sales_fen",
    "private_share": "private_share",
    "execution": "execution_rate",
    "add_fan": "add_fan_rate",
    "reactivation": "reactivation_rate",
    "missed_slots": "missed_slots",
}


@pytest.fixture
def hq_page(browser: Browser, js_errors: list[str]) -> Iterator[Page]:  # noqa: F811
    context = browser.new_context(**CHAIN_PEOPLE, viewport=DESKTOP)
    context.on("weberror", lambda e: js_errors.append(str(e.error)))
    yield context.new_page()
    context.close()


def expected_order(http: httpx.Client, phases: dict[str, str]) -> list[str]:
    """Store codes best first, scored here from the KPIs and the weights as HQ's rule says:
    each KPI as a share of the best store's (missed slots reversed), weighted by phase."""
    until = datetime.now(UTC)
    period = {"from": (until - timedelta(days=7)).isoformat(), "to": until.isoformat()}
    kpis = http.get("/api/hq/kpis", params=period).raise_for_status().json()["stores"]
    weights = http.get("/api/hq/scores/weights").raise_for_status().json()
    best = {w: max(max(k[f], 0) for k in kpis) for w, f in KPI_OF_WEIGHT.items()}

    def score(k: dict[str, Any]) -> float:
        mine = weights[phases[k["code"]]]
        points = 0.0
        for w, field in KPI_OF_WEIGHT.items():
            share = max(k[field], 0) / best[w] if best[w] else 0.0
            points += mine[w] * (1 - share if w == "missed_slots" else share)
        return points / sum(mine.values())

    return [k["code"] for k in sorted(kpis, key=lambda k: (-score(k), -k["live_sales_fen"]))]


def test_after_a_demo_broadcast_the_ranking_follows_the_stores_figures(
    chain: Chain,  # noqa: F811
    hq_page: Page,
    js_errors: list[str],  # noqa: F811
) -> None:
    chain.hub_goes_live()  # tonight's broadcast, relayed by every store, goes on air
    with httpx.Client(base_url=chain.app.url, headers=chain.hq(), timeout=10) as http:
        ranking = http.get("/api/hq/scores/ranking").raise_for_status().json()["stores"]
        phases = {s["code"]: s["phase"] for s in ranking}
        order = expected_order(http, phases)
    assert set(phases.values()) == {"early", "middle", "later"}  # the demo's three habits

    page = hq_page
    page.goto(f"{chain.app.url}/static/hq.html?token={chain.hq_token}")
    table = page.get_by_test_id("store-ranking")
    expect(table.locator("tbody tr")).to_have_count(3)
    rows = table.locator("tbody tr")
    codes = [
        rows.nth(n).get_attribute("data-testid").removeprefix("rank-row-")  # type: ignore[union-attr]
        for n in range(3)
    ]
    assert codes == order
    expect(rows.last).to_contain_text("末位")  # the page flags the last one by default
    expect(rows.first).not_to_contain_text("末位")
    # The trend chart of the leading store draws the demo's fortnight of roll-ups.
    chart = page.get_by_test_id("trend-chart")
    expect(chart.locator("canvas")).to_be_visible()
    assert int(chart.get_attribute("data-points") or 0) >= 10
    expect(page.get_by_test_id("kpi-definitions")).to_contain_text("私域业绩占比")
    expect(page.get_by_test_id("guide-ranking").locator("tbody tr")).to_have_count(6)
    # Another store's trend on a click.
    rows.last.click()
    expect(page.locator("#sc-trend-title")).to_contain_text(rows.last.locator("b").inner_text())
    ARTIFACTS.mkdir(exist_ok=True)
    page.get_by_test_id("store-ranking").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "hq-scores.png"), full_page=True)
    assert not js_errors, js_errors
