"""Live rooms across two real app processes: the hub's changes reach every store room."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from bench.processes import ServiceProcess
from server.auth import Role
from server.demo import load_demo_data
from server.settings import Settings

pytestmark = pytest.mark.demo


async def next_frame(socket: ClientConnection, kind: str, within: float = 5.0) -> dict[str, Any]:
    async with asyncio.timeout(within):
        while True:
            frame = json.loads(await socket.recv())
            if frame["type"] == kind:
                return frame


async def viewer_token(app: ServiceProcess, openid: str) -> str:
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{app.url}/api/auth/viewer", json={"code": openid, "nickname": "林小姐"}
        )
        return str(response.json()["token"])


@pytest.mark.slow
async def test_hub_on_air_reaches_store_rooms_on_both_nodes_and_resume_fills_the_gap(
    settings: Settings,
    start_app_process: Callable[..., ServiceProcess],
    token_for: Callable[..., str],
) -> None:
    demo = await load_demo_data(settings)
    first, second = start_app_process(), start_app_process()
    rooms = list(demo.store_rooms.values())
    hq = token_for(Role.HQ, demo.hq_staff_id)
    async with httpx.AsyncClient() as http:
        hub = (
            await http.get(
                f"{first.url}/api/rooms/{demo.hub_room_id}",
                headers={"Authorization": f"Bearer {hq}"},
            )
        ).json()
    hub_broadcast, item = hub["broadcast"]["id"], hub["window"][2]["item_id"]

    token_a, token_b = await viewer_token(first, "viewer-a"), await viewer_token(second, "viewer-b")
    async with (
        websockets.connect(f"{first.ws_url}/ws/rooms/{rooms[0]}?token={token_a}") as a,
        websockets.connect(f"{second.ws_url}/ws/rooms/{rooms[1]}?token={token_b}") as b,
    ):
        snapshot_a, snapshot_b = await next_frame(a, "snapshot"), await next_frame(b, "snapshot")
        # eight garments, the 1.1-yuan pack and the pack's group-buy
        assert len(snapshot_a["window"]) == len(snapshot_b["window"]) == 10
        async with httpx.AsyncClient() as http:
            put = await http.post(
                f"{first.url}/api/broadcasts/{hub_broadcast}/on-air",
                json={"item_id": item},
                headers={"Authorization": f"Bearer {hq}"},
            )
            assert put.status_code == 204
        on_air_a, on_air_b = (
            await next_frame(a, "window.on_air"),
            await next_frame(b, "window.on_air"),
        )
        assert on_air_a["item_id"] == on_air_b["item_id"] == item
        assert on_air_a["offset"] == on_air_b["offset"]  # one publish, one offset, every room
        seen = {
            on_air_a["stream"]: [snapshot_a["streams"][on_air_a["stream"]][0], on_air_a["offset"]]
        }

    # Missed while away: two more changes; resume replays exactly those, in order.
    async with httpx.AsyncClient() as http:
        for change in (None, item):
            await http.post(
                f"{first.url}/api/broadcasts/{hub_broadcast}/on-air",
                json={"item_id": change},
                headers={"Authorization": f"Bearer {hq}"},
            )
    positions = {**snapshot_a["streams"], **seen}
    resume_url = f"{second.ws_url}/ws/rooms/{rooms[0]}?token={token_a}&resume=1"
    async with websockets.connect(resume_url) as again:
        await again.send(json.dumps({"type": "resume", "streams": positions}))
        replayed = [json.loads(await again.recv()), json.loads(await again.recv())]
        assert [(f["type"], f["offset"]) for f in replayed] == [
            ("window.on_air", seen[on_air_a["stream"]][1] + 1),
            ("window.on_air", seen[on_air_a["stream"]][1] + 2),
        ]
        assert [f.get("item_id") for f in replayed] == [None, item]
    stale = {s: ["old-epoch", 1] for s in positions}
    async with websockets.connect(resume_url) as again:
        await again.send(json.dumps({"type": "resume", "streams": stale}))
        assert (await next_frame(again, "snapshot"))["on_air_item_id"] == item


@pytest.mark.slow
async def test_bad_frames_get_errors_and_oversize_closes_with_1009(
    settings: Settings, start_app_process: Callable[..., ServiceProcess]
) -> None:
    demo = await load_demo_data(settings)
    app = start_app_process()
    token = await viewer_token(app, "viewer-c")
    room = demo.hub_room_id
    async with websockets.connect(
        f"{app.ws_url}/ws/rooms/{room}?token={token}", max_size=None
    ) as socket:
        await next_frame(socket, "snapshot")
        await socket.send("{not json")
        assert (await next_frame(socket, "error"))["code"] == "bad_frame"
        await socket.send(json.dumps({"type": "chat.send", "text": "长" * 201}))
        assert (await next_frame(socket, "error"))["code"] == "bad_chat"
        await socket.send(json.dumps({"type": "ping"}))
        assert (await next_frame(socket, "pong"))["server_time_ms"] > 0  # still usable
        await socket.send("x" * (64 * 1024 + 1))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


@pytest.mark.slow
async def test_sockets_without_a_valid_token_or_from_a_foreign_origin_are_refused(
    settings: Settings, start_app_process: Callable[..., ServiceProcess]
) -> None:
    demo = await load_demo_data(settings)
    app = start_app_process()
    token = await viewer_token(app, "viewer-d")
    with pytest.raises(websockets.InvalidStatus) as no_token:
        await websockets.connect(f"{app.ws_url}/ws/rooms/{demo.hub_room_id}?token=forged")
    assert no_token.value.response.status_code == 401
    with pytest.raises(websockets.InvalidStatus) as foreign:
        await websockets.connect(
            f"{app.ws_url}/ws/rooms/{demo.hub_room_id}?token={token}", origin="http://evil.example"
        )  # type: ignore[arg-type]
    assert foreign.value.response.status_code == 403
    with pytest.raises(websockets.InvalidStatus) as unknown:
        await websockets.connect(f"{app.ws_url}/ws/rooms/999999?token={token}")
    assert unknown.value.response.status_code == 404


async def test_a_store_host_cannot_control_another_stores_broadcast(
    settings: Settings, client: Any, token_for: Callable[..., str]
) -> None:
    demo = await load_demo_data(settings)
    staff_id, store_id, _ = demo.hosts[0]
    other_room = demo.store_rooms[demo.hosts[1][1]]
    host = token_for(Role.HOST, staff_id, store_id)
    room = (
        await client.get(f"/api/rooms/{other_room}", headers={"Authorization": f"Bearer {host}"})
    ).json()
    response = await client.post(
        f"/api/broadcasts/{room['broadcast']['id']}/live",
        headers={"Authorization": f"Bearer {host}"},
    )
    assert response.status_code == 403
    viewer = token_for(Role.VIEWER, 1)
    response = await client.post(
        f"/api/broadcasts/{room['broadcast']['id']}/live",
        headers={"Authorization": f"Bearer {viewer}"},
    )
    assert response.status_code == 403
