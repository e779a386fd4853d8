"""How the mini-program pays with WeChat Pay: it asks for the JSAPI parameters of its own
order and hands them to `wx.requestPayment`; WeChat Pay then sends the signed notice to
the notify URL, which marks the order paid (orders/payments.py)."""

from __future__ import annotations

from litestar import Request, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.exceptions import ClientException, NotFoundException, ServiceUnavailableException
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.queries import openid_of
from orders.models import Order, Product
from orders.payments import configured_provider
from orders.statuses import OrderStatus
from orders.wechatpay import JsapiPayParams, WechatPayError, WechatPayProvider
from server.auth import Principal, Role, allow
from server.services import Services


@post(
    "/api/orders/{order_id:str}/prepay",
    opt=allow(Role.VIEWER),
    tags=["payments"],
    status_code=200,
)
async def prepay_order(
    order_id: str, request: Request[Principal, str, State], db: NamedDependency[AsyncSession]
) -> JsapiPayParams:
    """The signed `wx.requestPayment` parameters of the caller's own unpaid order (WeChat Pay
    only; asked again, WeChat Pay gives the same prepay order)."""
    services: Services = request.app.state.services
    provider = configured_provider(services)
    if not isinstance(provider, WechatPayProvider):
        raise NotFoundException("WeChat Pay is not configured")
    row = (
        await db.execute(
            select(Order.customer_id, Order.amount_fen, Order.status, Product.name)
            .join(Product, Product.id == Order.product_id)
            .where(Order.id == order_id)
        )
    ).first()
    if row is None or row.customer_id != request.user.sub:
        raise NotFoundException("no such order")
    if row.status != OrderStatus.PENDING_PAYMENT:
        raise ClientException(f"the order is {row.status}", status_code=409)
    openid = await openid_of(db, request.user.sub)
    await db.rollback()  # end the read before the call out
    if not openid:
        raise ClientException("this customer has no mini-program openid", status_code=409)
    try:
        return await provider.prepay(order_id, row.amount_fen, openid, row.name)
    except WechatPayError as exc:
        raise ServiceUnavailableException(f"WeChat Pay: {exc.code}") from exc


ROUTES = [prepay_order]
