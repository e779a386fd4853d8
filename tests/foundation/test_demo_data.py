"""The demo chain loads once and looks like a real chain."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from attribution.models import (
    Binding,
    Customer,
    CustomerSegment,
    Guide,
    InstoreSale,
    Region,
    SaleCredit,
    Store,
)
from live.models import Broadcast, WindowItem
from orders.coupons import DEMO_PACK_PARAMS
from orders.coupons_models import Coupon
from orders.groups_models import GroupBuy, GroupMember
from orders.models import Deal, Order, Product
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
        assert await count(Product) == 22  # twenty garments, the 1.1-yuan pack and its group-buy
        paid = await session.scalar(select(func.count()).where(Order.status == "paid"))
        online = select(func.count()).where(SaleCredit.order_id.is_not(None))
        assert paid and paid == await session.scalar(online)
        till = (
            await session.execute(
                select(
                    InstoreSale.store_id, func.count(), func.count(InstoreSale.customer_id)
                ).group_by(InstoreSale.store_id)
            )
        ).all()
        assert len(till) == 3
        assert all(0 < members < sales for _, sales, members in till)  # members and walk-ins
        assert await count(CustomerSegment) > 0
        # last night's ended broadcast aside (its follow-ups: tests/live/test_followups_demo.py)
        broadcasts = (
            await session.scalars(
                select(Broadcast).where(Broadcast.status != "ended").order_by(Broadcast.id)
            )
        ).all()
        tonight, later = [b for b in broadcasts if b.kind == "hub"]  # tonight's, and the week's
        hub = [tonight]
        assert tonight.status == later.status == "scheduled"
        relays = [b.relays_id for b in broadcasts if b.relays_id is not None]
        assert sorted(relays) == [tonight.id] * 3 + [later.id] * 3
        assert [b.status for b in broadcasts if b.status == "missed"] == ["missed"]
        own = [b for b in broadcasts if b.kind == "store" and b.relays_id is None]
        assert {b.store_id for b in own} == {
            store.id for store in await session.scalars(select(Store))
        }
        assert (
            await session.scalar(select(func.count()).where(WindowItem.broadcast_id == hub[0].id))
            == 10
        )
        # The open group-buy is of the 1.1-yuan pack: one group, its leader paid, no coupons
        # until a second member fills it.
        opened = (
            await session.execute(
                select(GroupBuy.status, Deal.kind, Deal.params, GroupBuy.id).join(
                    Deal, Deal.id == GroupBuy.deal_id
                )
            )
        ).all()
        assert [(status, kind) for status, kind, _, _ in opened] == [("open", "group_buy")]
        assert opened[0][2]["coupons"] == DEMO_PACK_PARAMS["coupons"]
        grouped_coupons = (
            select(func.count())
            .select_from(Coupon)
            .join(GroupMember, GroupMember.order_id == Coupon.pack_order_id)
        )
        assert await session.scalar(grouped_coupons) == 0
