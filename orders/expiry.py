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

import msgspec
from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult

from orders import coupons, scripts
from orders.groups_settle import release_seat
from orders.groups_terms import GROUP_KIND
from orders.keys import DealKeys
from orders.models import Deal, Order, OrderEvent
from orders.rooms_port import RoomNews, Rooms, stock_left
from orders.statuses import OrderStatus
from server.model_base import utcnow
from server.services import Services

SWEEP_BATCH = 500


class Expired(msgspec.Struct, frozen=True):
    order_id: str
    news: list[RoomNews]
    """The units given back, for the rooms."""


async def expire_order(services: Services, order_id: str) -> Expired | None:
    """Expire one unpaid order past its pay-by time; None unless this call expired it."""
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
            return None
        session.add(OrderEvent(order_id=order_id, kind="expired", at=now))
        customer_id, freed = await coupons.give_back(session, order_id)
        row = (
            await session.execute(
                select(
                    Order.deal_id,
                    Deal.broadcast_id,
                    Deal.kind,
                    Order.customer_id,
                    Order.room_store_id,
                    Order.quantity,
                )
                .join(Deal, Deal.id == Order.deal_id)
                .where(Order.id == order_id)
            )
        ).one()
    deal_id, broadcast_id, kind, customer_id, room_store_id, quantity = row
    keys = DealKeys(deal_id)
    left = await scripts.RELEASE(
        keys=[keys.state, keys.buyers, keys.holds], args=[order_id], client=services.redis
    )
    if kind == GROUP_KIND:
        await release_seat(services.redis, deal_id, order_id, customer_id)
    await coupons.mirror_give_back(services.redis, customer_id, order_id, freed)
    if left is not None and kind == coupons.KIND:
        await coupons.release_store_claim(services.redis, deal_id, room_store_id, quantity)
    return Expired(order_id, stock_left(broadcast_id, deal_id, left))


async def sweep_expired(
    services: Services, grace: timedelta = timedelta(0), *, rooms: Rooms
) -> int:
    """Expire every unpaid order past its pay-by time (minus `grace`); returns how many.
    Each expiry's news goes to the rooms after its own commit."""
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
            done = await expire_order(services, order_id)
            if done is not None:
                expired += 1
                await rooms.publish(done.news)
        if len(due) < SWEEP_BATCH:
            return expired
