"""The browser harness works: Chromium opens the API docs and a screenshot is kept."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from bench.processes import ServiceProcess


@pytest.mark.browser
def test_api_docs_open_in_a_real_browser(
    page: Page, start_app_process: Callable[..., ServiceProcess], artifacts: Path
) -> None:
    app = start_app_process()
    page.goto(f"{app.url}/schema")
    expect(page.locator("rapi-doc")).to_be_attached()
    expect(page.get_by_text("ViewerLogin").first).to_be_visible()
    page.screenshot(path=artifacts / "schema.png", full_page=False)
    assert (artifacts / "schema.png").stat().st_size > 10_000
