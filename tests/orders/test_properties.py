"""A property over random interleavings of order, pay, expire, refund and persist: paid +
held units never exceed the stock, the counter accounts for every unit, and every accepted
order reaches the database."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from live.publish import LiveRooms
from orders.deals import sold_units
from orders.expiry import expire_order
from orders.intake import Accepted
from orders.keys import DealKeys
from orders.persister import OrderPersister
from orders.reconcile import reconcile_deal
from orders.refunds import RefundError, refund_order
from server.services import Services
from tests.orders.conftest import Order_, World, make_deal
from tests.orders.test_payments import pay

pytestmark = pytest.mark.database
STOCK = 6

operation = st.one_of(
    st.tuples(st.just("order"), st.integers(0, 3), st.integers(1, 3)),
    st.tuples(st.just("pay"), st.integers(0, 30)),
    st.tuples(st.just("expire"), st.integers(0, 30)),
    st.tuples(st.just("refund"), st.integers(0, 30), st.sampled_from([None, 1])),
    st.tuples(st.just("persist")),
)
# Operations run in groups; the members of a group run concurrently.
rounds = st.lists(st.lists(operation, min_size=1, max_size=3), min_size=1, max_size=10)


async def units(services: Services, deal: int) -> tuple[int, int, int]:
    """(free counter, sold in SQL net of refunds, held in Redis)."""
    keys = DealKeys(deal)
    counter = int(await services.redis.hget(keys.state, "stock") or 0)
    held = sum(
        int(v.split(b"|")[0]) for v in (await services.redis.hvals(keys.holds)) if v.endswith(b"1")
    )
    async with services.sessionmaker() as session:
        sold = await sold_units(session, deal)
    return counter, sold, held


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=rounds)
async def test_paid_plus_held_never_exceeds_stock_under_any_interleaving(
    expiring: Services, world: World, order: Order_, plan: list[list[tuple[Any, ...]]]
) -> None:
    services = expiring  # orders are due at once, so `expire` always can
    deal = await make_deal(services, world, stock=STOCK, per_customer_limit=4)
    persister = OrderPersister(services)
    rooms = LiveRooms(services.redis)
    accepted: list[Accepted] = []

    async def run(op: tuple[Any, ...]) -> None:
        kind = op[0]
        if kind == "order":
            placed = await order(deal, customer=op[1], quantity=op[2], via=services)
            if isinstance(placed, Accepted):
                accepted.append(placed)
        elif kind == "persist":
            await persister.drain()
        elif accepted:
            target = accepted[op[1] % len(accepted)]
            if kind == "pay":
                for _ in range(3):  # a provider retries a notification we could not apply
                    try:
                        await pay(services, target.order_id, target.amount_fen)
                        break
                    except RuntimeError:
                        continue
            elif kind == "expire":
                await expire_order(services, target.order_id)
            elif kind == "refund":
                with contextlib.suppress(RefundError):
                    await refund_order(services, target.order_id, op[2])

    for group in plan:
        await asyncio.gather(*(run(op) for op in group))
        counter, sold, held = await units(services, deal)
        assert counter >= 0 and sold + held <= STOCK
    await persister.drain()
    counter, sold, held = await units(services, deal)
    assert counter + sold + held == STOCK
    async with services.sessionmaker() as session:
        from sqlalchemy import select

        from orders.models import Order

        ids = set(await session.scalars(select(Order.id).where(Order.deal_id == deal)))
    assert {a.order_id for a in accepted} <= ids
    repaired = await reconcile_deal(services, deal, rooms=rooms)
    assert repaired.stock_before == repaired.stock_after
