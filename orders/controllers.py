"""HTTP endpoints of orders/: orders and refunds, deals, payments (the notify URL, WeChat Pay's
prepay, the sandbox's pay link) and a room's order feed. Domain functions raise the error kinds
of server/errors.py; the app maps them to their status once."""

from __future__ import annotations

import time
from typing import Any

import msgspec
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.datastructures import State
from litestar.openapi import ResponseSpec
from litestar.params import JSONBody
from litestar.types import ControllerRouterHandler
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

import orders.coupons_controllers
import orders.deals_controllers
import orders.groups_controllers
import orders.on_behalf_controllers
from orders.deals import (
    DealNotFound,
    add_stock,
    create_deal,
    deal_snapshots,
    end_deal,
    launch_deal,
    stop_deal,
    to_ms,
)
from orders.deals_limits import StoreDealCheck
from orders.intake import take_order
from orders.keys import http_rate
from orders.models import Deal, Order, Refund
from orders.pay_links import pay_url
from orders.payments import MalformedNotification, SignatureError, handle_notification
from orders.prepay import prepay_params
from orders.refunds import refund_order
from orders.runtime import OrdersRuntime
from orders.sales_feed import RoomOrders, room_orders
from orders.sandbox import PAGE, PAID_OUTCOMES, PayToken, SandboxOrder, SandboxPayResult, payable
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
from orders.selling_rule import refusal_over_http
from orders.statuses import DealStatus, OrderStatus
from orders.wechatpay import JsapiPayParams
from server.auth import PUBLIC, Principal, Role, allow
from server.bounds import PathId, PathOrderId
from server.errors import ErrorBody, Forbidden, NotFound
from server.services import Services
from server.settings import Settings

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


class NoSuchRoom(NotFound):
    pass


class NoSuchOrder(NotFound):
    """No such order, or not one the caller may see."""


class NotYourRoom(Forbidden):
    pass


class NotYourDeal(Forbidden):
    pass


async def _over_rate(orders: OrdersRuntime, customer_id: int) -> bool:
    """A fixed one-second window per customer: one round trip, shared by every app node."""
    key = http_rate(customer_id, int(time.time()))
    async with orders.services.redis.pipeline(transaction=False) as pipe:
        pipe.incr(key)
        pipe.expire(key, 2)
        count, _ = await pipe.execute()
    return int(count) > HTTP_ORDERS_PER_SECOND


async def _read(db: AsyncSession, settings: Settings, orders: list[Order]) -> list[OrderRead]:
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
            pay_url=pay_url(settings, o.id) if o.status == OrderStatus.PENDING_PAYMENT else "",
        )
        for o in orders
    ]


async def _own_order(db: AsyncSession, caller: Principal, order_id: str) -> Order:
    """The order if the caller may see it: its customer, or HQ. Anyone else gets 404."""
    order = await db.get(Order, order_id)
    if order is None or (caller.role is not Role.HQ and order.customer_id != caller.sub):
        raise NoSuchOrder("no such order")
    return order


class OrderController(Controller):
    path = "/api/orders"
    tags = ("orders",)

    @post(opt=allow(Role.VIEWER), responses=REJECTION_RESPONSES)
    async def place_order(
        self,
        data: JSONBody[OrderCreate],
        caller: Principal,
        db: AsyncSession,
        orders: OrdersRuntime,
    ) -> Response[OrderAccepted | OrderRejected]:
        """Order from the mini-program's plain path: the same checks and script as the room
        socket."""
        if await _over_rate(orders, caller.sub):
            rejected = OrderRejected(
                data.idempotency_key, "rate_limited", "too many orders; slow down"
            )
            return Response(rejected, status_code=429)
        room = None
        if data.room_id is not None:
            room = await orders.selling_rooms.get(db, data.room_id)
            if room is None:
                raise NoSuchRoom(f"no room {data.room_id}")
        refusal = await refusal_over_http(db, orders.rooms, data.deal_id, room)
        if refusal is not None:
            rejected = OrderRejected(data.idempotency_key, "deal_not_live", refusal)
            return Response(rejected, status_code=REJECTION_STATUS.get("deal_not_live", 409))
        frame = OrderPlace(data.idempotency_key, data.deal_id, data.quantity, data.coupon_ids)
        reply = await take_order(orders, caller, room, frame)
        if isinstance(reply, OrderAccepted):
            return Response(reply, status_code=201)
        return Response(reply, status_code=REJECTION_STATUS.get(reply.reason, 409))

    @get("/mine", opt=allow(Role.VIEWER))
    async def my_orders(
        self, caller: Principal, db: AsyncSession, services: Services
    ) -> list[OrderRead]:
        """The signed-in customer's orders, newest first (orders reach this list within moments)."""
        mine = list(
            await db.scalars(
                select(Order)
                .where(Order.customer_id == caller.sub)
                .order_by(Order.id.desc())
                .limit(200)
            )
        )
        return await _read(db, services.settings, mine)

    @get("/{order_id:str}", opt=allow(Role.VIEWER, Role.HQ))
    async def read_order(
        self, order_id: PathOrderId, caller: Principal, db: AsyncSession, services: Services
    ) -> OrderRead:
        order = await _own_order(db, caller, order_id)
        return (await _read(db, services.settings, [order]))[0]

    @post("/{order_id:str}/refund", opt=allow(Role.VIEWER, Role.HQ), status_code=200)
    async def refund(
        self,
        order_id: PathOrderId,
        data: JSONBody[RefundCreate],
        caller: Principal,
        db: AsyncSession,
        orders: OrdersRuntime,
    ) -> RefundRead:
        """Refund a paid order, in full or some units: its customer or HQ."""
        async with db.begin():
            await _own_order(db, caller, order_id)
        done, news = await refund_order(orders.services, order_id, data.quantity, data.reason)
        await orders.rooms.publish(news)
        return msgspec.convert(done, RefundRead, from_attributes=True)


class PaymentController(Controller):
    path = "/api"
    tags = ("payments",)

    @post("/payments/notify", opt=PUBLIC, status_code=200, responses=NOTIFY_RESPONSES)
    async def payment_notify(
        self, request: Request[Any, Any, State], orders: OrdersRuntime
    ) -> Response[dict[str, str]]:
        """The provider's signed notification (WeChat Pay style); answers SUCCESS once handled."""
        body = await request.body()
        # The provider's protocol, not our error body: it reads `code` and retries on FAIL.
        try:
            result = await handle_notification(
                orders.services, orders.payments, request.headers, body
            )
        except SignatureError as exc:
            return Response({"code": "FAIL", "message": str(exc)}, status_code=401)
        except MalformedNotification as exc:
            return Response({"code": "FAIL", "message": str(exc)}, status_code=400)
        if not result.acknowledged:
            return Response({"code": "FAIL", "message": result.outcome}, status_code=409)
        return Response({"code": "SUCCESS", "message": result.outcome})

    @post("/orders/{order_id:str}/prepay", opt=allow(Role.VIEWER), status_code=200)
    async def prepay_order(
        self, order_id: str, caller: Principal, db: AsyncSession, orders: OrdersRuntime
    ) -> JsapiPayParams:
        """The signed `wx.requestPayment` parameters of the caller's own unpaid order (WeChat
        Pay only; asked again, WeChat Pay gives the same prepay order)."""
        return await prepay_params(orders.payments, db, caller, order_id)

    @get("/pay/sandbox/{order_id:str}", opt=allow(Role.VIEWER))
    async def sandbox_order(
        self,
        order_id: str,
        pay_token: PayToken,
        caller: Principal,
        db: AsyncSession,
        services: Services,
    ) -> SandboxOrder:
        """The sandbox pay page's view of the caller's own order (demo only)."""
        return await payable(services.settings, db, caller, order_id, pay_token)

    @post("/pay/sandbox/{order_id:str}", opt=allow(Role.VIEWER))
    async def sandbox_pay(
        self,
        order_id: str,
        pay_token: PayToken,
        caller: Principal,
        db: AsyncSession,
        orders: OrdersRuntime,
    ) -> Response[SandboxPayResult]:
        """The owner confirmed: the sandbox signs a notification for the order's amount and
        applies it like any other (200 when paid, 409 when the money goes back)."""
        order = await payable(orders.services.settings, db, caller, order_id, pay_token)
        headers, body = orders.sandbox.notification(order.order_id, order.amount_fen)
        result = await handle_notification(orders.services, orders.payments, headers, body)
        paid = result.outcome in PAID_OUTCOMES
        return Response(SandboxPayResult(result.outcome, paid), status_code=200 if paid else 409)


@get("/pay/sandbox/{order_id:str}", opt=PUBLIC, include_in_schema=False, media_type=MediaType.HTML)
async def sandbox_pay_page(order_id: str) -> str:
    """The page of a pay link. It holds nothing of the order: its script asks the API above
    with the viewer's own token and the link's pay token."""
    return PAGE


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
        presale=deal.presale,
    )


async def _deal_reply(db: AsyncSession, orders: OrdersRuntime, deal_id: int) -> DealRead:
    deal = await db.get(Deal, deal_id)
    if deal is None:
        raise DealNotFound(f"no deal {deal_id}")
    snapshot = (await deal_snapshots(orders.services.redis, db, [deal_id]))[deal_id]
    return _deal_read(deal, snapshot.stock_left, snapshot.status)


async def _check_deal_control(
    db: AsyncSession, orders: OrdersRuntime, caller: Principal, deal_id: int
) -> None:
    """HQ runs every deal; a store host launches and stops the deals of their store's room.
    Read in a transaction of its own, ended before the deal's own."""
    async with db.begin():
        deal = await db.get(Deal, deal_id)
        if deal is None:
            raise DealNotFound(f"no deal {deal_id}")
        if caller.role is Role.HQ:
            return
        store = (
            await orders.rooms.store_of_broadcast(db, deal.broadcast_id)
            if deal.broadcast_id
            else None
        )
    if store is None or store != caller.store_id:
        raise NotYourDeal("only HQ runs this deal")


class DealController(Controller):
    path = "/api/deals"
    tags = ("deals",)

    @post(opt=allow(Role.HQ, Role.HOST))
    async def plan_deal(
        self,
        data: JSONBody[DealCreate],
        caller: Principal,
        db: AsyncSession,
        orders: OrdersRuntime,
    ) -> DealRead:
        """HQ plans a deal (flash sale, group-buy, pack...) on a product; a store host, on
        their store's own items within HQ's limits (`/api/deal-limits`). It sells once
        launched."""
        check = StoreDealCheck(caller, orders.rooms) if caller.role is Role.HOST else None
        deal = await create_deal(db, data, rooms=orders.rooms, check=check)
        return _deal_read(deal, deal.stock)

    @post("/{deal_id:int}/stock", opt=allow(Role.HQ), status_code=200)
    async def deal_add_stock(
        self,
        deal_id: PathId,
        data: JSONBody[StockAdd],
        caller: Principal,
        db: AsyncSession,
        orders: OrdersRuntime,
    ) -> DealRead:
        """HQ adds units to a deal; a running deal sells them at once."""
        await _check_deal_control(db, orders, caller, deal_id)
        _, news = await add_stock(db, orders.services.redis, deal_id, data.units)
        await orders.rooms.publish(news)
        return await _deal_reply(db, orders, deal_id)

    @post("/{deal_id:int}/launch", opt=allow(Role.HQ, Role.HOST), status_code=200)
    async def deal_launch(
        self, deal_id: PathId, caller: Principal, db: AsyncSession, orders: OrdersRuntime
    ) -> DealRead:
        await _check_deal_control(db, orders, caller, deal_id)
        _, news = await launch_deal(db, orders.services.redis, deal_id)
        await orders.rooms.publish(news)
        return await _deal_reply(db, orders, deal_id)

    @post("/{deal_id:int}/stop", opt=allow(Role.HQ, Role.HOST), status_code=200)
    async def deal_stop(
        self, deal_id: PathId, caller: Principal, db: AsyncSession, orders: OrdersRuntime
    ) -> DealRead:
        await _check_deal_control(db, orders, caller, deal_id)
        _, news = await stop_deal(db, orders.services.redis, deal_id)
        await orders.rooms.publish(news)
        return await _deal_reply(db, orders, deal_id)

    @post("/{deal_id:int}/end", opt=allow(Role.HQ, Role.HOST), status_code=200)
    async def deal_end(
        self, deal_id: PathId, caller: Principal, db: AsyncSession, orders: OrdersRuntime
    ) -> DealRead:
        """End a deal for good (a store deal gives its units back to the store's share)."""
        await _check_deal_control(db, orders, caller, deal_id)
        _, news = await end_deal(db, orders.services.redis, deal_id)
        await orders.rooms.publish(news)
        return await _deal_reply(db, orders, deal_id)

    @get("/{deal_id:int}", opt=allow(*Role))
    async def read_deal(self, deal_id: PathId, db: AsyncSession, orders: OrdersRuntime) -> DealRead:
        return await _deal_reply(db, orders, deal_id)


class RoomOrderController(Controller):
    path = "/api/rooms/{room_id:int}/orders"
    tags = ("orders",)

    @get(opt=allow(Role.HQ, Role.HOST))
    async def room_order_feed(
        self, room_id: PathId, caller: Principal, db: AsyncSession, orders: OrdersRuntime
    ) -> RoomOrders:
        """Orders landing in this room, newest first, and its totals (host console)."""
        room = await orders.rooms.room(db, room_id)
        if room is None:
            raise NoSuchRoom("no such room")
        if not caller.may_act_for_store(room.store_id):  # HQ, or the host of this room's store
            raise NotYourRoom("this room belongs to another store")
        return await room_orders(
            db, await orders.rooms.broadcasts_selling_in(db, room.broadcast_id)
        )


ROUTES: list[ControllerRouterHandler] = [
    RoomOrderController,
    OrderController,
    PaymentController,
    sandbox_pay_page,
    DealController,
    *orders.groups_controllers.ROUTES,
    *orders.coupons_controllers.ROUTES,
    *orders.on_behalf_controllers.ROUTES,
    *orders.deals_controllers.ROUTES,
]
"""orders/' HTTP routes, as the app registers them."""
