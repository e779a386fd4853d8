"""The sandbox payment provider's pages and API, for the demo: the order's owner opens the
pay link, sees the amount, and confirms; the sandbox then sends its signed notification
through the same verification as the notify URL.

Two locks on every call: the pay token of the link (orders/pay_links.py), and the signed-in
viewer must be the order's customer. Production runs refuse the sandbox at start-up
(server/settings.py); if another provider is configured these routes answer 404.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar.params import Parameter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from orders.models import Order
from orders.pay_links import pay_token_matches
from server.auth import Principal
from server.errors import Conflict, Forbidden, NotFound
from server.settings import Settings

PAID_OUTCOMES = frozenset({"applied", "applied_late", "duplicate"})

PayToken = Annotated[str, Parameter(query="pay_token", min_length=1, max_length=64)]


class SandboxOrder(msgspec.Struct):
    order_id: str
    amount_fen: int
    status: str


class SandboxPayResult(msgspec.Struct):
    outcome: str
    """applied | applied_late | duplicate when paid; otherwise why the money went back."""
    paid: bool


class SandboxOff(NotFound):
    """Another provider is configured: the sandbox's routes do not exist."""


class BadPayLink(Forbidden):
    """The link's pay token is not this order's."""


class NotRecordedYet(Conflict):
    """The order was accepted but the persister has not written it yet."""


class NoSuchOrder(NotFound):
    """No such order, or not the caller's."""


async def payable(
    settings: Settings, db: AsyncSession, principal: Principal, order_id: str, token: str
) -> SandboxOrder:
    """The caller's own order behind a pay link, read in a transaction of its own (the
    payment then opens its own)."""
    if settings.orders.payment_provider != "sandbox":
        raise SandboxOff("the sandbox provider is not configured")
    if not pay_token_matches(settings, order_id, token):
        raise BadPayLink("this pay link is not valid")
    async with db.begin():
        row = (
            await db.execute(
                select(Order.customer_id, Order.amount_fen, Order.status).where(
                    Order.id == order_id
                )
            )
        ).first()
    if row is None:
        raise NotRecordedYet("the order is being recorded; try again in a moment")
    if row.customer_id != principal.sub:
        raise NoSuchOrder("no such order")
    return SandboxOrder(order_id, row.amount_fen, row.status)


PAGE = """<!doctype html><html lang="zh"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>沙箱支付 Sandbox pay</title>
<style>body{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem}
button{font-size:1.2rem;padding:.7rem 2rem;background:#07c160;color:#fff;border:0;border-radius:6px}</style>
<script type="module" src="/static/js/sandbox-pay.js"></script>
</head><body><h1>沙箱支付 Sandbox pay</h1><main id="pay"><p>…</p></main></body></html>"""
