"""The host console's feed of orders landing in a room: its own store only, buyers masked."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from orders.intake import take_order
from orders.persister import OrderPersister
from orders.schemas import OrderAccepted, OrderPlace
from server.auth import Principal, Role
from server.services import Services
from tests.orders.conftest import World, make_deal, runtime_of
from tests.orders.test_payments import pay
from tests.orders.test_realtime import hub_and_store_rooms

pytestmark = pytest.mark.database


async def test_the_room_feed_shows_its_orders_with_totals_to_its_own_host_only(
    client: AsyncTestClient[Litestar],
    services: Services,
    world: World,
    persister: OrderPersister,
    token_for: Callable[..., str],
) -> None:
    hub, store = await hub_and_store_rooms(services, world)
    deal = await make_deal(services, world, broadcast_id=hub.broadcast_id, stock=10)
    placed = []
    for n, room in enumerate((store, store, hub)):
        buyer = Principal(Role.VIEWER, world.customer_ids[n], world.store_id)
        reply = await take_order(
            runtime_of(services), buyer, room, OrderPlace(f"k{n}", deal, n + 1)
        )
        assert isinstance(reply, OrderAccepted), reply
        placed.append(reply)
    await persister.drain()
    await pay(services, placed[1].order_id, placed[1].amount_due_fen)

    def bearer(role: Role, store_id: int | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token_for(role, 1, store_id)}"}

    own = await client.get(
        f"/api/rooms/{store.room_id}/orders", headers=bearer(Role.HOST, world.store_id)
    )
    assert own.status_code == 200, own.text
    feed = own.json()
    assert [o["order_id"] for o in feed["orders"]] == [placed[1].order_id, placed[0].order_id]
    assert {o["buyer"] for o in feed["orders"]} == {"林**"}
    assert (feed["count"], feed["paid_count"], feed["units"]) == (2, 1, 2)
    assert feed["paid_fen"] == placed[1].amount_due_fen
    hub_feed = (
        await client.get(f"/api/rooms/{hub.room_id}/orders", headers=bearer(Role.HQ))
    ).json()
    assert hub_feed["count"] == 3  # the hub's own room and every room relaying it
    other_host = await client.get(
        f"/api/rooms/{store.room_id}/orders", headers=bearer(Role.HOST, world.store_id + 1)
    )
    assert other_host.status_code == 403
    viewer = await client.get(f"/api/rooms/{store.room_id}/orders", headers=bearer(Role.VIEWER))
    assert viewer.status_code == 403
    unknown = await client.get("/api/rooms/999999/orders", headers=bearer(Role.HQ))
    assert unknown.status_code == 404
