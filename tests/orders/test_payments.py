"""Payment: signed notifications, exactly-once effects, payment after expiry, and expiry."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from attribution.models import SaleCredit
from live.publish import LiveRooms
from orders.expiry import expire_order, sweep_expired
from orders.intake import Accepted
from orders.models import Order, Payment, Refund
from orders.payments import PaymentResult, SignatureError, handle_notification
from orders.persister import OrderPersister
from server.services import Services
from tests.orders.conftest import Order_, World, make_deal, runtime_of, stock_left

pytestmark = pytest.mark.database


async def pay(
    services: Services, order_id: str, amount: int, txn: str | None = None
) -> PaymentResult:
    headers, body = runtime_of(services).sandbox.notification(order_id, amount, txn)
    return await handle_notification(services, runtime_of(services).payments, headers, body)


async def order_status(services: Services, order_id: str) -> str:
    async with services.sessionmaker() as session:
        return str(await session.scalar(select(Order.status).where(Order.id == order_id)))


async def credits(services: Services, order_id: str) -> list[tuple[str, int]]:
    async with services.sessionmaker() as session:
        rows = await session.execute(
            select(SaleCredit.kind, SaleCredit.amount_fen).where(SaleCredit.order_id == order_id)
        )
        return [(k, a) for k, a in rows.all()]


async def test_a_paid_order_has_one_credit_and_a_replayed_callback_changes_nothing(
    services: Services, world: World, order: Order_, persister: OrderPersister
) -> None:
    deal = await make_deal(services, world, stock=5)
    placed = await order(deal, quantity=2)
    assert isinstance(placed, Accepted)
    await persister.drain()
    headers, body = runtime_of(services).sandbox.notification(placed.order_id, placed.amount_fen)
    first = await handle_notification(services, runtime_of(services).payments, headers, body)
    replay = await handle_notification(services, runtime_of(services).payments, headers, body)
    assert (first.outcome, replay.outcome) == ("applied", "duplicate")
    assert await order_status(services, placed.order_id) == "paid"
    assert await credits(services, placed.order_id) == [("sale", 2 * 9900)]
    assert await stock_left(services, deal) == 3  # the hold became a sale: no units back
    assert await services.redis.hlen(f"{{deal:{deal}}}:holds") == 0


async def test_a_forged_or_stale_notification_is_refused_and_changes_nothing(
    services: Services, world: World, order: Order_, persister: OrderPersister
) -> None:
    deal = await make_deal(services, world)
    placed = await order(deal)
    assert isinstance(placed, Accepted)
    await persister.drain()
    headers, body = runtime_of(services).sandbox.notification(placed.order_id, placed.amount_fen)
    with pytest.raises(SignatureError):
        await handle_notification(
            services, runtime_of(services).payments, headers, body.replace(b"SUCCESS", b"SUCCESS ")
        )
    with pytest.raises(SignatureError):
        await handle_notification(
            services,
            runtime_of(services).payments,
            {**headers, "Wechatpay-Signature": "AAAA"},
            body,
        )
    stale = {**headers, "Wechatpay-Timestamp": "1000000000"}
    with pytest.raises(SignatureError):
        await handle_notification(services, runtime_of(services).payments, stale, body)
    assert await order_status(services, placed.order_id) == "pending_payment"
    assert await credits(services, placed.order_id) == []


async def test_the_notify_url_answers_success_and_refuses_forgeries(
    client, services: Services, world: World, order: Order_, persister: OrderPersister
) -> None:  # type: ignore[no-untyped-def]
    deal = await make_deal(services, world)
    placed = await order(deal)
    assert isinstance(placed, Accepted)
    await persister.drain()
    headers, body = runtime_of(services).sandbox.notification(placed.order_id, placed.amount_fen)
    forged = await client.post(
        "/api/payments/notify", content=body, headers={**headers, "Wechatpay-Nonce": "x"}
    )
    assert forged.status_code == 401
    response = await client.post("/api/payments/notify", content=body, headers=headers)
    assert response.status_code == 200 and response.json()["code"] == "SUCCESS"
    again = await client.post("/api/payments/notify", content=body, headers=headers)
    assert again.json() == {"code": "SUCCESS", "message": "duplicate"}
    assert await credits(services, placed.order_id) == [("sale", 9900)]


async def test_unpaid_orders_expire_and_give_their_units_back_once(
    expiring: Services, world: World, order: Order_
) -> None:
    deal = await make_deal(expiring, world, stock=5, per_customer_limit=2)
    placed = await order(deal, quantity=2, via=expiring)
    assert isinstance(placed, Accepted)
    await OrderPersister(expiring).drain()
    assert await stock_left(expiring, deal) == 3
    assert await expire_order(expiring, placed.order_id)
    assert not await expire_order(expiring, placed.order_id)
    assert await order_status(expiring, placed.order_id) == "expired"
    assert await stock_left(expiring, deal) == 5
    # the customer's limit counts only live orders: they may order two again
    assert isinstance(await order(deal, quantity=2, via=expiring), Accepted)


async def test_the_sql_sweep_expires_what_the_jobs_missed(
    expiring: Services, world: World, order: Order_, services: Services
) -> None:
    deal = await make_deal(expiring, world, stock=10)
    for n in range(4):
        assert isinstance(await order(deal, customer=n, via=expiring), Accepted)
    kept = await order(deal, customer=5)  # 15 minutes to pay: not due
    await OrderPersister(expiring).drain()
    assert await sweep_expired(expiring, rooms=LiveRooms(expiring.redis)) == 4
    assert await sweep_expired(expiring, rooms=LiveRooms(expiring.redis)) == 0
    assert await stock_left(expiring, deal) == 9
    assert isinstance(kept, Accepted)
    assert await order_status(expiring, kept.order_id) == "pending_payment"


async def test_a_payment_after_expiry_takes_the_units_again_when_the_stock_allows(
    expiring: Services, world: World, order: Order_
) -> None:
    deal = await make_deal(expiring, world, stock=3)
    placed = await order(deal, quantity=2, via=expiring)
    assert isinstance(placed, Accepted)
    await OrderPersister(expiring).drain()
    await expire_order(expiring, placed.order_id)
    result = await pay(expiring, placed.order_id, placed.amount_fen)
    assert result.outcome == "applied_late"
    assert await order_status(expiring, placed.order_id) == "paid"
    assert await stock_left(expiring, deal) == 1
    assert await credits(expiring, placed.order_id) == [("sale", 2 * 9900)]


async def test_a_payment_after_expiry_without_stock_is_refunded_once(
    expiring: Services, world: World, order: Order_
) -> None:
    deal = await make_deal(expiring, world, stock=2)
    late = await order(deal, quantity=2, via=expiring)
    assert isinstance(late, Accepted)
    await OrderPersister(expiring).drain()
    await expire_order(expiring, late.order_id)
    assert isinstance(await order(deal, customer=1, quantity=2, via=expiring), Accepted)
    result = await pay(expiring, late.order_id, late.amount_fen, txn="wx-1")
    replay = await pay(expiring, late.order_id, late.amount_fen, txn="wx-1")
    assert (result.outcome, replay.outcome) == ("refunded_late", "duplicate")
    assert await order_status(expiring, late.order_id) == "expired"
    assert await stock_left(expiring, deal) == 0
    assert await credits(expiring, late.order_id) == []
    async with expiring.sessionmaker() as session:
        refunds = await session.scalar(select(func.count()).where(Refund.order_id == late.order_id))
        payments = await session.scalar(
            select(func.count()).where(Payment.order_id == late.order_id)
        )
    assert (refunds, payments) == (1, 1)


async def test_first_paid_deals_hold_nothing_until_payment(
    services: Services, world: World, order: Order_, persister: OrderPersister
) -> None:
    deal = await make_deal(services, world, stock=1, stock_policy="first_paid")
    a, b = await order(deal, customer=0), await order(deal, customer=1)
    assert isinstance(a, Accepted) and isinstance(b, Accepted)
    assert await stock_left(services, deal) == 1
    await persister.drain()
    assert (await pay(services, b.order_id, b.amount_fen)).outcome == "applied"
    assert (await pay(services, a.order_id, a.amount_fen)).outcome == "refunded_sold_out"
    assert await order_status(services, a.order_id) == "cancelled"
    assert await stock_left(services, deal) == 0
