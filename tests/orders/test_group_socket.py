"""Groups from the room socket: `group.place` opens or joins on the same intake as HTTP, and a
refusal comes back as `group.rejected` with its reason."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest
import websockets
from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.auth import Role
from server.services import Services
from server.settings import Settings
from tests.orders.conftest import World
from tests.orders.group_world import group_deal, seats
from tests.orders.test_realtime import hub_and_store_rooms

pytestmark = pytest.mark.database


async def test_viewers_open_and_join_a_group_over_the_room_socket(
    client: AsyncTestClient[Litestar],
    settings: Settings,
    services: Services,
    world: World,
    token_for: Callable[..., str],
) -> None:
    _, store_room = await hub_and_store_rooms(services, world)
    deal = await group_deal(services, world, size=2)
    base = f"{settings.public_ws_url}/ws/rooms/{store_room.room_id}?token="

    async def place(customer: int, frame: dict[str, object]) -> dict[str, object]:
        token = token_for(Role.VIEWER, world.customer_ids[customer], world.store_id)
        async with websockets.connect(base + token) as socket:
            await socket.send(json.dumps({"type": "group.place", "deal_id": deal, **frame}))
            async with asyncio.timeout(5):
                while True:
                    got = json.loads(await socket.recv())
                    if got["type"] in ("group.placed", "group.rejected", "error"):
                        return dict(got)

    opened = await place(0, {"idempotency_key": "o", "share_code": "G7"})
    assert opened["type"] == "group.placed" and opened["idempotency_key"] == "o"
    group_id = str(opened["group_id"])
    assert opened["share_path"] == f"/static/group.html?g={group_id}&share=G7"
    joined = await place(1, {"idempotency_key": "j", "group_id": group_id})
    assert joined["type"] == "group.placed" and joined["share_path"] == opened["share_path"]
    full = await place(2, {"idempotency_key": "f", "group_id": group_id})
    assert (full["type"], full["reason"]) == ("group.rejected", "group_full")
    assert await seats(services, group_id) == 2
    bad = await place(2, {"idempotency_key": "b", "group_id": "<script>"})
    assert bad["type"] == "error"
