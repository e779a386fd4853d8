"""Any sequence of hub and store edits, with viewers joining at any point on either of two
real app nodes: after every step, every viewer's page (static/js/roomstate.js itself, fed
the viewer's frames) shows exactly what a page opened on a fresh snapshot of its room shows,
and the server's own `on_air_item_id` agrees with it."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import redis.asyncio
import websockets
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from bench.processes import ServiceProcess
from live.streams import StreamBus
from server.auth import Role
from server.demo import DemoSummary, load_demo_data
from server.settings import Settings
from tests.live.pages import Pages, PageViewer

pytestmark = pytest.mark.demo

STORES = 2
"""Store rooms in play, besides the hub's: enough for one store's edit to stay out of another."""
PRODUCTS = 20
"""Products the generator picks from (the demo's catalogue; a product already shown: a 4xx)."""
ACTIONS = (
    "add", "remove", "reorder", "reprice", "hide", "unhide",
    "on_air", "store_on_air", "go_live", "end", "join",
)  # fmt: skip

Step = tuple[str, int, int, int]
"""(action, whose broadcast or room: 0 the hub, k store k, which item or product, a number)."""

steps = st.lists(
    st.tuples(
        st.sampled_from(ACTIONS),
        st.integers(0, STORES),
        st.integers(0, 1000),
        st.integers(0, 1000),
    ),
    min_size=1,
    max_size=10,
)
_customers = itertools.count()


@dataclass
class World:
    nodes: list[ServiceProcess]
    demo: DemoSummary
    token_for: Callable[..., str]
    rooms: list[int]
    """The hub room, then the store rooms in play."""

    def headers(self, who: int) -> dict[str, str]:
        if who == 0:
            token = self.token_for(Role.HQ, self.demo.hq_staff_id)
        else:
            staff, store, _ = self.demo.hosts[who - 1]
            token = self.token_for(Role.HOST, staff, store)
        return {"Authorization": f"Bearer {token}"}


async def _snapshot(http: httpx.AsyncClient, world: World, room: int, node: int) -> Any:
    response = await http.get(
        f"{world.nodes[node % 2].url}/api/rooms/{room}", headers=world.headers(0)
    )
    assert response.status_code == 200, response.text
    return response.json()


async def _edit(http: httpx.AsyncClient, world: World, step: Step) -> None:
    """One step as the pages' HTTP calls; a call the server refuses (4xx) changes nothing."""
    action, who, pick, number = step
    room = await _snapshot(http, world, world.rooms[who], pick)
    broadcast = room["broadcast"]["id"]
    own = [i["item_id"] for i in room["window"] if who == 0 or i.get("store_only")]
    hub = [i["item_id"] for i in room["window"] if not i.get("store_only")]

    def one(ids: list[int]) -> int | None:
        return ids[pick % len(ids)] if ids else None

    base = f"{world.nodes[number % 2].url}/api/broadcasts/{broadcast}"
    price = 100 + number * 37
    calls: dict[str, tuple[str, str, Any]] = {
        "add": ("post", "/window", {"product_id": 1 + pick % PRODUCTS, "price_fen": price}),
        "remove": ("delete", f"/window/{one(own)}", None),
        "reorder": ("put", "/window/order", {"item_ids": own[pick % 3 :] + own[: pick % 3]}),
        "reprice": ("patch", f"/window/{one(own)}", {"price_fen": price}),
        "hide": ("post", "/hidden", {"item_id": one(hub)}),
        "unhide": ("post", "/hidden", {"item_id": one(room["hidden_item_ids"]), "hidden": False}),
        "on_air": ("post", "/on-air", {"item_id": one(own) if number % 4 else None}),
        "store_on_air": ("post", "/on-air", {"item_id": one(own + hub) if number % 4 else None}),
        "go_live": ("post", "/live", None),
        "end": ("post", "/end", None),
    }
    method, path, body = calls[action]
    if action in ("hide", "unhide", "store_on_air") and who == 0:
        return  # store actions: the hub has no store to act as
    response = await http.request(method, base + path, json=body, headers=world.headers(who))
    assert response.status_code < 500, response.text


async def _scenario(world: World, redis_url: str, plan: list[Step]) -> None:
    client = redis.asyncio.Redis.from_url(redis_url)
    bus = StreamBus(client)
    viewers: list[tuple[PageViewer, int]] = []
    async with Pages() as pages, httpx.AsyncClient(timeout=10) as http:
        try:
            for step in [("join", 1, 0, 0), *plan]:
                action, who, pick, number = step
                if action == "join":
                    room = world.rooms[who]
                    token = world.token_for(Role.VIEWER, 1 + next(_customers) % 250)
                    node = world.nodes[pick % 2]
                    socket = await websockets.connect(
                        f"{node.ws_url}/ws/rooms/{room}?token={token}"
                    )
                    viewer = PageViewer(f"v{len(viewers)}", socket, pages)
                    await viewer.open()
                    viewers.append((viewer, room))
                else:
                    await _edit(http, world, step)
                for viewer, room in viewers:
                    await viewer.catch_up(bus)
                    fresh = await _snapshot(http, world, room, number)
                    shown = await viewer.shows()
                    assert shown == await pages.fresh(fresh), (step, viewer.name)
                    assert shown["on_air_item_id"] == fresh["on_air_item_id"]
        finally:
            for viewer, _ in viewers:
                await viewer.socket.close()
            await client.aclose()


@pytest.mark.slow
@pytest.mark.database
def test_every_page_equals_a_fresh_snapshot_after_any_sequence_of_edits(
    settings: Settings,
    redis_url: str,
    start_app_process: Callable[..., ServiceProcess],
    token_for: Callable[..., str],
) -> None:
    demo = asyncio.run(load_demo_data(settings))
    nodes = [start_app_process(), start_app_process()]
    stores = [demo.store_rooms[store] for _, store, _ in demo.hosts[:STORES]]
    world = World(nodes, demo, token_for, [demo.hub_room_id, *stores])

    @hypothesis_settings(
        max_examples=12,  # both databases in ~45 s on these machines (2 cores)
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        database=None,
    )
    @given(plan=steps)
    def any_plan(plan: list[Step]) -> None:
        asyncio.run(_scenario(world, redis_url, plan))

    any_plan()
