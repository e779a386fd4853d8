""" "Sold" means one thing: the units of paid orders less the units refunded back. The deal's
stock, the customers' limits (reconcile) and the host's room feed all count it the same."""

from __future__ import annotations

import pytest

from orders.deals import sold_orders, sold_units
from orders.intake import Accepted
from orders.persister import OrderPersister
from orders.refunds import refund_order
from orders.sales_feed import room_orders
from server.services import Services
from tests.orders.conftest import Order_, World, make_deal
from tests.orders.test_payments import pay
from tests.orders.test_realtime import hub_and_store_rooms

pytestmark = pytest.mark.database


async def test_the_stock_the_customer_limits_and_the_room_feed_agree_on_units_sold(
    services: Services, world: World, order: Order_, persister: OrderPersister
) -> None:
    hub, _ = await hub_and_store_rooms(services, world)
    deal = await make_deal(services, world, broadcast_id=hub.broadcast_id, stock=20)
    in_hub = {"broadcast_id": hub.broadcast_id, "hub_broadcast_id": hub.broadcast_id}
    placed = [
        await order(deal, customer=n, quantity=quantity, **in_hub)
        for n, quantity in enumerate((2, 3, 1, 4))
    ]
    accepted = [p for p in placed if isinstance(p, Accepted)]
    assert len(accepted) == 4, placed
    await persister.drain()
    kept, partly, wholly, _unpaid = accepted
    for paid in (kept, partly, wholly):
        await pay(services, paid.order_id, paid.amount_fen)
    await refund_order(services, partly.order_id, 1)
    await refund_order(services, wholly.order_id)

    async with services.sessionmaker() as session:
        for_stock = await sold_units(session, deal)
        one_read = await sold_orders(session, deal)
        for_limits = sum(one_read.per_customer.values())
        for_feed = (await room_orders(session, [hub.broadcast_id])).units

    assert for_stock == one_read.units == for_limits == for_feed == 2 + (3 - 1) + 0
