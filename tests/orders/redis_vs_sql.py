"""What SQL says a deal's Redis state must be, computed apart from the code under test:
units left, the holds of unpaid orders, and each customer's count."""

from __future__ import annotations

from collections import defaultdict

import msgspec
from sqlalchemy import select

from orders.keys import DealKeys
from orders.models import Deal, Order, Refund
from server.services import Services


class DealState(msgspec.Struct, frozen=True):
    stock_left: int
    holds: frozenset[str]
    counts: dict[int, int]


async def expected_from_sql(services: Services, deal_id: int) -> DealState:
    async with services.sessionmaker() as session:
        deal = await session.get(Deal, deal_id)
        assert deal is not None
        orders = (
            await session.execute(
                select(Order.id, Order.customer_id, Order.quantity, Order.status).where(
                    Order.deal_id == deal_id
                )
            )
        ).all()
        refunded = dict(
            (
                await session.execute(
                    select(Refund.order_id, Refund.quantity)
                    .join(Order, Order.id == Refund.order_id)
                    .where(Order.deal_id == deal_id)
                )
            ).all()
        )
    counts: dict[int, int] = defaultdict(int)
    holds, sold, held = set(), 0, 0
    for order_id, customer, quantity, status in orders:
        kept = quantity - int(refunded.get(order_id) or 0)
        if status == "pending_payment":
            holds.add(order_id)
            counts[customer] += quantity
            held += quantity if deal.stock_policy == "hold" else 0
        elif status in ("paid", "partially_refunded", "refunded"):
            counts[customer] += kept
            sold += kept
    return DealState(
        deal.stock - sold - held, frozenset(holds), {c: n for c, n in counts.items() if n}
    )


async def redis_state(services: Services, deal_id: int) -> DealState:
    keys = DealKeys(deal_id)
    stock = await services.redis.hget(keys.state, "stock")  # type: ignore[misc]
    holds = await services.redis.hkeys(keys.holds)  # type: ignore[misc]
    counts = await services.redis.hgetall(keys.buyers)  # type: ignore[misc]
    return DealState(
        int(stock),
        frozenset(h.decode() for h in holds),
        {int(c): int(n) for c, n in counts.items() if int(n)},
    )
