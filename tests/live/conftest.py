"""Room tests in one process: the app (and its room gateway) in-process, demo data loaded,
and sockets opened with real websockets clients."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import websockets
from litestar import Litestar
from litestar.testing import AsyncTestClient
from websockets.asyncio.client import ClientConnection

from server.auth import Role
from server.demo import DemoSummary, load_demo_data
from server.services import Services
from server.settings import Settings


async def next_frame(socket: ClientConnection, kind: str, within: float = 5.0) -> dict[str, Any]:
    """The next frame of this type, skipping others."""
    async with asyncio.timeout(within):
        while True:
            frame = json.loads(await socket.recv())
            if frame["type"] == kind:
                return frame


@dataclass
class Chain:
    demo: DemoSummary
    http: AsyncTestClient[Litestar]
    settings: Settings
    token_for: Callable[..., str]
    services: Services
    """The test's own connections (the in-process app runs on another event loop)."""

    @property
    def hq(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token_for(Role.HQ, self.demo.hq_staff_id)}"}

    def host(self, n: int) -> dict[str, str]:
        staff_id, store_id, _ = self.demo.hosts[n]
        token = self.token_for(Role.HOST, staff_id, store_id)
        return {"Authorization": f"Bearer {token}"}

    def store_room(self, n: int) -> int:
        return self.demo.store_rooms[self.demo.hosts[n][1]]

    async def room(self, room_id: int) -> dict[str, Any]:
        response = await self.http.get(f"/api/rooms/{room_id}", headers=self.hq)
        assert response.status_code == 200, response.text
        return dict(response.json())

    @asynccontextmanager
    async def viewer(
        self, room_id: int, customer_id: int = 1, resume: bool = False, **options: Any
    ) -> AsyncIterator[ClientConnection]:
        """A socket of this customer; `resume`: it sends `resume` first and gets no snapshot."""
        token = self.token_for(Role.VIEWER, customer_id)
        url = f"ws://127.0.0.1:{self.settings.http.ws_port}/ws/rooms/{room_id}?token={token}"
        url += "&resume=1" if resume else ""
        async with websockets.connect(url, compression=None, **options) as socket:
            yield socket


@pytest.fixture
async def chain(
    settings: Settings,
    client: AsyncTestClient[Litestar],
    token_for: Callable[..., str],
    services: Services,
) -> Chain:
    return Chain(await load_demo_data(settings), client, settings, token_for, services)
