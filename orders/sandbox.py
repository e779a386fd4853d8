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
from litestar import MediaType, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.exceptions import ClientException, NotFoundException, PermissionDeniedException
from litestar.params import Parameter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from orders.models import Order
from orders.pay_links import pay_token_matches
from orders.payments import SandboxProvider, handle_notification, provider_for
from server.auth import PUBLIC, Principal, Role, allow
from server.services import Services

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


async def _payable(
    services: Services, db: AsyncSession, principal: Principal, order_id: str, token: str
) -> SandboxOrder:
    if services.settings.orders.payment_provider != "sandbox":
        raise NotFoundException("the sandbox provider is not configured")
    if not pay_token_matches(services.settings, order_id, token):
        raise PermissionDeniedException("this pay link is not valid")
    row = (
        await db.execute(
            select(Order.customer_id, Order.amount_fen, Order.status).where(Order.id == order_id)
        )
    ).first()
    await db.rollback()  # end the read: the payment opens its own transaction
    if row is None:
        raise ClientException("the order is being recorded; try again in a moment", 409)
    if row.customer_id != principal.sub:
        raise NotFoundException("no such order")
    return SandboxOrder(order_id, row.amount_fen, row.status)


@get("/api/pay/sandbox/{order_id:str}", opt=allow(Role.VIEWER), tags=["payments"])
async def sandbox_order(
    order_id: str,
    pay_token: PayToken,
    request: Request[Principal, str, State],
    db: NamedDependency[AsyncSession],
) -> SandboxOrder:
    """The sandbox pay page's view of the caller's own order (demo only)."""
    return await _payable(request.app.state.services, db, request.user, order_id, pay_token)


@post("/api/pay/sandbox/{order_id:str}", opt=allow(Role.VIEWER), tags=["payments"])
async def sandbox_pay(
    order_id: str,
    pay_token: PayToken,
    request: Request[Principal, str, State],
    db: NamedDependency[AsyncSession],
) -> Response[SandboxPayResult]:
    """The owner confirmed: the sandbox signs a notification for the order's amount and
    applies it like any other (200 when paid, 409 when the money goes back)."""
    services: Services = request.app.state.services
    order = await _payable(services, db, request.user, order_id, pay_token)
    provider = provider_for(services)
    assert isinstance(provider, SandboxProvider)
    headers, body = provider.notification(order.order_id, order.amount_fen)
    result = await handle_notification(services, headers, body)
    paid = result.outcome in PAID_OUTCOMES
    return Response(SandboxPayResult(result.outcome, paid), status_code=200 if paid else 409)


PAGE = """<!doctype html><html lang="zh"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>沙箱支付 Sandbox pay</title>
<style>body{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem}
button{font-size:1.2rem;padding:.7rem 2rem;background:#07c160;color:#fff;border:0;border-radius:6px}</style>
<script type="module" src="/static/js/sandbox-pay.js"></script>
</head><body><h1>沙箱支付 Sandbox pay</h1><main id="pay"><p>…</p></main></body></html>"""


@get(
    "/pay/sandbox/{order_id:str}",
    opt=PUBLIC,
    include_in_schema=False,
    media_type=MediaType.HTML,
)
async def sandbox_pay_page(order_id: str) -> str:
    """The page of a pay link. It holds nothing of the order: its script asks the API above
    with the viewer's own token and the link's pay token."""
    return PAGE


ROUTES = [sandbox_order, sandbox_pay, sandbox_pay_page]
