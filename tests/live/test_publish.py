"""The one publish path: the rooms hear of a change only once it is committed, and a publish
that fails is logged and counted while the request still answers what was committed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog
from sqlalchemy import select

from live.keys import stream_keys, stream_name
from live.models import Broadcast
from live.protocol import ChatHidden
from live.publish import FAILED_PUBLISHES, Event, LiveRooms, RoomFrame
from server.db import engine_for_url
from tests.live.conftest import Chain, next_frame

pytestmark = pytest.mark.demo


@pytest.fixture
def rooms_unreachable(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    async def refuse(self: LiveRooms, event: Event) -> None:
        raise ConnectionError("redis went away")

    monkeypatch.setattr(LiveRooms, "_send", refuse)
    yield


async def _status(chain: Chain, broadcast_id: int) -> str:
    async with chain.services.sessionmaker() as session:
        status = await session.scalar(select(Broadcast.status).where(Broadcast.id == broadcast_id))
    return str(status)


@pytest.mark.database
async def test_the_rooms_hear_of_a_broadcast_going_live_only_once_it_is_committed(
    chain: Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    broadcast = (await chain.room(chain.store_room(0)))["broadcast"]["id"]
    seen_in_database: list[str] = []
    send = LiveRooms._send

    async def send_after_looking(self: LiveRooms, event: Event) -> None:
        # What another connection reads now: only committed rows. The app runs on its own
        # event loop, so it gets an engine of its own.
        engine = engine_for_url(chain.settings.database_url)
        async with engine.connect() as connection:
            status = await connection.scalar(
                select(Broadcast.status).where(Broadcast.id == broadcast)
            )
        await engine.dispose()
        seen_in_database.append(str(status))
        await send(self, event)

    monkeypatch.setattr(LiveRooms, "_send", send_after_looking)
    async with chain.viewer(chain.store_room(0), customer_id=4) as viewer:
        await next_frame(viewer, "snapshot")
        response = await chain.http.post(f"/api/broadcasts/{broadcast}/live", headers=chain.host(0))
        assert response.status_code == 200
        assert (await next_frame(viewer, "broadcast.state"))["broadcast"]["status"] == "live"
    assert seen_in_database == ["live"]


async def test_a_failed_publish_is_logged_and_counted_and_the_host_still_hears_the_broadcast_is_live(
    chain: Chain, rooms_unreachable: None
) -> None:
    broadcast = (await chain.room(chain.store_room(0)))["broadcast"]["id"]
    before = FAILED_PUBLISHES["BroadcastState"]
    with structlog.testing.capture_logs() as logs:
        response = await chain.http.post(f"/api/broadcasts/{broadcast}/live", headers=chain.host(0))
    assert response.status_code == 200
    assert response.json() == {"id": broadcast, "status": "live"}
    assert await _status(chain, broadcast) == "live"
    assert FAILED_PUBLISHES["BroadcastState"] == before + 1
    assert [entry["event"] for entry in logs if entry["log_level"] == "error"] == [
        "rooms.publish_failed"
    ]


async def test_a_failed_publish_of_a_deal_is_counted_and_the_deal_still_stops(
    chain: Chain, rooms_unreachable: None
) -> None:
    deal = next(iter((await chain.room(chain.demo.hub_room_id))["deals"].values()))["deal_id"]
    before = FAILED_PUBLISHES["DealStateChanged"]
    with structlog.testing.capture_logs() as logs:
        response = await chain.http.post(f"/api/deals/{deal}/stop", headers=chain.hq)
    assert response.status_code == 200
    assert response.json()["status"] == "stopped"
    assert FAILED_PUBLISHES["DealStateChanged"] == before + 1
    assert sum(entry["event"] == "rooms.publish_failed" for entry in logs) == 1


async def test_events_after_a_failed_one_are_counted_lost_and_logged_once(chain: Chain) -> None:
    rooms = LiveRooms(chain.services.redis)
    sequence, _, _ = stream_keys(stream_name(1))
    await chain.services.redis.set(sequence, "not a number")  # the publish script fails
    before = FAILED_PUBLISHES["ChatHidden"]
    try:
        with structlog.testing.capture_logs() as logs:
            await rooms.publish([RoomFrame(1, ChatHidden(line_offset=n)) for n in range(3)])
    finally:
        await chain.services.redis.delete(sequence)
    assert FAILED_PUBLISHES["ChatHidden"] == before + 3
    assert [entry["lost"] for entry in logs if entry["event"] == "rooms.publish_failed"] == [3]
