"""HTTP endpoints of orders/: place and read orders, refunds, the payment notify URL, the
sandbox's routes (orders/sandbox.py), and HQ's deal planning."""

from __future__ import annotations

import time
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.exceptions import ClientException, NotFoundException, PermissionDeniedException
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import ResponseSpec
from litestar.params import JSONBody
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

import orders.coupons_controllers
import orders.groups_controllers
import orders.on_behalf_controllers
import orders.prepay
import orders.sandbox
from orders.deals import (
    DealError,
    DealNotFound,
    add_stock,
    create_deal,
    deal_snapshots,
    launch_deal,
    stop_deal,
    to_ms,
)
from orders.intake import take_order
from orders.keys import http_rate
from orders.models import Deal, Order, Refund
from orders.pay_links import pay_url
from orders.payments import MalformedNotification, SignatureError, handle_notification
from orders.refunds import RefundError, refund_order
from orders.rooms_port import Rooms, SellingRoom
from orders.sales_feed import room_order_feed
from orders.schemas import (
    DealCreate,
    DealRead,
    OrderAccepted,
    OrderCreate,
    OrderPlace,
    OrderRead,
    OrderRejected,
    RefundCreate,
    RefundRead,
    StockAdd,
)
from orders.statuses import DealStatus, OrderStatus
from server.auth import PUBLIC, Principal, Role, allow
from server.bounds import PathId, PathOrderId
from server.errors import ErrorBody
from server.services import Services

ROOM_CACHE_S = 5.0
"""A room's broadcast and store do not change while it is live; the HTTP order path reads
them at most this often per room and process instead of once per order."""
HTTP_ORDERS_PER_SECOND = 5
"""Orders one customer may send over HTTP per second; the room socket has its own limit
(live/ratelimit.py). A person taps a few times a second at most; a script is refused."""
REJECTION_RESPONSES = {
    status: ResponseSpec(
        OrderRejected | ErrorBody,
        generate_examples=False,
        description="An order.rejected body (`reason` says why), or the API's error body "
        "for a request that never reached the order checks",
    )
    for status in (400, 403, 404, 409, 429)
}
NOTIFY_RESPONSES = {
    status: ResponseSpec(
        dict[str, str], generate_examples=False, description="FAIL and why, as the provider expects"
    )
    for status in (400, 401, 409)
}
REJECTION_STATUS = {
    "rate_limited": 429,
    "invalid_quantity": 400,
    "invalid_request": 400,
    "invalid_coupon": 400,
    "unknown_deal": 404,
    "forbidden": 403,
}


async def _room(
    services: Services, rooms: Rooms, db: AsyncSession, room_id: int
) -> SellingRoom | None:
    cache: dict[int, tuple[float, SellingRoom | None]] = services.extras.setdefault(
        "orders.rooms", {}
    )
    hit = cache.get(room_id)
    if hit and time.monotonic() - hit[0] < ROOM_CACHE_S:
        return hit[1]
    room = await rooms.room(db, room_id)
    await db.rollback()  # end the read, so the session holds no lock (SQLite)
    cache[room_id] = (time.monotonic(), room)
    return room


async def _over_rate(services: Services, customer_id: int) -> bool:
    """A fixed one-second window per customer: one round trip, shared by every app node."""
    key = http_rate(customer_id, int(time.time()))
    async with services.redis.pipeline(transaction=False) as pipe:
        pipe.incr(key)
        pipe.expire(key, 2)
        count, _ = await pipe.execute()
    return int(count) > HTTP_ORDERS_PER_SECOND


@post("/api/orders", opt=allow(Role.VIEWER), tags=["orders"], responses=REJECTION_RESPONSES)
async def place_order(
    data: JSONBody[OrderCreate],
    request: Request[Principal, str, State],
    db: NamedDependency[AsyncSession],
    rooms: NamedDependency[Rooms],
) -> Response[OrderAccepted | OrderRejected]:
    """Order from the mini-program's plain path: the same checks and script as the room socket."""
    services: Services = request.app.state.services
    if await _over_rate(services, request.user.sub):
        rejected = OrderRejected(data.idempotency_key, "rate_limited", "too many orders; slow down")
        return Response(rejected, status_code=429)
    room = None
    if data.room_id is not None:
        room = await _room(services, rooms, db, data.room_id)
        if room is None:
            raise NotFoundException(f"no room {data.room_id}")
    frame = OrderPlace(data.idempotency_key, data.deal_id, data.quantity, data.coupon_ids)
    reply = await take_order(services, request.user, room, frame)
    if isinstance(reply, OrderAccepted):
        return Response(reply, status_code=201)
    return Response(reply, status_code=REJECTION_STATUS.get(reply.reason, 409))


async def _read(db: AsyncSession, services: Services, orders: list[Order]) -> list[OrderRead]:
    if not orders:
        return []
    refunded = dict(
        (
            await db.execute(
                select(Refund.order_id, func.sum(Refund.quantity))
                .where(Refund.order_id.in_([o.id for o in orders]))
                .group_by(Refund.order_id)
            )
        ).all()
    )
    return [
        OrderRead(
            id=o.id,
            deal_id=o.deal_id,
            product_id=o.product_id,
            quantity=o.quantity,
            unit_price_fen=o.unit_price_fen,
            amount_fen=o.amount_fen,
            status=o.status,
            accepted_at=o.accepted_at.isoformat(),
            pay_by=o.pay_by.isoformat(),
            refunded_quantity=int(refunded.get(o.id) or 0),
            paid_at=o.paid_at.isoformat() if o.paid_at else None,
            pay_url=(
                pay_url(services.settings, o.id) if o.status == OrderStatus.PENDING_PAYMENT else ""
            ),
        )
        for o in orders
    ]


@get("/api/orders/mine", opt=allow(Role.VIEWER), tags=["orders"])
async def my_orders(
    request: Request[Principal, str, State], db: NamedDependency[AsyncSession]
) -> list[OrderRead]:
    """The signed-in customer's orders, newest first (orders reach this list within moments)."""
    orders = list(
        await db.scalars(
            select(Order)
            .where(Order.customer_id == request.user.sub)
            .order_by(Order.id.desc())
            .limit(200)
        )
    )
    return await _read(db, request.app.state.services, orders)


async def _own_order(db: AsyncSession, principal: Principal, order_id: str) -> Order:
    """The order if the caller may see it: its customer, or HQ. Anyone else gets 404."""
    order = await db.get(Order, order_id)
    if order is None or (principal.role is not Role.HQ and order.customer_id != principal.sub):
        raise NotFoundException("no such order")
    return order


@get("/api/orders/{order_id:str}", opt=allow(Role.VIEWER, Role.HQ), tags=["orders"])
async def read_order(
    order_id: PathOrderId,
    request: Request[Principal, str, State],
    db: NamedDependency[AsyncSession],
) -> OrderRead:
    order = await _own_order(db, request.user, order_id)
    return (await _read(db, request.app.state.services, [order]))[0]


@post(
    "/api/orders/{order_id:str}/refund",
    opt=allow(Role.VIEWER, Role.HQ),
    tags=["orders"],
    status_code=200,
)
async def refund(
    order_id: PathOrderId,
    data: JSONBody[RefundCreate],
    request: Request[Principal, str, State],
    db: NamedDependency[AsyncSession],
    rooms: NamedDependency[Rooms],
) -> RefundRead:
    """Refund a paid order, in full or some units: its customer or HQ."""
    await _own_order(db, request.user, order_id)
    await db.rollback()
    try:
        done, news = await refund_order(
            request.app.state.services, order_id, data.quantity, data.reason
        )
    except RefundError as exc:
        raise ClientException(str(exc), status_code=409) from exc
    await rooms.publish(news)
    return RefundRead(
        done.refund_id, done.order_id, done.quantity, done.amount_fen, done.order_status
    )


@post(
    "/api/payments/notify",
    opt=PUBLIC,
    tags=["payments"],
    status_code=200,
    responses=NOTIFY_RESPONSES,
)
async def payment_notify(request: Request[Any, Any, State]) -> Response[dict[str, str]]:
    """The provider's signed notification (WeChat Pay style); answers SUCCESS once handled."""
    body = await request.body()
    try:
        result = await handle_notification(request.app.state.services, request.headers, body)
    except SignatureError as exc:
        return Response({"code": "FAIL", "message": str(exc)}, status_code=401)
    except MalformedNotification as exc:
        return Response({"code": "FAIL", "message": str(exc)}, status_code=400)
    if not result.acknowledged:
        return Response({"code": "FAIL", "message": result.outcome}, status_code=409)
    return Response({"code": "SUCCESS", "message": result.outcome})


def _deal_read(deal: Deal, left: int, status: DealStatus | None = None) -> DealRead:
    return DealRead(
        id=deal.id,
        kind=deal.kind,
        status=status or deal.status,
        product_id=deal.product_id,
        broadcast_id=deal.broadcast_id,
        price_fen=deal.price_fen,
        stock=deal.stock,
        stock_left=left,
        per_customer_limit=deal.per_customer_limit,
        stock_policy=deal.stock_policy,
        starts_at_ms=to_ms(deal.starts_at),
        ends_at_ms=to_ms(deal.ends_at),
    )


async def _deal_reply(db: AsyncSession, services: Services, deal_id: int) -> DealRead:
    snapshot = (await deal_snapshots(services.redis, db, [deal_id]))[deal_id]
    deal = await db.get(Deal, deal_id)
    assert deal is not None
    return _deal_read(deal, snapshot.stock_left, snapshot.status)


@post("/api/deals", opt=allow(Role.HQ), tags=["deals"])
async def plan_deal(
    data: JSONBody[DealCreate],
    db: NamedDependency[AsyncSession],
    rooms: NamedDependency[Rooms],
) -> DealRead:
    """HQ plans a deal (flash sale, ...) on a product; it sells once launched."""
    try:
        deal = await create_deal(db, data, rooms=rooms)
    except DealError as exc:
        raise ClientException(str(exc)) from exc
    return _deal_read(deal, deal.stock)


async def _check_deal_control(
    db: AsyncSession, rooms: Rooms, principal: Principal, deal_id: int
) -> None:
    """HQ runs every deal; a store host launches and stops the deals of their store's room."""
    deal = await db.get(Deal, deal_id)
    if deal is None:
        raise NotFoundException(f"no deal {deal_id}")
    if principal.role is Role.HQ:
        return
    store = await rooms.store_of_broadcast(db, deal.broadcast_id) if deal.broadcast_id else None
    await db.rollback()  # end the read before the deal's own transaction
    if store is None or store != principal.store_id:
        raise PermissionDeniedException("only HQ runs this deal")


async def _deal_action(
    request: Request[Principal, str, State],
    db: AsyncSession,
    rooms: Rooms,
    deal_id: PathId,
    action: str,
    units: int = 0,
) -> DealRead:
    services: Services = request.app.state.services
    await _check_deal_control(db, rooms, request.user, deal_id)
    try:
        if action == "launch":
            _, news = await launch_deal(db, services.redis, deal_id)
        elif action == "stop":
            _, news = await stop_deal(db, services.redis, deal_id)
        else:
            _, news = await add_stock(db, services.redis, deal_id, units)
    except DealNotFound as exc:
        raise NotFoundException(str(exc)) from exc
    except DealError as exc:
        raise ClientException(str(exc), status_code=409) from exc
    await rooms.publish(news)
    return await _deal_reply(db, services, deal_id)


@post("/api/deals/{deal_id:int}/stock", opt=allow(Role.HQ), tags=["deals"], status_code=200)
async def deal_add_stock(
    deal_id: PathId,
    data: JSONBody[StockAdd],
    request: Request[Principal, str, State],
    db: NamedDependency[AsyncSession],
    rooms: NamedDependency[Rooms],
) -> DealRead:
    """HQ adds units to a deal; a running deal sells them at once."""
    return await _deal_action(request, db, rooms, deal_id, "stock", data.units)


@post(
    "/api/deals/{deal_id:int}/launch",
    opt=allow(Role.HQ, Role.HOST),
    tags=["deals"],
    status_code=200,
)
async def deal_launch(
    deal_id: PathId,
    request: Request[Principal, str, State],
    db: NamedDependency[AsyncSession],
    rooms: NamedDependency[Rooms],
) -> DealRead:
    return await _deal_action(request, db, rooms, deal_id, "launch")


@post(
    "/api/deals/{deal_id:int}/stop", opt=allow(Role.HQ, Role.HOST), tags=["deals"], status_code=200
)
async def deal_stop(
    deal_id: PathId,
    request: Request[Principal, str, State],
    db: NamedDependency[AsyncSession],
    rooms: NamedDependency[Rooms],
) -> DealRead:
    return await _deal_action(request, db, rooms, deal_id, "stop")


@get("/api/deals/{deal_id:int}", opt=allow(*Role), tags=["deals"])
async def read_deal(
    deal_id: PathId, request: Request[Principal, str, State], db: NamedDependency[AsyncSession]
) -> DealRead:
    if await db.get(Deal, deal_id) is None:
        raise NotFoundException(f"no deal {deal_id}")
    return await _deal_reply(db, request.app.state.services, deal_id)


ROUTES: list[HTTPRouteHandler | type[Controller]] = [
    room_order_feed,
    place_order,
    my_orders,
    read_order,
    refund,
    payment_notify,
    *orders.sandbox.ROUTES,
    *orders.prepay.ROUTES,
    *orders.groups_controllers.ROUTES,
    plan_deal,
    deal_add_stock,
    deal_launch,
    deal_stop,
    read_deal,
    *orders.coupons_controllers.ROUTES,
    *orders.on_behalf_controllers.ROUTES,
]
