"""Refunds: full or per unit, once per refund id, units back to a running deal, credit reversed."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from attribution.models import SaleCredit
from orders.intake import Accepted
from orders.persister import OrderPersister
from orders.refunds import RefundError, refund_order
from server.services import Services
from tests.orders.conftest import Order_, World, make_deal, stock_left
from tests.orders.test_payments import order_status, pay

pytestmark = pytest.mark.database


async def paid_order(
    services: Services, order: Order_, persister: OrderPersister, deal: int, quantity: int
) -> str:
    placed = await order(deal, quantity=quantity)
    assert isinstance(placed, Accepted)
    await persister.drain()
    await pay(services, placed.order_id, placed.amount_fen)
    return placed.order_id


async def test_a_partial_then_full_refund_returns_units_and_reverses_the_credit(
    services: Services, world: World, order: Order_, persister: OrderPersister
) -> None:
    deal = await make_deal(services, world, stock=5, per_customer_limit=3)
    order_id = await paid_order(services, order, persister, deal, 3)
    assert await stock_left(services, deal) == 2
    one, _ = await refund_order(services, order_id, 1)
    assert (one.refund_id, one.amount_fen, one.order_status) == (
        f"{order_id}-u1",
        9900,
        "partially_refunded",
    )
    assert await stock_left(services, deal) == 3
    rest, _ = await refund_order(services, order_id)
    assert (rest.quantity, rest.order_status) == (2, "refunded")
    assert await stock_left(services, deal) == 5
    with pytest.raises(RefundError):
        await refund_order(services, order_id)
    async with services.sessionmaker() as session:
        amounts = list(
            await session.scalars(
                select(SaleCredit.amount_fen).where(SaleCredit.order_id == order_id)
            )
        )
    assert sorted(amounts) == [-19800, -9900, 29700] and sum(amounts) == 0


async def test_two_identical_refund_requests_at_once_refund_once(
    services: Services, world: World, order: Order_, persister: OrderPersister
) -> None:
    deal = await make_deal(services, world, stock=5)
    order_id = await paid_order(services, order, persister, deal, 2)
    results = await asyncio.gather(
        refund_order(services, order_id), refund_order(services, order_id), return_exceptions=True
    )
    done = [r for r in results if not isinstance(r, BaseException)]
    assert done and all(r[0].refund_id == f"{order_id}-u2" for r in done)
    assert await order_status(services, order_id) == "refunded"
    assert await stock_left(services, deal) == 5


async def test_refunds_of_an_ended_deal_put_nothing_back(
    services: Services, world: World, order: Order_, persister: OrderPersister
) -> None:
    from orders.deals import end_deal

    deal = await make_deal(services, world, stock=5)
    order_id = await paid_order(services, order, persister, deal, 1)
    async with services.sessionmaker() as session:
        await end_deal(session, services.redis, deal)
    await refund_order(services, order_id)
    assert await stock_left(services, deal) == 4
