"""The demo's rooms play video: the HLS clip the demo made (or copied) and the app serves."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from server.demo_clip import CLIP_URL
from tests.e2e.test_pages import Chain, chain, js_errors, phone  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.demo]


def test_a_demo_room_plays_the_demos_hls_clip(
    phone: Callable[[], Page],  # noqa: F811
    chain: Chain,  # noqa: F811
    artifacts: Path,
    js_errors: list[str],  # noqa: F811
) -> None:
    playlist = httpx.get(f"{chain.app.url}{CLIP_URL}")
    assert playlist.status_code == 200
    assert playlist.text.startswith("#EXTM3U")
    room_id, _, share = chain.store_room(0)
    viewer = phone()
    viewer.goto(chain.room_url(room_id, share))
    video = viewer.locator("#video")
    expect(video).to_have_attribute("data-engine", "hls.js")
    viewer.wait_for_function(
        "() => document.querySelector('#video').currentTime > 1", timeout=20_000
    )
    expect(video).to_be_visible()
    expect(viewer.locator("#video-note")).to_be_hidden()
    viewer.screenshot(path=artifacts / "room-demo-clip.png", animations="disabled")
    assert js_errors == []
