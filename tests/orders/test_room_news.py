"""What orders/ tells the rooms: deal state into the room's history, stock and the "just
bought" ticker coalesced, with a masked name."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio

from live.publish import LiveRooms
from live.streams import channel, stream_name
from orders.intake import Accepted
from orders.notices import OrderNotices
from server.services import Services
from tests.orders.conftest import Order_, World, make_deal
from tests.orders.test_realtime import hub_and_store_rooms


@pytest.fixture
async def room_frames(services: Services) -> AsyncIterator[redis.asyncio.client.PubSub]:
    pubsub = services.redis.pubsub()
    await pubsub.psubscribe(channel("b*"))
    yield pubsub
    await pubsub.aclose()


async def frames(
    pubsub: redis.asyncio.client.PubSub, count: int, within: float = 5
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    async with asyncio.timeout(within):
        while len(found) < count:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
            if message and message["type"] == "pmessage":
                found.append(
                    {"channel": message["channel"].decode(), **json.loads(message["data"])}
                )
    return found


async def test_launching_a_deal_tells_its_room_the_deal_with_its_stock(
    services: Services, world: World, room_frames: redis.asyncio.client.PubSub
) -> None:
    hub, _ = await hub_and_store_rooms(services, world)
    deal = await make_deal(services, world, broadcast_id=hub.broadcast_id, stock=7)
    [frame] = await frames(room_frames, 1)
    assert frame["channel"] == channel(stream_name(hub.broadcast_id))
    assert frame["type"] == "deal" and frame["offset"] >= 1  # kept in the history for resume
    assert frame["deal"]["deal_id"] == deal
    assert (frame["deal"]["status"], frame["deal"]["stock_left"]) == ("live", 7)


async def test_new_orders_are_announced_coalesced_with_a_masked_name(
    services: Services, world: World, order: Order_, room_frames: redis.asyncio.client.PubSub
) -> None:
    hub, store = await hub_and_store_rooms(services, world)
    deal = await make_deal(services, world, broadcast_id=hub.broadcast_id, stock=7)
    await frames(room_frames, 1)
    rooms = LiveRooms(services.redis)
    notices, elsewhere = OrderNotices(services, rooms), OrderNotices(services, rooms)  # two nodes
    for node, customer in ((notices, 3), (elsewhere, 4), (notices, 3)):
        placed = await order(
            deal,
            customer=customer,
            broadcast_id=store.broadcast_id,
            hub_broadcast_id=hub.broadcast_id,
        )
        assert isinstance(placed, Accepted)
        node.order_accepted(
            deal_id=deal,
            broadcast_id=store.broadcast_id,
            room_store_id=world.store_id,
            customer_id=world.customer_ids[customer],
        )
    await notices.flush()
    await elsewhere.flush()  # inside the same interval: the other node stays quiet
    stock, ticker = await frames(room_frames, 2)
    assert stock["channel"] == channel(stream_name(hub.broadcast_id))
    assert (stock["type"], stock["deal_id"], stock["stock_left"]) == ("stock", deal, 4)
    assert "offset" not in stock  # absolute state: no history
    assert ticker["channel"] == channel(stream_name(store.broadcast_id))
    assert (ticker["type"], ticker["name"], ticker["product_name"]) == (
        "ticker",
        "林**",
        "双面羊绒大衣",
    )
    assert ticker["store_name"] == "上海南京路店"
    with pytest.raises(TimeoutError):
        await frames(room_frames, 1, within=0.5)
