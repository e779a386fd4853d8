"""Fanout under pressure: a slow viewer is cut loose without holding the room back, counts are
coalesced, and what viewers do in a room is recorded for follow-ups."""

from __future__ import annotations

import asyncio
import contextlib
import json

import pytest
import websockets
from sqlalchemy import select

from live.counting import COUNTS_EVERY_SECONDS
from live.fanout import SLICE
from live.keys import SESSIONS_KEY
from live.models import ViewerSession
from live.presence import flush_stays
from live.protocol import Chat
from live.streams import StreamBus
from live.viewer import SEND_BUFFER_LIMIT, SLOW_CLOSE_CODE
from tests.live.conftest import Chain, next_frame

pytestmark = pytest.mark.demo


async def test_a_slow_viewer_is_closed_as_slow_and_the_others_get_every_frame(
    chain: Chain,
) -> None:
    room = chain.demo.hub_room_id
    hub = (await chain.room(room))["broadcast"]["id"]
    padding = "长" * 6000  # ~18 KB a frame
    # Far more than the gateway's limit plus what the kernel's socket buffers absorb.
    frames = 20 * 1024 * 1024 // len(padding.encode()) + SEND_BUFFER_LIMIT // 1000
    # max_queue=1 and never reading: this client stops taking bytes off its socket.
    async with (
        chain.viewer(room, customer_id=1) as fast,
        chain.viewer(room, customer_id=2, max_queue=1) as slow,
    ):
        await next_frame(fast, "snapshot")
        await next_frame(slow, "snapshot")

        async def read_all() -> list[int]:
            received: list[int] = []
            while len(received) < frames:
                frame = json.loads(await fast.recv())
                if frame["type"] == "chat":
                    received.append(int(frame["text"].split()[0]))
            return received

        reader = asyncio.create_task(read_all())
        bus = StreamBus(chain.services.redis)
        for n in range(frames):
            await bus.publish(hub, Chat(name="主播", text=f"{n} {padding}"))
        async with asyncio.timeout(30):
            received = await reader
        assert received == list(range(frames))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            async with asyncio.timeout(30):
                while True:
                    await slow.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == SLOW_CLOSE_CODE


async def test_counts_are_coalesced_whatever_the_like_rate(chain: Chain) -> None:
    room = chain.store_room(0)
    likers = 3
    async with (
        chain.viewer(room, customer_id=1) as a,
        chain.viewer(room, customer_id=2) as b,
        chain.viewer(room, customer_id=3) as watcher,
    ):
        for socket in (a, b, watcher):
            await next_frame(socket, "snapshot")
        start = asyncio.get_running_loop().time()
        for _ in range(30):  # 180 like frames in well under a second
            for socket in (a, b, watcher):
                await socket.send(json.dumps({"type": "like", "count": 2}))
        counts = []
        async with asyncio.timeout(10):
            # zero counts are left out of the frame (the join-time one may come first)
            while not counts or counts[-1].get("likes", 0) < 30 * likers * 2:
                counts.append(await next_frame(watcher, "counts"))
        elapsed = asyncio.get_running_loop().time() - start
    assert counts[-1]["likes"] == 180 and counts[-1]["viewers"] == 3
    assert len(counts) <= elapsed / COUNTS_EVERY_SECONDS + 2  # never a frame per like


async def test_a_viewers_stay_and_engagement_reach_the_database(chain: Chain) -> None:
    room = chain.store_room(1)
    snapshot = await chain.room(room)
    item = snapshot["window"][0]["item_id"]
    async with chain.viewer(room, customer_id=7) as viewer:
        await next_frame(viewer, "snapshot")
        for frame in (
            {"type": "like", "count": 3},
            {"type": "tap", "item_id": item},
            {"type": "tap", "item_id": item},
            {"type": "chat.send", "text": "有M码吗？"},
        ):
            await viewer.send(json.dumps(frame))
        await next_frame(viewer, "chat")
    # The gateway records the stay as the socket closes: block until it lands (moving the
    # one-element list onto itself changes nothing).
    assert await chain.services.redis.blmove(SESSIONS_KEY, SESSIONS_KEY, 5, "RIGHT", "LEFT")
    assert await flush_stays(chain.services) == 1
    async with chain.services.sessionmaker() as session:
        # this viewer's stay (the demo's last night has stays of its own)
        [stay] = (
            await session.scalars(
                select(ViewerSession).where(
                    ViewerSession.room_id == room, ViewerSession.customer_id == 7
                )
            )
        ).all()
    assert (stay.room_id, stay.customer_id) == (room, 7)
    assert (stay.likes, stay.taps, stay.chats) == (3, 2, 1)
    assert stay.tapped_items == {str(item): 2}  # which item, not only how many taps
    assert stay.left_at is not None and stay.left_at >= stay.joined_at


async def test_a_host_mutes_the_author_of_a_chat_line_without_seeing_who_it_is(
    chain: Chain,
) -> None:
    room = chain.store_room(0)
    broadcast = (await chain.room(room))["broadcast"]["id"]
    async with chain.viewer(room, customer_id=9) as viewer:
        await next_frame(viewer, "snapshot")
        await viewer.send(json.dumps({"type": "chat.send", "text": "广告：加微信"}))
        line = await next_frame(viewer, "chat")
        assert line["name"].endswith("**") and "customer_id" not in line
        muted = await chain.http.post(
            f"/api/broadcasts/{broadcast}/mute",
            json={"chat_offset": line["offset"]},
            headers=chain.host(0),
        )
        assert muted.status_code == 204
        await viewer.send(json.dumps({"type": "chat.send", "text": "再来一次"}))
        assert (await next_frame(viewer, "error"))["code"] == "muted"


async def test_a_room_larger_than_one_write_slice_gets_every_frame_in_order(chain: Chain) -> None:
    room = chain.demo.hub_room_id
    hub = (await chain.room(room))["broadcast"]["id"]
    viewers = SLICE + 20
    async with contextlib.AsyncExitStack() as stack:
        sockets = [
            await stack.enter_async_context(chain.viewer(room, customer_id=n + 1))
            for n in range(viewers)
        ]
        for socket in sockets:
            await next_frame(socket, "snapshot")
        bus = StreamBus(chain.services.redis)
        for n in range(3):
            await bus.publish(hub, Chat(name="主播", text=f"第{n}条"))

        async def chats(socket: websockets.ClientConnection) -> list[str]:
            return [(await next_frame(socket, "chat"))["text"] for _ in range(3)]

        received = await asyncio.gather(*(chats(socket) for socket in sockets))
    assert received == [["第0条", "第1条", "第2条"]] * viewers
