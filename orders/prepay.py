"""How the mini-program pays with WeChat Pay: it asks for the JSAPI parameters of its own
order and hands them to `wx.requestPayment`; WeChat Pay then sends the signed notice to
the notify URL, which marks the order paid (orders/payments.py)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.queries import openid_of
from orders.models import Order, Product
from orders.payments import PaymentProvider
from orders.statuses import OrderStatus
from orders.wechatpay import JsapiPayParams, WechatPayError, WechatPayProvider
from server.auth import Principal
from server.errors import Conflict, NotFound, Unavailable


class WechatPayOff(NotFound):
    """Another provider is configured: there is nothing to prepay with."""


class NotYours(NotFound):
    """No such order, or not the caller's."""


class NotPayable(Conflict):
    """The order is not waiting for payment, or its customer cannot pay in the mini-program."""


class WechatPayDown(Unavailable):
    """WeChat Pay refused or did not answer the prepay call."""


async def prepay_params(
    provider: PaymentProvider, db: AsyncSession, principal: Principal, order_id: str
) -> JsapiPayParams:
    """The signed `wx.requestPayment` parameters of the caller's own unpaid order (asked
    again, WeChat Pay gives the same prepay order)."""
    if not isinstance(provider, WechatPayProvider):
        raise WechatPayOff("WeChat Pay is not configured")
    async with db.begin():  # read, then end the transaction before the call out
        row = (
            await db.execute(
                select(Order.customer_id, Order.amount_fen, Order.status, Product.name)
                .join(Product, Product.id == Order.product_id)
                .where(Order.id == order_id)
            )
        ).first()
        if row is None or row.customer_id != principal.sub:
            raise NotYours("no such order")
        if row.status != OrderStatus.PENDING_PAYMENT:
            raise NotPayable(f"the order is {row.status}")
        openid = await openid_of(db, principal.sub)
    if not openid:
        raise NotPayable("this customer has no mini-program openid")
    try:
        return await provider.prepay(order_id, row.amount_fen, openid, row.name)
    except WechatPayError as exc:
        raise WechatPayDown(f"WeChat Pay: {exc.code}") from exc
