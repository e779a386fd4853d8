"""HQ's live view over a real socket (`/ws/hq`): the whole view first, then each room's changes
as they happen, at most once a second; every other role is refused before the upgrade."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import InvalidStatus

from server.auth import Role
from tests.live.conftest import Chain, next_frame

pytestmark = [pytest.mark.database, pytest.mark.demo]


@asynccontextmanager
async def hq_socket(chain: Chain, token: str | None = None) -> AsyncIterator[ClientConnection]:
    token = token or chain.token_for(Role.HQ, chain.demo.hq_staff_id)
    url = f"ws://127.0.0.1:{chain.settings.http.ws_port}/ws/hq?token={token}"
    async with websockets.connect(url, compression=None) as socket:
        yield socket


async def changed_until(
    socket: ClientConnection, done: Any, within: float = 8.0
) -> list[tuple[float, dict[str, Any]]]:
    """`hq.changed` frames (with when they came) until one satisfies `done`."""
    seen = []
    async with asyncio.timeout(within):
        while True:
            frame = await next_frame(socket, "hq.changed", within)
            seen.append((time.monotonic(), frame))
            if done(frame):
                return seen


async def test_hq_sees_a_room_go_live_fill_up_and_end_as_it_happens(chain: Chain) -> None:
    room_id = chain.store_room(0)
    broadcast_id = (await chain.room(room_id))["broadcast"]["id"]
    async with hq_socket(chain) as hq:
        first = await next_frame(hq, "hq.rooms")
        assert room_id not in [room["room_id"] for room in first["rooms"]]

        went_live = await chain.http.post(
            f"/api/broadcasts/{broadcast_id}/live", headers=chain.host(0)
        )
        assert went_live.status_code == 200
        [(_, live)] = await changed_until(
            hq, lambda f: room_id in [r["room_id"] for r in f["rooms"]]
        )
        [row] = [r for r in live["rooms"] if r["room_id"] == room_id]
        assert row["broadcast_id"] == broadcast_id and row["likes"] == 0

        async with chain.viewer(room_id, customer_id=4) as viewer:
            await next_frame(viewer, "snapshot")
            for _ in range(10):
                await viewer.send(json.dumps({"type": "like", "count": 5}))
            frames = await changed_until(
                hq,
                lambda f: any(r["room_id"] == room_id and r["likes"] == 50 for r in f["rooms"]),
            )
            rows = [r for _, f in frames for r in f["rooms"] if r["room_id"] == room_id]
            assert rows[-1]["viewers"] == 1
            # Ten likes in a burst, counted every 300 ms: coalesced to at most one a second.
            times = [at for at, _ in frames]
            assert all(b - a >= 0.9 for a, b in itertools.pairwise(times))

        ended = await chain.http.post(f"/api/broadcasts/{broadcast_id}/end", headers=chain.host(0))
        assert ended.status_code == 200
        await changed_until(hq, lambda f: room_id in f["gone"])


async def test_only_hq_may_open_the_live_view(chain: Chain) -> None:
    guide_id, store_id, _ = chain.demo.guides[0]
    staff_id, host_store, _ = chain.demo.hosts[0]
    for token, status in [
        (chain.token_for(Role.HOST, staff_id, host_store), 403),
        (chain.token_for(Role.GUIDE, guide_id, store_id), 403),
        (chain.token_for(Role.VIEWER, 3), 403),
        ("forged", 401),
    ]:
        with pytest.raises(InvalidStatus) as refused:
            async with hq_socket(chain, token):
                pass
        assert refused.value.response.status_code == status


async def test_an_hq_observer_watches_a_room_without_speaking(chain: Chain) -> None:
    room_id = chain.store_room(0)
    token = chain.token_for(Role.HQ, chain.demo.hq_staff_id)
    url = f"ws://127.0.0.1:{chain.settings.http.ws_port}/ws/rooms/{room_id}?token={token}"
    async with websockets.connect(url + "&observe=1", compression=None) as observer:
        await next_frame(observer, "snapshot")
        await observer.send(json.dumps({"type": "chat.send", "text": "大家好"}))
        error = await next_frame(observer, "error")
        assert error["code"] == "forbidden"
    async with websockets.connect(url, compression=None) as speaking:
        await next_frame(speaking, "snapshot")
        await speaking.send(json.dumps({"type": "chat.send", "text": "大家好"}))
        assert (await next_frame(speaking, "chat"))["text"] == "大家好"


async def test_a_second_hq_socket_opening_takes_no_change_from_the_first(chain: Chain) -> None:
    room_id = chain.store_room(1)
    broadcast_id = (await chain.room(room_id))["broadcast"]["id"]
    async with hq_socket(chain) as first:
        await next_frame(first, "hq.rooms")
        went_live = await chain.http.post(
            f"/api/broadcasts/{broadcast_id}/live", headers=chain.host(1)
        )
        assert went_live.status_code == 200
        async with hq_socket(chain) as second:  # before the first's next push, most likely
            view = await next_frame(second, "hq.rooms")
            assert room_id in [room["room_id"] for room in view["rooms"]]
            await changed_until(first, lambda f: room_id in [r["room_id"] for r in f["rooms"]])
