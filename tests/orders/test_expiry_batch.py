"""Expiry keeps pace: many orders expire in one transaction, each exactly once, their units
back exactly, the rooms told the stock a few times rather than once per order, and a worker
killed mid-batch leaves nothing held once the job runs again."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest
from sqlalchemy import func, select

import orders.expiry
from orders.expiry import expire_batch
from orders.intake import Accepted
from orders.models import Order, OrderEvent
from orders.notices import OrderNotices
from orders.persister import OrderPersister
from orders.rooms_port import RoomNews, StockLeft
from server import factories
from server.services import Services
from tests.orders.conftest import Order_, World, make_deal, stock_left

pytestmark = pytest.mark.database

ORDERS = 60


class CountingRooms:
    """The rooms as orders/ sees them, counting the stock frames sent."""

    def __init__(self) -> None:
        self.frames: list[StockLeft] = []

    async def publish(self, events: Iterable[RoomNews]) -> None:
        self.frames += [e for e in events if isinstance(e, StockLeft)]

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"expiry asked the rooms for {name}")


async def expired_events(services: Services) -> dict[str, int]:
    async with services.sessionmaker() as session:
        rows = await session.execute(
            select(OrderEvent.order_id, func.count())
            .where(OrderEvent.kind == "expired")
            .group_by(OrderEvent.order_id)
        )
        return {order_id: int(n) for order_id, n in rows.all()}


async def statuses(services: Services) -> dict[str, str]:
    async with services.sessionmaker() as session:
        rows = await session.execute(select(Order.id, Order.status))
        return {order_id: str(status) for order_id, status in rows.all()}


async def test_orders_expiring_at_once_expire_once_each_even_with_the_worker_killed_mid_batch(
    expiring: Services, world: World, order: Order_, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with expiring.sessionmaker() as session, session.begin():
        broadcast = await factories.add_broadcast(session, status="live")
    deal = await make_deal(expiring, world, stock=100, broadcast_id=broadcast.id)
    placed = [
        await order(deal, customer=n % 20, via=expiring, broadcast_id=broadcast.id)
        for n in range(ORDERS)
    ]
    assert all(isinstance(p, Accepted) for p in placed)
    ids = [p.order_id for p in placed if isinstance(p, Accepted)]
    await OrderPersister(expiring).drain()
    assert await stock_left(expiring, deal) == 100 - ORDERS

    # The worker dies after the second chunk's commit, before its units go back.
    monkeypatch.setattr(orders.expiry, "SWEEP_BATCH", 20)
    release = orders.expiry._release
    calls = 0

    async def dies_on_the_second_chunk(*args: Any) -> int:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise SystemExit("worker killed")
        return await release(*args)

    monkeypatch.setattr(orders.expiry, "_release", dies_on_the_second_chunk)
    with pytest.raises(SystemExit):
        await expire_batch(expiring, ids)
    after_kill = await statuses(expiring)
    assert [after_kill[i] for i in ids].count("expired") == 40
    assert await stock_left(expiring, deal) == 100 - ORDERS + 20

    # arq runs the job again, in a worker whose stock notices are running.
    rooms = CountingRooms()
    notices = OrderNotices(expiring, rooms)  # type: ignore[arg-type]
    rerun = await expire_batch(expiring, ids, notices=notices)
    third = await expire_batch(expiring, ids, notices=notices)
    await notices.flush()
    await notices.flush()  # within the deal's notice interval: nothing more goes out

    assert len(rerun.expired) == 20 and rerun.released == 40
    assert third.expired == [] and third.released == 0
    assert await stock_left(expiring, deal) == 100
    assert set((await statuses(expiring)).values()) == {"expired"}
    assert await expired_events(expiring) == dict.fromkeys(ids, 1)
    assert await expiring.redis.hlen(f"{{deal:{deal}}}:holds") == 0
    buyers = await expiring.redis.hgetall(f"{{deal:{deal}}}:buyers")
    assert set(buyers.values()) <= {b"0"}
    assert [(f.deal_id, f.left) for f in rooms.frames] == [(deal, 100)]
