"""Orders on behalf (代客下单): a guide builds an order for a customer who asked in chat.

It rides the one intake: the reserve script holds the units for the hold time asked (not the
room's pay window), the order records the guide (`placed_by_guide_id`), and the existing
expiry gives the units back if the customer never pays. The customer opens the link the
guide sends (the order id and its pay-link token, orders/pay_links.py), confirms, and pays.
"""

from __future__ import annotations

from datetime import UTC
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.queries import customer_profile, guide_names, guide_store
from orders.deals import deal_terms
from orders.intake import Accepted, IntakeRequest, OrderIntake, place_order
from orders.models import Order, OrderEvent, Product
from orders.on_behalf_schemas import OnBehalfCreate, OnBehalfPlaced, OnBehalfView
from orders.pay_links import pay_token, pay_token_matches, pay_url
from orders.statuses import OrderStatus
from server.auth import Principal, Role
from server.errors import Conflict, Forbidden, Invalid, NotFound
from server.services import Services
from server.settings import Settings

CONFIRMED = "confirmed"


class OnBehalfRefused(Conflict):
    """The intake refused the order (sold out, a coupon that does not apply, ...)."""


class NotYetWritten(Conflict):
    """The order was taken a moment ago and is not in the database yet."""


def confirm_url(settings: Settings, order_id: str) -> str:
    base = settings.public_url.rstrip("/")
    return f"{base}/static/on-behalf.html?order={quote(order_id)}&token={pay_token(settings, order_id)}"


async def place_for_customer(
    intake: OrderIntake, db: AsyncSession, caller: Principal, data: OnBehalfCreate
) -> OnBehalfPlaced:
    guide_id = caller.sub if caller.role is Role.GUIDE else data.guide_id
    if guide_id is None:
        raise Invalid("guide_id: name the guide the customer asked")
    store = await guide_store(db, guide_id)
    customer = await customer_profile(db, data.customer_id)
    terms = await deal_terms(db, data.deal_id)
    await db.rollback()  # end the reads; the intake does not wait on SQL
    if store is None or store != caller.store_id:
        raise Forbidden("the guide is not one of your store's")
    if customer is None:
        raise NotFound(f"no customer {data.customer_id}")
    if terms is None:
        raise NotFound(f"no deal {data.deal_id}")
    request = IntakeRequest(
        customer_id=data.customer_id,
        deal_id=data.deal_id,
        quantity=data.quantity,
        idempotency_key=data.idempotency_key,
        coupon_ids=tuple(data.coupon_ids),
        # Sold where the deal sells: the guide builds the order its broadcast's rooms take.
        broadcast_id=terms.broadcast_id,
        room_store_id=store,
        placed_by_guide_id=guide_id,
        pay_within_s=data.hold_minutes * 60,
    )
    outcome = await place_order(intake, request)
    services = intake.services
    if not isinstance(outcome, Accepted):
        raise OnBehalfRefused(f"{outcome.reason}: {outcome.detail}")
    return OnBehalfPlaced(
        order_id=outcome.order_id,
        amount_due_fen=outcome.amount_fen,
        pay_by=outcome.pay_by_iso,
        confirm_url=confirm_url(services.settings, outcome.order_id),
    )


async def _linked_order(
    services: Services, db: AsyncSession, caller: Principal, order_id: str, token: str
) -> Order:
    """The on-behalf order the link names, for its own customer only."""
    if not pay_token_matches(services.settings, order_id, token):
        raise NotFound("no such order")
    order = await db.get(Order, order_id)
    if order is None:
        raise NotYetWritten("the order is on its way; open the link again in a moment")
    if order.customer_id != caller.sub or order.placed_by_guide_id is None:
        raise NotFound("no such order")
    return order


async def _view(services: Services, db: AsyncSession, order: Order) -> OnBehalfView:
    product = await db.get(Product, order.product_id)
    assert order.placed_by_guide_id is not None
    guide = (await guide_names(db, [order.placed_by_guide_id])).get(order.placed_by_guide_id, "")
    confirmed = (
        await db.scalar(
            select(OrderEvent.id).where(
                OrderEvent.order_id == order.id, OrderEvent.kind == CONFIRMED
            )
        )
        is not None
    )
    waiting = order.status == OrderStatus.PENDING_PAYMENT
    return OnBehalfView(
        order_id=order.id,
        product_name=product.name if product else "",
        product_name_en=product.name_en if product else "",
        image_url=product.image_url if product else "",
        quantity=order.quantity,
        unit_price_fen=order.unit_price_fen,
        discount_fen=order.discount_fen,
        amount_fen=order.amount_fen,
        status=order.status,
        pay_by=order.pay_by.astimezone(UTC).isoformat(),
        guide_name=guide,
        confirmed=confirmed,
        pay_url=pay_url(services.settings, order.id) if confirmed and waiting else "",
    )


async def read_linked(
    services: Services, db: AsyncSession, caller: Principal, order_id: str, token: str
) -> OnBehalfView:
    order = await _linked_order(services, db, caller, order_id, token)
    return await _view(services, db, order)


async def confirm(
    services: Services, db: AsyncSession, caller: Principal, order_id: str, token: str
) -> OnBehalfView:
    """The customer agrees to the order the guide built; then it can be paid. Once."""
    async with db.begin():
        order = await _linked_order(services, db, caller, order_id, token)
        if order.status != OrderStatus.PENDING_PAYMENT:
            raise Conflict(f"the order is {order.status}")
        seen = await db.scalar(
            select(OrderEvent.id).where(
                OrderEvent.order_id == order.id, OrderEvent.kind == CONFIRMED
            )
        )
        if seen is None:
            db.add(OrderEvent(order_id=order.id, kind=CONFIRMED))
    return await _view(services, db, order)
