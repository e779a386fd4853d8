"""The chain's pulse during a hub broadcast: top items of the last 15 minutes across the rooms
relaying it, and each room against the chain's median."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from sqlalchemy import select

from live.models import Broadcast
from orders.models import Deal
from orders.statuses import OrderStatus
from server import factories
from server.auth import Role
from tests.live.conftest import Chain

pytestmark = [pytest.mark.database, pytest.mark.demo]


async def test_top_items_and_rooms_against_the_median_over_the_last_15_minutes(
    chain: Chain,
) -> None:
    keys = count()
    now = datetime.now(UTC)
    async with chain.services.sessionmaker() as session, session.begin():
        hub = await session.scalar(
            select(Broadcast).where(Broadcast.kind == "hub").order_by(Broadcast.id)
        )
        assert hub is not None
        relays = list(
            await session.scalars(
                select(Broadcast).where(Broadcast.relays_id == hub.id).order_by(Broadcast.id)
            )
        )
        first, second, *_ = relays
        coat, scarf, *_ = list(
            await session.scalars(select(Deal).where(Deal.broadcast_id == hub.id).order_by(Deal.id))
        )

        async def sell(
            deal: Deal, room: Broadcast, *, ago: float = 1, status: str = "paid"
        ) -> None:
            order = await factories.add_paid_order(
                session,
                deal,
                customer_id=1 + next(keys),
                room_store_id=room.store_id,
                at=now - timedelta(minutes=ago),
                idempotency_key=f"pulse-{next(keys)}",
            )
            order.broadcast_id, order.status = room.id, OrderStatus(status)

        for _ in range(3):
            await sell(coat, first)
        await sell(coat, second)
        await sell(scarf, second)
        await sell(scarf, second)
        await sell(scarf, first, ago=20)  # before the window
        await sell(scarf, first, status="expired")  # never sold

    answer = await chain.http.get(f"/api/hq/live/pulse/{hub.id}", headers=chain.host(0))

    assert answer.status_code == 200, answer.text
    pulse = answer.json()
    assert [(i["product_id"], i["units"], i["rooms"]) for i in pulse["by_units"]] == [
        (coat.product_id, 4, 2),
        (scarf.product_id, 2, 1),
    ]
    assert [i["product_id"] for i in pulse["by_rooms"]] == [coat.product_id, scarf.product_id]
    amounts = {room["broadcast_id"]: room["amount_fen"] for room in pulse["rooms"]}
    assert amounts[first.id] == 3 * coat.price_fen
    assert amounts[second.id] == coat.price_fen + 2 * scarf.price_fen
    assert amounts[hub.id] == 0 and len(amounts) == 1 + len(relays)
    ranked = sorted(amounts.values())
    assert pulse["median_fen"] == (ranked[1] + ranked[2]) // 2  # four rooms: the middle two


async def test_the_pulse_is_for_staff_and_names_a_hub(chain: Chain) -> None:
    guide_id, store_id, _ = chain.demo.guides[0]
    guide = {"Authorization": f"Bearer {chain.token_for(Role.GUIDE, guide_id, store_id)}"}
    assert (await chain.http.get("/api/hq/live/pulse/1", headers=guide)).status_code == 403
    room = await chain.room(chain.store_room(0))
    store_broadcast = room["broadcast"]["id"]
    missing = await chain.http.get(f"/api/hq/live/pulse/{store_broadcast}", headers=chain.hq)
    assert missing.status_code == 404


async def test_a_host_reads_the_pulse_only_of_a_hub_their_store_relays(chain: Chain) -> None:
    async with chain.services.sessionmaker() as session, session.begin():
        hub = await session.scalar(
            select(Broadcast).where(Broadcast.kind == "hub").order_by(Broadcast.id)
        )
        assert hub is not None
        store_id = chain.demo.hosts[0][1]
        other = await factories.add_broadcast(session, kind="hub", title="另一场总部直播")
    relayed = await chain.http.get(f"/api/hq/live/pulse/{hub.id}", headers=chain.host(0))
    assert relayed.status_code == 200
    assert store_id in [room["store_id"] for room in relayed.json()["rooms"]]
    not_relayed = await chain.http.get(f"/api/hq/live/pulse/{other.id}", headers=chain.host(0))
    assert not_relayed.status_code == 403
    assert (
        await chain.http.get(f"/api/hq/live/pulse/{other.id}", headers=chain.hq)
    ).status_code == 200
