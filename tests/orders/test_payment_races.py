"""Payment notices racing, arriving late, or for the wrong amount: one outcome per transaction
id, and the deal's Redis state equal to what SQL says afterwards."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from orders.expiry import expire_order
from orders.intake import Accepted, IntakeRequest, place_order
from orders.models import Order, Payment, Refund, RefundRequest
from orders.payments import PaymentResult, SandboxProvider, handle_notification
from orders.persister import OrderPersister
from orders.refund_sender import send_due_refunds
from server.services import Services
from tests.orders.conftest import (
    World,
    intake_of,
    make_deal,
    runtime_of,
    seed_world,
    stock_left,
    written_order,
)
from tests.orders.redis_vs_sql import expected_from_sql, redis_state
from tests.orders.test_payments import order_status, pay

pytestmark = pytest.mark.database

PAIRS = 50


class CountingProvider(SandboxProvider):
    """The sandbox provider, counting the refunds it confirmed; fails the first `failures`."""

    def __init__(self, services: Services, failures: int = 0) -> None:
        super().__init__(services.settings)
        self.refunds: list[tuple[str, str, int]] = []
        self.failures = failures

    async def refund(self, order_id: str, refund_id: str, amount_fen: int) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("provider unreachable")
        self.refunds.append((order_id, refund_id, amount_fen))


@pytest.fixture
async def fifty(services: Services) -> World:
    return await seed_world(services, customers=PAIRS)


async def orders_of_everyone(services: Services, world: World, deal: int) -> list[Accepted]:
    placed = []
    for n, customer in enumerate(world.customer_ids):
        request = IntakeRequest(customer, deal, 1, f"k{n}", room_store_id=world.store_id)
        reply = await place_order(intake_of(services), request)
        assert isinstance(reply, Accepted), reply
        placed.append(reply)
    await OrderPersister(services).drain()
    return placed


async def notice_pairs(
    services: Services, placed: list[Accepted], txns: Callable[[int], tuple[str, str]]
) -> list[tuple[PaymentResult, PaymentResult]]:
    async def pair(n: int, order: Accepted) -> tuple[PaymentResult, PaymentResult]:
        first, second = txns(n)
        notices = [
            runtime_of(services).sandbox.notification(order.order_id, order.amount_fen, txn)
            for txn in (first, second)
        ]
        a, b = await asyncio.gather(
            *(
                handle_notification(services, runtime_of(services).payments, h, body)
                for h, body in notices
            )
        )
        return a, b

    return list(await asyncio.gather(*(pair(n, o) for n, o in enumerate(placed))))


async def count(services: Services, model: type, **where: object) -> int:
    async with services.sessionmaker() as session:
        query = select(func.count()).select_from(model)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        return int(await session.scalar(query) or 0)


@pytest.mark.parametrize("policy", ["hold", "first_paid"])
async def test_fifty_pairs_of_one_transaction_apply_once_and_leave_redis_equal_to_sql(
    services: Services, fifty: World, policy: str
) -> None:
    deal = await make_deal(services, fifty, stock=80, per_customer_limit=1, stock_policy=policy)
    placed = await orders_of_everyone(services, fifty, deal)
    results = await notice_pairs(services, placed, lambda n: (f"wx-{n}", f"wx-{n}"))
    assert all(sorted((a.outcome, b.outcome)) == ["applied", "duplicate"] for a, b in results)
    assert await count(services, Payment) == PAIRS
    assert await count(services, Order, status="paid") == PAIRS
    assert await redis_state(services, deal) == await expected_from_sql(services, deal)
    assert await stock_left(services, deal) == 80 - PAIRS


@pytest.mark.parametrize("policy", ["hold", "first_paid"])
async def test_fifty_pairs_of_two_transactions_apply_one_and_refund_the_other_once(
    services: Services, fifty: World, policy: str
) -> None:
    deal = await make_deal(services, fifty, stock=80, per_customer_limit=1, stock_policy=policy)
    placed = await orders_of_everyone(services, fifty, deal)
    results = await notice_pairs(services, placed, lambda n: (f"wx-{n}-a", f"wx-{n}-b"))
    assert all(
        sorted((a.outcome, b.outcome)) == ["applied", "refunded_duplicate"] for a, b in results
    )
    assert await count(services, Payment) == 2 * PAIRS
    assert await count(services, RefundRequest) == PAIRS
    assert await redis_state(services, deal) == await expected_from_sql(services, deal)
    provider = CountingProvider(services)
    assert await send_due_refunds(services, provider) == PAIRS
    assert len({refund_id for _, refund_id, _ in provider.refunds}) == PAIRS


async def test_two_late_payments_of_one_expired_order_are_refunded_once_each(
    expiring: Services, world: World
) -> None:
    deal = await make_deal(expiring, world, stock=1)
    late = await place_order(
        intake_of(expiring), IntakeRequest(world.customer_ids[0], deal, 1, "late")
    )
    assert isinstance(late, Accepted)
    await OrderPersister(expiring).drain()
    assert await expire_order(expiring, late.order_id)
    other = await place_order(
        intake_of(expiring), IntakeRequest(world.customer_ids[1], deal, 1, "other")
    )
    assert isinstance(other, Accepted)  # took the unit the late order gave back
    await OrderPersister(expiring).drain()
    first, second = await asyncio.gather(
        pay(expiring, late.order_id, late.amount_fen, txn="wx-late-1"),
        pay(expiring, late.order_id, late.amount_fen, txn="wx-late-2"),
    )
    again = await pay(expiring, late.order_id, late.amount_fen, txn="wx-late-1")
    assert (first.outcome, second.outcome, again.outcome) == (
        "refunded_late",
        "refunded_late",
        "duplicate",
    )
    assert await order_status(expiring, late.order_id) == "expired"
    provider = CountingProvider(expiring, failures=1)
    await send_due_refunds(expiring, provider)  # the first try fails: retried later
    async with expiring.sessionmaker() as session, session.begin():
        await session.execute(  # the backoff has passed
            RefundRequest.__table__.update().values(next_attempt_at=RefundRequest.created_at)
        )
    await send_due_refunds(expiring, provider)
    await send_due_refunds(expiring, provider)
    assert sorted(amount for _, _, amount in provider.refunds) == [9900, 9900]
    assert len({refund_id for _, refund_id, _ in provider.refunds}) == 2
    assert await count(expiring, RefundRequest, confirmed_at=None) == 0
    assert await redis_state(expiring, deal) == await expected_from_sql(expiring, deal)


async def test_a_notice_for_the_wrong_amount_is_refunded_and_the_order_stays_unpaid(
    services: Services, world: World
) -> None:
    deal = await make_deal(services, world, stock=5)
    placed = await written_order(services, world, deal)
    wrong = await pay(services, placed.order_id, placed.amount_fen - 1, txn="wx-short")
    assert wrong.outcome == "refunded_mismatch" and wrong.acknowledged
    assert await order_status(services, placed.order_id) == "pending_payment"
    async with services.sessionmaker() as session:
        queued = await session.scalar(select(RefundRequest.amount_fen))
        refunds = await session.scalar(select(func.count()).select_from(Refund))
    assert (queued, refunds) == (placed.amount_fen - 1, 1)
    right = await pay(services, placed.order_id, placed.amount_fen, txn="wx-right")
    assert right.outcome == "applied"
    assert await redis_state(services, deal) == await expected_from_sql(services, deal)


async def test_a_payment_waits_while_its_deal_is_restored_after_a_redis_restart(
    services: Services, world: World
) -> None:
    deal = await make_deal(services, world, stock=5)
    placed = await written_order(services, world, deal)
    await services.redis.hset(f"{{deal:{deal}}}:state", "gate", "closed")  # type: ignore[misc]
    waiting = await pay(services, placed.order_id, placed.amount_fen, txn="wx-1")
    assert (waiting.outcome, waiting.acknowledged) == ("not_ready", False)
    assert await count(services, Payment) == 0
    await services.redis.hset(f"{{deal:{deal}}}:state", "gate", "open")  # type: ignore[misc]
    assert (await pay(services, placed.order_id, placed.amount_fen, txn="wx-1")).outcome == (
        "applied"
    )


@pytest.mark.parametrize("paid_late", [False, True])
async def test_a_payment_whose_transaction_fails_gives_back_the_units_it_took(
    expiring: Services, world: World, monkeypatch: pytest.MonkeyPatch, paid_late: bool
) -> None:
    policy = "hold" if paid_late else "first_paid"
    deal = await make_deal(expiring, world, stock=3, per_customer_limit=2, stock_policy=policy)
    placed = await written_order(expiring, world, deal, quantity=2)
    if paid_late:
        assert await expire_order(expiring, placed.order_id)
    before = await redis_state(expiring, deal)

    async def database_fails(*_: object, **__: object) -> None:
        raise ConnectionResetError("the database went away mid-transaction")

    monkeypatch.setattr("orders.payments.credit_sale", database_fails)
    with pytest.raises(ConnectionResetError):  # answered 500: the provider retries
        await pay(expiring, placed.order_id, placed.amount_fen, txn="wx-1")
    assert await redis_state(expiring, deal) == before == await expected_from_sql(expiring, deal)
    assert await count(expiring, Payment) == 0
    monkeypatch.undo()
    retried = await pay(expiring, placed.order_id, placed.amount_fen, txn="wx-1")
    assert retried.outcome == ("applied_late" if paid_late else "applied")
    assert await redis_state(expiring, deal) == await expected_from_sql(expiring, deal)
