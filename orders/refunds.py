"""Refunds of paid orders, in full or per unit. The refund id derives from the order id and
the units refunded so far, so a refund asked twice (or by two callers at once) is written
once; the sale credit is reversed and the money queued in the refund outbox in the same
transaction (the worker sends it, orders/refund_sender.py), and the units go back to the deal
if it still sells."""

from __future__ import annotations

from typing import Any, cast

import msgspec
from sqlalchemy import func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.care import cancel_care
from attribution.credit import reverse_credit
from orders import coupons, scripts
from orders.keys import DealKeys
from orders.models import Deal, Order, OrderEvent, Refund, RefundRequest
from orders.rooms_port import RoomNews, stock_left
from orders.statuses import REFUNDABLE, OrderStatus
from server.errors import Conflict
from server.model_base import utcnow
from server.services import Services


class RefundError(Conflict):
    """The order cannot be refunded as asked; the message says why."""


class RefundDone(msgspec.Struct, frozen=True):
    refund_id: str
    order_id: str
    quantity: int
    amount_fen: int
    order_status: OrderStatus


async def refunded_units(session: AsyncSession, order_id: str) -> int:
    return int(
        await session.scalar(
            select(func.coalesce(func.sum(Refund.quantity), 0)).where(Refund.order_id == order_id)
        )
        or 0
    )


async def refund_order(
    services: Services,
    order_id: str,
    quantity: int | None = None,
    reason: str = "customer_request",
) -> tuple[RefundDone, list[RoomNews]]:
    """Refund `quantity` units of a paid order (all that remain when None); with the news
    of the units back in the deal's stock."""
    try:
        async with services.sessionmaker() as session, session.begin():
            order = await session.get(Order, order_id, with_for_update=True)
            if order is None:
                raise RefundError("no such order")
            if order.status not in REFUNDABLE:
                raise RefundError(f"an order that is {order.status} cannot be refunded")
            if await coupons.pack_spent(session, order.id):
                raise RefundError("a coupon of this pack is spent: the pack cannot be refunded")
            before = await refunded_units(session, order_id)
            remaining = order.quantity - before
            units = remaining if quantity is None else quantity
            if not 1 <= units <= remaining:
                raise RefundError(f"quantity must be 1-{remaining}")
            after = before + units
            refund_id = f"{order.id}-u{after}"
            amount = order.unit_price_fen * units - order.discount_fen * units // order.quantity
            status = (
                OrderStatus.REFUNDED if after == order.quantity else OrderStatus.PARTIALLY_REFUNDED
            )
            changed = await session.execute(
                update(Order)
                .where(Order.id == order.id, Order.status.in_(REFUNDABLE))
                .values(
                    status=status, closed_at=utcnow() if status == OrderStatus.REFUNDED else None
                )
            )
            if cast(CursorResult[Any], changed).rowcount != 1:
                raise RefundError("the order changed; try again")
            session.add(
                Refund(
                    id=refund_id,
                    order_id=order.id,
                    quantity=units,
                    amount_fen=amount,
                    reason=reason[:64],
                )
            )
            session.add(
                RefundRequest(
                    id=refund_id, order_id=order.id, amount_fen=amount, reason=reason[:64]
                )
            )
            session.add(
                OrderEvent(
                    order_id=order.id,
                    kind="refunded",
                    data={"refund_id": refund_id, "quantity": units},
                )
            )
            await reverse_credit(session, order_id=order.id, refund_id=refund_id, amount_fen=amount)
            await cancel_care(session, order.id, utcnow())
            freed: list[int] = []
            voided: list[int] = []
            if status == OrderStatus.REFUNDED:  # the coupons come back with the last unit
                _, freed = await coupons.give_back(session, order.id, valid_at=utcnow())
                voided = await coupons.void_pack(session, order.id, utcnow())
            deal = await session.get(Deal, order.deal_id)
            customer_id, deal_id = order.customer_id, order.deal_id
            broadcast_id = deal.broadcast_id if deal else None
    except IntegrityError:  # the same refund, written by a concurrent request
        async with services.sessionmaker() as session:
            order = await session.get(Order, order_id)
            refund = await session.scalar(
                select(Refund).where(Refund.order_id == order_id).order_by(Refund.created_at.desc())
            )
            if order is None or refund is None:
                raise
            done = RefundDone(refund.id, order_id, refund.quantity, refund.amount_fen, order.status)
            return done, []
    await coupons.mirror_give_back(services.redis, customer_id, order_id, freed)
    await coupons.mirror_void(services.redis, customer_id, voided)
    keys = DealKeys(deal_id)
    left = await scripts.RESTOCK(
        keys=[keys.state, keys.restocked, keys.buyers],
        args=[refund_id, units, customer_id],
        client=services.redis,
    )
    done = RefundDone(refund_id, order_id, units, amount, status)
    return done, stock_left(broadcast_id, deal_id, left)
