"""The demo chain loads once and looks like a real chain."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from attribution.models import Binding, Customer, Guide, Region, SaleCredit, Store
from live.models import Broadcast, WindowItem
from orders.models import Order, Product
from server.demo import load_demo_data
from server.services import Services
from server.settings import Settings


@pytest.mark.database
async def test_demo_data_is_a_chain_with_history_and_a_scheduled_broadcast(
    settings: Settings, services: Services
) -> None:
    first = await load_demo_data(settings)
    second = await load_demo_data(settings)
    assert first == second
    async with services.sessionmaker() as session:
        count = lambda model: session.scalar(select(func.count()).select_from(model))  # noqa: E731
        assert await count(Region) == 2
        assert await count(Store) == 3
        assert await count(Guide) == 6
        assert 250 <= await count(Customer) <= 350
        assert 0 < await count(Binding) < await count(Customer)
        assert await count(Product) == 21  # twenty garments and the 1.1-yuan coupon pack
        paid = await session.scalar(select(func.count()).where(Order.status == "paid"))
        assert paid and paid == await count(SaleCredit)
        broadcasts = (await session.scalars(select(Broadcast))).all()
        hub = [b for b in broadcasts if b.kind == "hub"]
        assert len(hub) == 1 and hub[0].status == "scheduled"
        assert sorted(b.relays_id for b in broadcasts if b.kind == "store") == [hub[0].id] * 3
        assert (
            await session.scalar(select(func.count()).where(WindowItem.broadcast_id == hub[0].id))
            == 9
        )
