"""A broadcast's life: scheduled, live, ended; the room stays open as a shoppable replay."""

from __future__ import annotations

import pytest

from tests.live.conftest import Chain, next_frame

pytestmark = pytest.mark.demo


async def test_a_store_broadcast_goes_live_ends_and_stays_open_as_a_replay(chain: Chain) -> None:
    room = chain.store_room(0)
    broadcast = (await chain.room(room))["broadcast"]["id"]
    host = chain.host(0)
    async with chain.viewer(room, customer_id=4) as viewer:
        snapshot = await next_frame(viewer, "snapshot")
        assert snapshot["broadcast"]["status"] == "scheduled"
        live = await chain.http.post(f"/api/broadcasts/{broadcast}/live", headers=host)
        assert live.json() == {"id": broadcast, "status": "live"}
        state = await next_frame(viewer, "broadcast.state")
        assert (state["broadcast"]["id"], state["broadcast"]["status"]) == (broadcast, "live")
        assert state["broadcast"]["started_ms"] > 0
        play = "https://media.example.com/live/store-1.m3u8"
        media = await chain.http.post(
            f"/api/broadcasts/{broadcast}/media", json={"play_url": play}, headers=host
        )
        assert media.status_code == 200
        assert (await next_frame(viewer, "broadcast.state"))["broadcast"]["play_url"] == play
        assert (await chain.http.post(f"/api/broadcasts/{broadcast}/end", headers=host)).json()[
            "status"
        ] == "ended"
        ended = (await next_frame(viewer, "broadcast.state"))["broadcast"]
        assert ended["status"] == "ended" and ended["ended_ms"] >= ended["started_ms"]
    replay = "https://media.example.com/replay/store-1.m3u8"
    await chain.http.post(
        f"/api/broadcasts/{broadcast}/media", json={"replay_url": replay}, headers=host
    )
    events = await chain.services.redis.xrange("events:broadcast_ended")
    assert [int(fields[b"broadcast_id"]) for _, fields in events] == [broadcast]
    async with chain.viewer(room, customer_id=5) as late:  # the replay room still opens
        snapshot = await next_frame(late, "snapshot")
    assert (snapshot["broadcast"]["status"], snapshot["broadcast"]["replay_url"]) == (
        "ended",
        replay,
    )
    assert snapshot["window"] and snapshot["deals"]  # still shoppable
    again = await chain.http.post(f"/api/broadcasts/{broadcast}/live", headers=host)
    assert again.status_code == 409


async def test_store_rooms_hear_the_hub_go_live_as_the_hubs_state(chain: Chain) -> None:
    hub = (await chain.room(chain.demo.hub_room_id))["broadcast"]["id"]
    async with chain.viewer(chain.store_room(2), customer_id=6) as viewer:
        own = (await next_frame(viewer, "snapshot"))["broadcast"]["id"]
        await chain.http.post(f"/api/broadcasts/{hub}/live", headers=chain.hq)
        state = (await next_frame(viewer, "broadcast.state"))["broadcast"]
    assert state["id"] == hub != own  # the page tells the hub's state from its own


async def test_media_urls_must_be_http_links(chain: Chain) -> None:
    broadcast = (await chain.room(chain.store_room(0)))["broadcast"]["id"]
    response = await chain.http.post(
        f"/api/broadcasts/{broadcast}/media",
        json={"play_url": "javascript:alert(1)"},
        headers=chain.host(0),
    )
    assert response.status_code == 400
