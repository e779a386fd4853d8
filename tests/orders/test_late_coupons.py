"""A payment that arrives after its order expired, for an order that spent coupons: the expiry
gave the coupons back, so the discount stands only if they can be spent on the order again
(still unused and valid); otherwise the late payment is refunded and the coupons stay where
they are."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from orders.coupons import mirror_key
from orders.expiry import expire_order
from orders.intake import Accepted
from orders.models import RefundRequest
from orders.payments import LATE_COUPONS_REASON
from orders.persister import OrderPersister
from server.model_base import utcnow
from server.services import Services
from tests.orders.conftest import Order_, World, make_deal
from tests.orders.test_coupons import YUAN, buy_pack, coupon_users, pack_deal
from tests.orders.test_payments import order_status, pay

pytestmark = pytest.mark.database


async def expired_with_coupon(
    services: Services, expiring: Services, world: World, order: Order_, persister: OrderPersister
) -> tuple[int, int, Accepted]:
    """A 299-yuan order that spent the 111-off coupon and expired unpaid; the deal, the coupon
    and the order."""
    pack = await pack_deal(services, world)
    deal = await make_deal(services, world, price_fen=299 * YUAN, stock=5)
    (coupon, *_) = await buy_pack(services, order, persister, pack, 0)
    placed = await order(deal, coupon_ids=(coupon,), via=expiring)
    assert isinstance(placed, Accepted) and placed.amount_fen == 188 * YUAN
    await persister.drain()
    assert await expire_order(expiring, placed.order_id) is not None
    assert await coupon_users(services, [coupon]) == [None]
    return deal, coupon, placed


async def late_refunds(services: Services, order_id: str) -> list[str]:
    async with services.sessionmaker() as session:
        return list(
            await session.scalars(
                select(RefundRequest.reason).where(RefundRequest.order_id == order_id)
            )
        )


async def test_a_late_payment_spends_its_coupons_again_when_they_are_still_unused(
    services: Services,
    expiring: Services,
    world: World,
    order: Order_,
    persister: OrderPersister,
) -> None:
    _, coupon, placed = await expired_with_coupon(services, expiring, world, order, persister)
    result = await pay(services, placed.order_id, placed.amount_fen)
    assert result.outcome == "applied_late"
    assert await order_status(services, placed.order_id) == "paid"
    assert await coupon_users(services, [coupon]) == [placed.order_id]
    mirrored = await services.redis.hget(mirror_key(world.customer_ids[0]), str(coupon))  # type: ignore[misc]
    assert mirrored is not None and mirrored.decode().endswith("|" + placed.order_id)
    assert await late_refunds(services, placed.order_id) == []


async def test_a_late_payment_is_refunded_when_its_coupon_was_spent_meanwhile(
    services: Services,
    expiring: Services,
    world: World,
    order: Order_,
    persister: OrderPersister,
) -> None:
    deal, coupon, placed = await expired_with_coupon(services, expiring, world, order, persister)
    other = await order(deal, coupon_ids=(coupon,))
    assert isinstance(other, Accepted) and other.amount_fen == 188 * YUAN
    result = await pay(services, placed.order_id, placed.amount_fen)
    assert result.outcome == "refunded_late"
    assert await order_status(services, placed.order_id) == "expired"
    assert await late_refunds(services, placed.order_id) == [LATE_COUPONS_REASON]
    await persister.drain()
    assert await coupon_users(services, [coupon]) == [other.order_id]
    # The other order still pays with its coupon.
    assert (await pay(services, other.order_id, other.amount_fen)).outcome == "applied"


async def test_a_late_payment_is_refunded_when_its_coupon_has_ended(
    services: Services,
    expiring: Services,
    world: World,
    order: Order_,
    persister: OrderPersister,
) -> None:
    _, coupon, placed = await expired_with_coupon(services, expiring, world, order, persister)
    with time_machine.travel(utcnow() + timedelta(days=31), tick=False):
        result = await pay(services, placed.order_id, placed.amount_fen)
    assert result.outcome == "refunded_late"
    assert await late_refunds(services, placed.order_id) == [LATE_COUPONS_REASON]
    assert await coupon_users(services, [coupon]) == [None]


async def test_a_late_payment_without_stock_gives_the_coupons_it_spent_again_back(
    services: Services,
    expiring: Services,
    world: World,
    order: Order_,
    persister: OrderPersister,
) -> None:
    pack = await pack_deal(services, world)
    deal = await make_deal(services, world, price_fen=299 * YUAN, stock=1)
    (coupon, *_) = await buy_pack(services, order, persister, pack, 0)
    placed = await order(deal, coupon_ids=(coupon,), via=expiring)
    assert isinstance(placed, Accepted)
    await persister.drain()
    assert await expire_order(expiring, placed.order_id) is not None
    taker = await order(deal, customer=1)  # the last unit goes to someone else
    assert isinstance(taker, Accepted)
    result = await pay(services, placed.order_id, placed.amount_fen)
    assert result.outcome == "refunded_late"
    assert await coupon_users(services, [coupon]) == [None]
    mirrored = await services.redis.hget(mirror_key(world.customer_ids[0]), str(coupon))  # type: ignore[misc]
    assert mirrored is not None and mirrored.decode().endswith("|")
