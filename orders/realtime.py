"""The room socket's order path: live/'s gateway hands us a viewer's order.place frame."""

from __future__ import annotations

from orders.announce import SellingRoom
from orders.intake import Accepted, IntakeRequest, place_order
from orders.payments import pay_url
from orders.runtime import OrdersRuntime
from orders.schemas import OrderAccepted, OrderPlace, OrderRejected
from server.auth import Principal, Role


def request_from(
    principal: Principal, room: SellingRoom | None, frame: OrderPlace
) -> IntakeRequest:
    return IntakeRequest(
        customer_id=principal.sub,
        deal_id=frame.deal_id,
        quantity=frame.quantity,
        idempotency_key=frame.idempotency_key,
        coupon_ids=tuple(frame.coupon_ids),
        broadcast_id=room.broadcast_id if room else None,
        hub_broadcast_id=room.hub_broadcast_id if room else None,
        # Outside a room (the mini-program's plain path) the sale counts for the home store.
        room_store_id=room.store_id if room else principal.store_id,
    )


async def take_order(
    runtime: OrdersRuntime, principal: Principal, room: SellingRoom | None, frame: OrderPlace
) -> OrderAccepted | OrderRejected:
    """Both entries (socket and HTTP) come here: checks, the reserve script, the reply."""
    if principal.role is not Role.VIEWER:
        return OrderRejected(frame.idempotency_key, "forbidden", "only customers place orders")
    if room is None and principal.store_id is None:
        return OrderRejected(
            frame.idempotency_key, "invalid_request", "room_id is needed: no store to credit"
        )
    request = request_from(principal, room, frame)
    outcome = await place_order(runtime.intake, request)
    if not isinstance(outcome, Accepted):
        return OrderRejected(frame.idempotency_key, outcome.reason, outcome.detail)
    notices = runtime.notices
    if notices and not outcome.repeated:
        notices.order_accepted(
            deal_id=request.deal_id,
            broadcast_id=request.broadcast_id,
            room_store_id=request.room_store_id,
            customer_id=request.customer_id,
        )
    return OrderAccepted(
        idempotency_key=frame.idempotency_key,
        order_id=outcome.order_id,
        amount_due_fen=outcome.amount_fen,
        pay_by=outcome.pay_by_iso,
        pay_url=pay_url(runtime.services.settings, outcome.order_id),
    )


async def handle_order_frame(
    runtime: OrdersRuntime, principal: Principal, room: SellingRoom, frame: OrderPlace
) -> OrderAccepted | OrderRejected:
    """The live gateway calls this for every order.place it lets through its rate limit."""
    return await take_order(runtime, principal, room, frame)
