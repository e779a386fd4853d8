"""Unpaid orders expire at their pay-by time and give their units back.

Two triggers, one effect: the arq job scheduled for each order when it reaches the database
(orders/persister.py), and a periodic SQL sweep, the backstop for jobs arq lost (it runs a
job at least once, and can lose jobs with Redis). Both call `expire_order`, a guarded
transition (`WHERE status = 'pending_payment'`), so running it twice has the effect of once;
the units go back through the release script, which runs once per hold.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult

from orders import announce, scripts
from orders.announce import Rooms
from orders.keys import DealKeys
from orders.models import Deal, Order, OrderEvent
from orders.statuses import OrderStatus
from server.model_base import utcnow
from server.services import Services

SWEEP_BATCH = 500


async def expire_order(services: Services, order_id: str, *, rooms: Rooms) -> bool:
    """Expire one unpaid order past its pay-by time; True if this call expired it."""
    now = utcnow()
    async with services.sessionmaker() as session, session.begin():
        changed = await session.execute(
            update(Order)
            .where(
                Order.id == order_id,
                Order.status == OrderStatus.PENDING_PAYMENT,
                Order.pay_by <= now,
            )
            .values(status=OrderStatus.EXPIRED, closed_at=now)
        )
        if cast(CursorResult[Any], changed).rowcount != 1:
            return False
        session.add(OrderEvent(order_id=order_id, kind="expired", at=now))
        row = (
            await session.execute(
                select(Order.deal_id, Deal.broadcast_id)
                .join(Deal, Deal.id == Order.deal_id)
                .where(Order.id == order_id)
            )
        ).one()
    deal_id, broadcast_id = row
    keys = DealKeys(deal_id)
    left = await scripts.RELEASE(
        keys=[keys.state, keys.buyers, keys.holds], args=[order_id], client=services.redis
    )
    if left is not None:
        await announce.stock(rooms, broadcast_id, deal_id, int(left))
    return True


async def sweep_expired(
    services: Services, grace: timedelta = timedelta(0), *, rooms: Rooms
) -> int:
    """Expire every unpaid order past its pay-by time (minus `grace`); returns how many."""
    expired = 0
    while True:
        async with services.sessionmaker() as session:
            due = list(
                await session.scalars(
                    select(Order.id)
                    .where(
                        Order.status == OrderStatus.PENDING_PAYMENT,
                        Order.pay_by <= utcnow() - grace,
                    )
                    .order_by(Order.pay_by)
                    .limit(SWEEP_BATCH)
                )
            )
        for order_id in due:
            expired += await expire_order(services, order_id, rooms=rooms)
        if len(due) < SWEEP_BATCH:
            return expired
