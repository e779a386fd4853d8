"""The index page's rooms come from an API, as links; a missing file is a plain 404."""

from __future__ import annotations

import logging

import pytest

from tests.live.conftest import Chain

pytestmark = pytest.mark.demo


async def test_the_rooms_are_listed_as_links_hub_first(chain: Chain) -> None:
    hub = (await chain.room(chain.demo.hub_room_id))["broadcast"]["id"]
    went = await chain.http.post(f"/api/broadcasts/{hub}/live", headers=chain.hq)
    assert went.status_code == 200, went.text
    response = await chain.http.get("/api/rooms")  # public: no token
    assert response.status_code == 200, response.text
    rooms = response.json()["rooms"]
    listed = [r["room_id"] for r in rooms]
    assert listed[0] == chain.demo.hub_room_id  # the live hub first
    assert set(chain.demo.store_rooms.values()) <= set(listed)
    hubs = [n for n, r in enumerate(rooms) if r["store_name"] is None]
    assert hubs == list(range(len(hubs)))  # every hub room before the stores' rooms
    assert rooms[0]["status"] == "live" and rooms[0]["store_name"] is None
    store = next(r for r in rooms if r["room_id"] == min(chain.demo.store_rooms.values()))
    assert store["viewer_url"] == f"/static/room.html?room={store['room_id']}"
    assert store["console_url"] == f"/static/host.html?room={store['room_id']}"
    assert store["store_name"] and store["relaying_live_hub"]
    index = await chain.http.get("/static/index.html")
    assert "/static/js/index.js" in index.text and "ROOM&amp;" not in index.text


async def test_a_missing_file_is_a_plain_404_without_a_traceback(
    chain: Chain, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        for path in ("/favicon.ico", "/static/nothing-here.js"):
            response = await chain.http.get(path)
            assert response.status_code == 404
            assert response.json()["status_code"] == 404
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert "Traceback" not in caplog.text
