"""A join reads the room's kept snapshot: no SQL in steady state, and what a joiner gets
equals a snapshot freshly read from the database after every kind of room event."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from live.protocol import encoder
from live.rooms import room_context
from live.snapshot import build_snapshot
from live.streams import StreamBus
from tests.live.conftest import Chain, next_frame

pytestmark = [pytest.mark.database, pytest.mark.demo]


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Every SQL statement any engine of this process runs (the in-process app's included)."""
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    yield seen
    event.remove(Engine, "before_cursor_execute", record)


async def joined(chain: Chain, room_id: int, customer_id: int = 5) -> dict[str, Any]:
    async with chain.viewer(room_id, customer_id=customer_id) as socket:
        return await next_frame(socket, "snapshot")


async def fresh(chain: Chain, room_id: int) -> dict[str, Any]:
    async with chain.services.sessionmaker() as session:
        room = await room_context(session, room_id)
        assert room is not None
        snapshot = await build_snapshot(session, StreamBus(chain.services.redis), room)
    return dict(json.loads(encoder.encode(snapshot)))


def comparable(snapshot: dict[str, Any]) -> dict[str, Any]:
    # The clock and the viewer count move between two reads; the rest must not.
    return {k: v for k, v in snapshot.items() if k not in ("server_time_ms", "viewers")}


async def test_two_hundred_joins_of_a_room_read_the_database_once(
    chain: Chain, statements: list[str]
) -> None:
    room = chain.store_room(0)
    await joined(chain, room)
    assert statements, "the first join builds the snapshot from the database"
    statements.clear()
    for n in range(200):
        await joined(chain, room, customer_id=1 + n % 8)
    assert statements == []


async def test_a_joiner_gets_a_fresh_snapshot_after_every_kind_of_event(
    chain: Chain, statements: list[str]
) -> None:
    room_id = chain.store_room(2)
    store = (await chain.room(room_id))["broadcast"]["id"]
    hub = (await chain.room(chain.demo.hub_room_id))["broadcast"]["id"]
    host = chain.host(2)
    before = await joined(chain, room_id)
    hub_items = [i["item_id"] for i in before["window"] if not i.get("store_only")]
    draft = next(d["deal_id"] for d in before["deals"].values() if d["status"] == "draft")
    chat_offsets: list[int] = []

    async def own_items() -> list[int]:
        return [
            i["item_id"] for i in (await fresh(chain, room_id))["window"] if i.get("store_only")
        ]

    async def store_on_air() -> tuple[str, str, Any, Any]:
        return "post", f"/api/broadcasts/{store}/on-air", {"item_id": (await own_items())[0]}, host

    async def store_reprices() -> tuple[str, str, Any, Any]:
        item = (await own_items())[0]
        return "patch", f"/api/broadcasts/{store}/window/{item}", {"price_fen": 450}, host

    async def store_reorders() -> tuple[str, str, Any, Any]:
        body = {"item_ids": (await own_items())[::-1]}
        return "put", f"/api/broadcasts/{store}/window/order", body, host

    async def hide_chat() -> tuple[str, str, Any, Any]:
        body = {"chat_offset": chat_offsets[-1]}
        return "post", f"/api/broadcasts/{store}/chat/hide", body, host

    def call(method: str, url: str, body: Any, headers: Any) -> Any:
        async def request() -> tuple[str, str, Any, Any]:
            return method, url, body, headers

        return request

    steps: list[tuple[str, Any, str]] = [
        (
            "hub on air",
            call("post", f"/api/broadcasts/{hub}/on-air", {"item_id": hub_items[1]}, chain.hq),
            "window.on_air",
        ),
        (
            "store hides a hub item",
            call("post", f"/api/broadcasts/{store}/hidden", {"item_id": hub_items[0]}, host),
            "window.changed",
        ),
        (
            "store adds",
            call(
                "post",
                f"/api/broadcasts/{store}/window",
                {"product_id": 15, "price_fen": 500},
                host,
            ),
            "window.changed",
        ),
        (
            "store adds again",
            call(
                "post",
                f"/api/broadcasts/{store}/window",
                {"product_id": 16, "price_fen": 700},
                host,
            ),
            "window.changed",
        ),
        ("store on air", store_on_air, "window.on_air"),
        ("store reprices", store_reprices, "window.changed"),
        ("store reorders", store_reorders, "window.changed"),
        (
            "hub adds",
            call(
                "post",
                f"/api/broadcasts/{hub}/window",
                {"product_id": 12, "price_fen": 99900},
                chain.hq,
            ),
            "window.changed",
        ),
        (
            "hub removes",
            call("delete", f"/api/broadcasts/{hub}/window/{hub_items[-1]}", None, chain.hq),
            "window.changed",
        ),
        ("deal launched", call("post", f"/api/deals/{draft}/launch", None, chain.hq), "deal"),
        ("deal stopped", call("post", f"/api/deals/{draft}/stop", None, chain.hq), "deal"),
        (
            "store live",
            call("post", f"/api/broadcasts/{store}/live", None, host),
            "broadcast.state",
        ),
        (
            "hub live",
            call("post", f"/api/broadcasts/{hub}/live", None, chain.hq),
            "broadcast.state",
        ),
        (
            "store media",
            call(
                "post",
                f"/api/broadcasts/{store}/media",
                {"play_url": "https://media.example/s.m3u8"},
                host,
            ),
            "broadcast.state",
        ),
        ("chat", None, "chat"),
        ("chat hidden", hide_chat, "chat.hidden"),
        (
            "store ended",
            call("post", f"/api/broadcasts/{store}/end", None, host),
            "broadcast.state",
        ),
    ]
    async with chain.viewer(room_id, customer_id=1) as watcher:
        await next_frame(watcher, "snapshot")
        for name, action, kind in steps:
            if action is None:
                await watcher.send(json.dumps({"type": "chat.send", "text": "有米色吗？"}))
            else:
                method, url, body, headers = await action()
                response = await chain.http.request(method, url, json=body, headers=headers)
                assert response.status_code < 300, (name, response.text)
            frame = await next_frame(watcher, kind)
            if kind == "chat":
                chat_offsets.append(frame["offset"])
            statements.clear()
            got = await joined(chain, room_id)
            assert statements == [], f"{name}: the join read the database"
            assert comparable(got) == comparable(await fresh(chain, room_id)), name
    assert got["broadcast"]["status"] == "ended"
    assert got["hub_broadcast"]["status"] == "live"


async def test_a_room_nobody_on_this_node_watches_catches_up_from_the_history(
    chain: Chain, statements: list[str]
) -> None:
    room_id = chain.store_room(1)
    hub = (await chain.room(chain.demo.hub_room_id))["broadcast"]["id"]
    before = await joined(chain, room_id)
    item = [i["item_id"] for i in before["window"] if not i.get("store_only")][2]
    response = await chain.http.post(
        f"/api/broadcasts/{hub}/on-air", json={"item_id": item}, headers=chain.hq
    )
    assert response.status_code == 204
    statements.clear()
    got = await joined(chain, room_id)
    assert statements == []
    assert got["on_air_item_id"] == item
    assert comparable(got) == comparable(await fresh(chain, room_id))


async def test_a_window_change_linking_a_deal_it_has_not_read_rebuilds_the_snapshot(
    chain: Chain, statements: list[str]
) -> None:
    room_id = chain.store_room(0)
    store = (await chain.room(room_id))["broadcast"]["id"]
    await joined(chain, room_id)
    added = await chain.http.post(
        f"/api/broadcasts/{store}/window",
        json={"product_id": 15, "price_fen": 500},
        headers=chain.host(0),
    )
    assert added.status_code == 201, added.text
    deal = await chain.http.post(
        "/api/deals",
        json={"kind": "regular", "product_id": 15, "price_fen": 450, "stock": 9},
        headers=chain.hq,
    )
    assert deal.status_code == 201, deal.text
    deal_id = deal.json()["id"]
    linked = await chain.http.patch(
        f"/api/broadcasts/{store}/window/{added.json()['item_id']}",
        json={"deal_id": deal_id},
        headers=chain.host(0),
    )
    assert linked.status_code == 200, linked.text
    statements.clear()
    got = await joined(chain, room_id)
    assert statements, "a deal the kept snapshot had not read: rebuilt from the database"
    assert str(deal_id) in got["deals"]
    assert comparable(got) == comparable(await fresh(chain, room_id))
