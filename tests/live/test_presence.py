"""Presence is per socket and counts count people; a socket gets its state once: a resume is
answered by the missed events or by one snapshot, never both."""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from live import keys, presence
from live.gateway import TOO_MANY_SOCKETS_CLOSE_CODE
from live.streams import StreamBus
from tests.live.conftest import Chain, next_frame

pytestmark = [pytest.mark.database, pytest.mark.demo]


async def _answers_until_pong(socket: ClientConnection) -> list[dict[str, Any]]:
    """Every frame the server sends before answering a ping: the whole answer to what came
    before it (frames of one socket are answered in order)."""
    await socket.send(json.dumps({"type": "ping"}))
    frames = []
    while (frame := await next_frame_any(socket))["type"] != "pong":
        frames.append(frame)
    return frames


async def next_frame_any(socket: ClientConnection) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(await socket.recv())
    return frame


async def _on_air(chain: Chain, broadcast: int, item: int | None) -> None:
    response = await chain.http.post(
        f"/api/broadcasts/{broadcast}/on-air", json={"item_id": item}, headers=chain.hq
    )
    assert response.status_code == 204, response.text


async def test_a_viewers_new_socket_keeps_its_presence_when_the_old_one_closes(
    chain: Chain,
) -> None:
    room = chain.demo.hub_room_id
    hub = (await chain.room(room))["broadcast"]["id"]
    redis = chain.services.redis
    async with chain.viewer(room, customer_id=5) as new:
        async with chain.viewer(room, customer_id=5) as old:
            await next_frame(old, "snapshot")
            await next_frame(new, "snapshot")
            assert await presence.present_people(redis, hub) == {"viewer:5"}
            assert await presence.count_viewers(redis, hub) == 1  # one person, two sockets
        # The old socket's leave is over once its stay is recorded.
        assert await redis.blpop([keys.SESSIONS_KEY], timeout=5) is not None  # type: ignore[misc]
        assert await presence.present_people(redis, hub) == {"viewer:5"}
        assert await presence.count_viewers(redis, hub) == 1


async def test_a_viewers_fourth_socket_is_refused(chain: Chain) -> None:
    room = chain.demo.hub_room_id
    async with (
        chain.viewer(room, customer_id=6) as a,
        chain.viewer(room, customer_id=6) as b,
        chain.viewer(room, customer_id=6) as c,
    ):
        for socket in (a, b, c):
            await next_frame(socket, "snapshot")
        async with chain.viewer(room, customer_id=6) as fourth:
            with pytest.raises(ConnectionClosed) as closed:
                await fourth.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == TOO_MANY_SOCKETS_CLOSE_CODE
    async with chain.viewer(room, customer_id=6) as again:  # the three are closed: room again
        await next_frame(again, "snapshot")


async def test_a_resume_gets_only_the_missed_events(chain: Chain) -> None:
    room = chain.demo.hub_room_id
    snapshot = await chain.room(room)
    hub = snapshot["broadcast"]["id"]
    item = snapshot["window"][0]["item_id"]
    await _on_air(chain, hub, item)
    await _on_air(chain, hub, None)
    async with chain.viewer(room, customer_id=7, resume=True) as socket:
        await socket.send(json.dumps({"type": "resume", "streams": snapshot["streams"]}))
        answer = await _answers_until_pong(socket)
    assert [(f["type"], f.get("item_id")) for f in answer if f["type"] != "counts"] == [
        ("window.on_air", item),
        ("window.on_air", None),
        ("resumed", None),
    ]


@pytest.mark.parametrize("position", ["old-epoch", "future-offset"])
async def test_a_resume_that_cannot_be_replayed_gets_one_snapshot(
    chain: Chain, position: str
) -> None:
    room = chain.demo.hub_room_id
    snapshot = await chain.room(room)
    streams = {
        stream: (["old", epoch_offset[1]] if position == "old-epoch" else [epoch_offset[0], 10**6])
        for stream, epoch_offset in snapshot["streams"].items()
    }
    async with chain.viewer(room, customer_id=8, resume=True) as socket:
        await socket.send(json.dumps({"type": "resume", "streams": streams}))
        answer = await _answers_until_pong(socket)
    assert [f["type"] for f in answer if f["type"] != "counts"] == ["snapshot"]


async def test_a_socket_that_has_its_state_answers_resume_with_an_error_only(
    chain: Chain,
) -> None:
    room = chain.demo.hub_room_id
    async with chain.viewer(room, customer_id=9) as socket:
        snapshot = await next_frame(socket, "snapshot")
        stale = {stream: [p[0], 0] for stream, p in snapshot["streams"].items()}
        for _ in range(5):
            await socket.send(json.dumps({"type": "resume", "streams": stale}))
        answer = await _answers_until_pong(socket)
    kinds = [f.get("code", f["type"]) for f in answer if f["type"] != "counts"]
    assert kinds == ["already_synced", "already_synced", "rate_limited"]


async def test_a_resumed_socket_holds_no_event_twice(chain: Chain) -> None:
    room = chain.demo.hub_room_id
    snapshot = await chain.room(room)
    hub = snapshot["broadcast"]["id"]
    item = snapshot["window"][1]["item_id"]
    await _on_air(chain, hub, item)
    async with chain.viewer(room, customer_id=10, resume=True) as socket:
        await socket.send(json.dumps({"type": "resume", "streams": snapshot["streams"]}))
        await _on_air(chain, hub, None)
        stream = f"b{hub}"
        target = (await StreamBus(chain.services.redis).position(stream)).offset
        offsets: list[int] = []
        while not offsets or offsets[-1] < target:
            frame = await next_frame(socket, "window.on_air")
            offsets.append(frame["offset"])
    assert offsets == list(range(snapshot["streams"][stream][1] + 1, target + 1))
