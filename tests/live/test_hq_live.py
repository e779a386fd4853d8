"""HQ's view of every room on air: its viewers, likes, orders and sales so far."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from live.models import Broadcast, Room
from orders.models import Deal
from server import factories
from server.auth import Role
from tests.live.conftest import Chain, next_frame

pytestmark = [pytest.mark.database, pytest.mark.demo]


async def test_hq_sees_a_live_store_room_with_its_viewers_likes_and_sales(chain: Chain) -> None:
    room_id = chain.store_room(0)
    broadcast_id = (await chain.room(room_id))["broadcast"]["id"]
    went_live = await chain.http.post(f"/api/broadcasts/{broadcast_id}/live", headers=chain.host(0))
    assert went_live.status_code == 200
    async with chain.services.sessionmaker() as session, session.begin():
        room = await session.get(Room, room_id)
        broadcast = await session.get(Broadcast, broadcast_id)
        assert room is not None and broadcast is not None and broadcast.relays_id is not None
        deal = await session.scalar(select(Deal).where(Deal.broadcast_id == broadcast.relays_id))
        assert deal is not None
        order = await factories.add_paid_order(
            session,
            deal,
            customer_id=7,
            room_store_id=room.store_id,
            at=datetime.now(UTC),
            idempotency_key="hq-view",
        )
        order.broadcast_id = broadcast_id
    async with chain.viewer(room_id, customer_id=4) as viewer:
        await next_frame(viewer, "snapshot")
        await viewer.send(json.dumps({"type": "like", "count": 3}))
        while (await next_frame(viewer, "counts")).get("likes", 0) < 3:
            pass

        answer = await chain.http.get("/api/hq/live", headers=chain.hq)

    assert answer.status_code == 200
    [row] = [r for r in answer.json() if r["room_id"] == room_id]
    assert (row["viewers"], row["likes"]) == (1, 3)
    assert (row["orders"], row["paid"], row["paid_fen"]) == (1, 1, deal.price_fen)
    assert row["store_id"] == room.store_id and row["has_stream"] is True  # the demo plays its clip
    assert [r for r in answer.json() if r["room_id"] == chain.store_room(1)] == []  # not live


async def test_only_hq_sees_every_room_on_air(chain: Chain) -> None:
    guide_id, store_id, _ = chain.demo.guides[0]
    for headers in (
        chain.host(0),
        {"Authorization": f"Bearer {chain.token_for(Role.GUIDE, guide_id, store_id)}"},
        {"Authorization": f"Bearer {chain.token_for(Role.VIEWER, 3)}"},
    ):
        assert (await chain.http.get("/api/hq/live", headers=headers)).status_code == 403
