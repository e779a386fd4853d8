"""A node killed with -9 takes its viewers out of every count within the bound live/nodes.py
states, on real app processes sharing Redis and the database."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from bench.processes import ServiceProcess
from live.counting import COUNTS_EVERY_SECONDS
from live.nodes import HEARTBEAT_SECONDS, NODE_TTL_MS
from server.auth import Role
from server.demo import load_demo_data
from server.settings import Settings

pytestmark = pytest.mark.demo

DEAD_NODE_BOUND_SECONDS = NODE_TTL_MS / 1000 + HEARTBEAT_SECONDS + COUNTS_EVERY_SECONDS + 1
"""live/nodes.py's bound, plus a second for the frame to travel on a loaded CI machine."""


async def counts_reaching(socket: ClientConnection, viewers: int, within: float) -> dict[str, Any]:
    async with asyncio.timeout(within):
        while True:
            frame = json.loads(await socket.recv())
            if frame["type"] == "counts" and frame.get("viewers", 0) == viewers:
                return dict(frame)


@pytest.mark.slow
@pytest.mark.database
async def test_a_killed_nodes_viewers_leave_the_count(
    settings: Settings,
    start_app_process: Callable[..., ServiceProcess],
    token_for: Callable[..., str],
) -> None:
    demo = await load_demo_data(settings)
    doomed, survivor = start_app_process(), start_app_process()

    def url(node: ServiceProcess, customer: int) -> str:
        token = token_for(Role.VIEWER, customer)
        return f"{node.ws_url}/ws/rooms/{demo.hub_room_id}?token={token}"

    async with websockets.connect(url(survivor, 3)) as watcher:
        doomed_sockets = [await websockets.connect(url(doomed, c)) for c in (1, 2, 2)]
        await counts_reaching(watcher, 3, within=5)  # three people, four sockets

        doomed.kill9()
        await counts_reaching(watcher, 1, within=DEAD_NODE_BOUND_SECONDS)

        async with websockets.connect(url(survivor, 4)) as joiner:
            await counts_reaching(watcher, 2, within=5)  # later joins count from there
            await counts_reaching(joiner, 2, within=5)
        await counts_reaching(watcher, 1, within=5)
        for socket in doomed_sockets:
            socket.transport.abort()
