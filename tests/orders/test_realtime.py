"""The room socket's order path: live/'s gateway hands order.place frames to orders/."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import timedelta

import pytest
import websockets
from litestar import Litestar
from litestar.testing import AsyncTestClient

from live.models import Broadcast, Room
from live.rooms import RoomContext
from orders.intake import take_order
from orders.models import Order
from orders.persister import OrderPersister
from orders.schemas import OrderAccepted, OrderPlace, OrderRejected
from server.auth import Principal, Role
from server.model_base import utcnow
from server.services import Services
from server.settings import Settings
from tests.orders.conftest import World, make_deal, runtime_of

pytestmark = pytest.mark.database


async def hub_and_store_rooms(services: Services, world: World) -> tuple[RoomContext, RoomContext]:
    now = utcnow()
    async with services.sessionmaker() as session, session.begin():
        times = {"scheduled_start_at": now, "scheduled_end_at": now + timedelta(hours=1)}
        hub = Broadcast(kind="hub", title="总部直播", status="live", **times)
        session.add(hub)
        await session.flush()
        store = Broadcast(
            kind="store",
            title="门店直播",
            status="live",
            store_id=world.store_id,
            relays_id=hub.id,
            **times,
        )
        session.add(store)
        await session.flush()
        hub_room, store_room = (
            Room(broadcast_id=hub.id),
            Room(broadcast_id=store.id, store_id=world.store_id),
        )
        session.add_all([hub_room, store_room])
        await session.flush()
        return (
            RoomContext(hub_room.id, hub.id, None, hub.id, "live"),
            RoomContext(store_room.id, store.id, world.store_id, hub.id, "live"),
        )


async def test_a_hub_deal_sells_in_the_store_rooms_relaying_it_and_credits_the_room_store(
    services: Services, world: World, persister: OrderPersister
) -> None:
    hub_room, store_room = await hub_and_store_rooms(services, world)
    deal = await make_deal(services, world, broadcast_id=hub_room.broadcast_id)
    viewer = Principal(Role.VIEWER, world.customer_ids[0], world.store_id)
    reply = await take_order(runtime_of(services), viewer, store_room, OrderPlace("k1", deal, 1))
    assert isinstance(reply, OrderAccepted), reply
    await persister.drain()
    async with services.sessionmaker() as session:
        row = await session.get(Order, reply.order_id)
    assert row is not None and (row.broadcast_id, row.room_store_id) == (
        store_room.broadcast_id,
        world.store_id,
    )


async def test_a_deal_of_another_broadcast_is_not_sold_here_and_staff_do_not_order(
    services: Services, world: World
) -> None:
    hub_room, store_room = await hub_and_store_rooms(services, world)
    deal = await make_deal(services, world, broadcast_id=store_room.broadcast_id)
    viewer = Principal(Role.VIEWER, world.customer_ids[0], world.store_id)
    elsewhere = await take_order(runtime_of(services), viewer, hub_room, OrderPlace("k1", deal, 1))
    assert isinstance(elsewhere, OrderRejected) and elsewhere.reason == "deal_not_live"
    host = Principal(Role.HOST, 1, world.store_id)
    staff = await take_order(runtime_of(services), host, store_room, OrderPlace("k2", deal, 1))
    assert isinstance(staff, OrderRejected) and staff.reason == "forbidden"


async def test_a_viewer_orders_over_the_room_socket_and_gets_order_accepted(
    client: AsyncTestClient[Litestar],
    settings: Settings,
    services: Services,
    world: World,
    token_for: Callable[..., str],
) -> None:
    _, store_room = await hub_and_store_rooms(services, world)
    deal = await make_deal(services, world, broadcast_id=store_room.broadcast_id, stock=1)
    token = token_for(Role.VIEWER, world.customer_ids[0], world.store_id)
    url = f"{settings.public_ws_url}/ws/rooms/{store_room.room_id}?token={token}"
    async with websockets.connect(url) as socket:

        async def reply_to(frame: dict[str, object]) -> dict[str, object]:
            await socket.send(json.dumps(frame))
            async with asyncio.timeout(5):
                while True:
                    got = json.loads(await socket.recv())
                    if got["type"] in ("order.accepted", "order.rejected", "error"):
                        return dict(got)

        first = {"type": "order.place", "idempotency_key": "a", "deal_id": deal, "quantity": 1}
        accepted = await reply_to(first)
        assert accepted["type"] == "order.accepted" and accepted["amount_due_fen"] == 9900
        sold_out = await reply_to({**first, "idempotency_key": "b"})
        assert (sold_out["type"], sold_out["reason"]) == ("order.rejected", "sold_out")
        wrong = await reply_to({**first, "idempotency_key": "c", "quantity": "two"})
        assert wrong["type"] == "error"
