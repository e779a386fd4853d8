"""Payment: a provider interface shaped like WeChat Pay's, the built-in sandbox provider, and
the handling of the provider's signed notification.

WeChat Pay's flow: we create a payment for an order and send the payer to the provider; the
provider later POSTs a notification to our notify URL, signed over timestamp, nonce and body
(HMAC-SHA256 with the shared secret here), and retries until we answer success. We verify the
signature and the timestamp, deduplicate by the provider's transaction id, and mark the order
paid with a guarded transition, writing its sale credit in the same transaction.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from typing import Any, Protocol, cast

import msgspec
import structlog
from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.credit import credit_sale
from orders import scripts
from orders.keys import DealKeys
from orders.models import Order, OrderEvent, Payment, Refund
from orders.pay_links import sandbox_pay_url
from orders.tx import transaction
from server.bounds import Count, Text32, Text64
from server.model_base import utcnow
from server.services import Services
from server.settings import Settings

log = structlog.get_logger()

TIMESTAMP_HEADER = "Wechatpay-Timestamp"
NONCE_HEADER = "Wechatpay-Nonce"
SIGNATURE_HEADER = "Wechatpay-Signature"
MAX_CLOCK_SKEW_S = 300
"""A notification older than this is refused even with a good signature (WeChat's 5 minutes):
a replay outside the window fails verification, one inside it is deduplicated."""
LATE_HOLD_S = 60
"""A unit re-taken for a payment that arrived after expiry is held this long before the
reconciler may consider the hold leaked; the payment commits in milliseconds."""


class SignatureError(ValueError):
    """The notification is not signed by our provider (or too old)."""


class MalformedNotification(ValueError):
    """Signed, but not a notification we can apply (a field out of its column's range)."""


class Notification(msgspec.Struct, frozen=True):
    """The body of a payment notification, after verification."""

    transaction_id: Text64
    order_id: Text32
    amount_fen: Count
    trade_state: Text32 = "SUCCESS"


class PaymentProvider(Protocol):
    name: str

    def pay_url(self, order_id: str) -> str:
        """Where the payer is sent to pay this order."""
        ...

    def verify(self, headers: Mapping[str, str], body: bytes) -> Notification:
        """Check the signature and the timestamp; raise SignatureError if they fail."""
        ...

    async def refund(self, order_id: str, refund_id: str, amount_fen: int) -> None:
        """Send money back; refund_id makes it idempotent at the provider."""
        ...


def signature(secret: str, timestamp: str, nonce: str, body: bytes) -> str:
    message = timestamp.encode() + b"\n" + nonce.encode() + b"\n" + body + b"\n"
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class SandboxProvider:
    """The built-in provider: a pay page in this app whose button sends the signed notification."""

    name = "sandbox"

    def __init__(self, settings: Settings) -> None:
        self._secret = settings.orders.payment_secret
        self._settings = settings

    def pay_url(self, order_id: str) -> str:
        return sandbox_pay_url(self._settings, order_id)

    def notification(
        self, order_id: str, amount_fen: int, transaction_id: str | None = None
    ) -> tuple[dict[str, str], bytes]:
        """What the provider POSTs to the notify URL once the payer confirmed."""
        body = msgspec.json.encode(
            Notification(transaction_id or f"sbx{secrets.token_hex(12)}", order_id, amount_fen)
        )
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        headers = {
            TIMESTAMP_HEADER: timestamp,
            NONCE_HEADER: nonce,
            SIGNATURE_HEADER: signature(self._secret, timestamp, nonce, body),
        }
        return headers, body

    def verify(self, headers: Mapping[str, str], body: bytes) -> Notification:
        timestamp = headers.get(TIMESTAMP_HEADER, "")
        nonce = headers.get(NONCE_HEADER, "")
        given = headers.get(SIGNATURE_HEADER, "")
        expected = signature(self._secret, timestamp, nonce, body)
        if not given or not hmac.compare_digest(given, expected):
            raise SignatureError("bad signature")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_CLOCK_SKEW_S:
            raise SignatureError("stale timestamp")
        try:
            return msgspec.json.decode(body, type=Notification)
        except msgspec.DecodeError as exc:
            raise MalformedNotification(f"malformed body: {exc}") from exc

    async def refund(self, order_id: str, refund_id: str, amount_fen: int) -> None:
        log.info(
            "orders.sandbox_refund", order_id=order_id, refund_id=refund_id, amount_fen=amount_fen
        )


def provider_for(services: Services) -> SandboxProvider:
    found = services.extras.get("orders.provider")
    if found is None:
        found = services.extras["orders.provider"] = SandboxProvider(services.settings)
    return found


def configured_provider(services: Services) -> PaymentProvider:
    """The provider the settings name: the sandbox, or WeChat Pay (orders/wechatpay.py)."""
    if services.settings.orders.payment_provider != "wechatpay":
        return provider_for(services)
    found: PaymentProvider | None = services.extras.get("orders.wechatpay")
    if found is None:
        # Imported here: orders/wechatpay.py builds on this module's Notification and errors.
        from orders.wechatpay import WechatPayProvider

        found = services.extras["orders.wechatpay"] = WechatPayProvider.from_settings(
            services.settings
        )
    return found


def pay_url(settings: Settings, order_id: str) -> str:
    return (
        sandbox_pay_url(settings, order_id) if settings.orders.payment_provider == "sandbox" else ""
    )


class PaymentResult(msgspec.Struct, frozen=True):
    outcome: str
    """applied | applied_late | duplicate | refunded_late | refunded_sold_out |
    refunded_duplicate | amount_mismatch | unknown_order | not_success"""
    order_status: str = ""

    @property
    def acknowledged(self) -> bool:
        """Answer success to the provider (stop its retries): everything but an order we do
        not have yet (the persister may be a moment behind; the provider retries)."""
        return self.outcome != "unknown_order"


async def handle_notification(
    services: Services, headers: Mapping[str, str], body: bytes
) -> PaymentResult:
    """Verify, then apply. Raises SignatureError for a forged or stale notification."""
    notification = configured_provider(services).verify(headers, body)
    if notification.trade_state != "SUCCESS":
        return PaymentResult("not_success")
    return await apply_payment(services, notification)


async def apply_payment(services: Services, note: Notification) -> PaymentResult:
    """Mark the order paid once per transaction id; see the module docstring."""
    settle: tuple[int, str] | None = None
    try:
        async with services.sessionmaker() as session, transaction(session):
            seen = await session.scalar(
                select(Payment.outcome).where(Payment.transaction_id == note.transaction_id)
            )
            if seen is not None:
                return PaymentResult("duplicate")
            order = await session.get(Order, note.order_id)
            if order is None:
                return PaymentResult("unknown_order")
            result, settle = await _apply(services, session, order, note)
    except IntegrityError:  # the same transaction id, applied by a concurrent callback
        return PaymentResult("duplicate")
    if settle is not None:
        deal_id, order_id = settle
        keys = DealKeys(deal_id)
        await scripts.SETTLE(keys=[keys.state, keys.holds], args=[order_id], client=services.redis)
    log.info("orders.payment", order_id=note.order_id, outcome=result.outcome)
    return result


async def _apply(
    services: Services,
    session: AsyncSession,
    order: Order,
    note: Notification,
) -> tuple[PaymentResult, tuple[int, str] | None]:
    def record(outcome: str) -> None:
        session.add(
            Payment(
                order_id=order.id,
                provider=configured_provider(services).name,
                transaction_id=note.transaction_id,
                amount_fen=note.amount_fen,
                outcome=outcome,
            )
        )

    if note.amount_fen != order.amount_fen:
        record("amount_mismatch")
        log.error("orders.payment_amount_mismatch", order_id=order.id, paid=note.amount_fen)
        return PaymentResult("amount_mismatch", order.status), None
    if order.status not in ("pending_payment", "expired"):
        # Paid twice (two transactions), or paid for a closed order: send this money back.
        record("refunded_duplicate")
        await _refund_money(
            services,
            session,
            order,
            note,
            f"{order.id}-p{note.transaction_id[-8:]}",
            "duplicate_payment",
        )
        return PaymentResult("refunded_duplicate", order.status), None
    was = order.status
    took, reason, hold_id = await _take_units(services, order)
    if not took:
        record("refunded_late" if was == "expired" else "refunded_sold_out")
        await _refund_money(services, session, order, note, f"{order.id}-late", reason)
        if was == "pending_payment":
            await _guarded(session, order.id, was, "cancelled", closed_at=utcnow())
            session.add(OrderEvent(order_id=order.id, kind="cancelled", data={"reason": reason}))
            keys = DealKeys(order.deal_id)
            await scripts.RELEASE(
                keys=[keys.state, keys.buyers, keys.holds], args=[order.id], client=services.redis
            )
        return PaymentResult(
            "refunded_late" if was == "expired" else "refunded_sold_out", order.status
        ), None
    now = utcnow()
    if not await _guarded(session, order.id, was, "paid", paid_at=now, closed_at=None):
        raise RuntimeError(f"order {order.id} changed under the payment; the provider retries")
    await credit_sale(
        session,
        order_id=order.id,
        customer_id=order.customer_id,
        amount_fen=order.amount_fen,
        room_store_id=order.room_store_id,
        at=now,
    )
    outcome = "applied" if was == "pending_payment" else "applied_late"
    record(outcome)
    session.add(
        OrderEvent(
            order_id=order.id,
            kind="paid",
            data={"transaction_id": note.transaction_id, "late": was == "expired"},
        )
    )
    return PaymentResult(outcome, "paid"), (order.deal_id, hold_id)


async def _guarded(
    session: AsyncSession, order_id: str, was: str, to: str, **values: object
) -> bool:
    result = await session.execute(
        update(Order).where(Order.id == order_id, Order.status == was).values(status=to, **values)
    )
    return cast(CursorResult[Any], result).rowcount == 1


async def _take_units(services: Services, order: Order) -> tuple[bool, str, str]:
    """Hold the order's units for the sale: held already (hold policy, still pending), or taken
    now (first_paid, or paid after expiry) if the deal runs and has them. Returns (taken,
    reason if not, the hold's id).

    An expired order's own hold is released first (finishing the expiry, idempotently) and
    the units are taken under a hold of their own, `<order id>:late`, so an expiry job still
    in flight cannot give back the units this payment takes."""
    keys = DealKeys(order.deal_id)
    hold_id = order.id
    if order.status == "expired":
        await scripts.RELEASE(
            keys=[keys.state, keys.buyers, keys.holds], args=[order.id], client=services.redis
        )
        hold_id = f"{order.id}:late"
    pay_by_ms = int((time.time() + LATE_HOLD_S) * 1000)
    took, detail = await scripts.TAKE(
        keys=[keys.state, keys.buyers, keys.holds],
        args=[hold_id, order.quantity, order.customer_id, pay_by_ms],
        client=services.redis,
    )
    if int(took) == 1:
        return True, "", hold_id
    return False, detail.decode() if isinstance(detail, bytes) else str(detail), hold_id


async def _refund_money(
    services: Services,
    session: AsyncSession,
    order: Order,
    note: Notification,
    refund_id: str,
    reason: str,
) -> None:
    """A payment we cannot honour goes back in full; no units change hands (quantity 0)."""
    session.add(
        Refund(
            id=refund_id, order_id=order.id, quantity=0, amount_fen=note.amount_fen, reason=reason
        )
    )
    session.add(
        OrderEvent(
            order_id=order.id,
            kind="payment_refunded",
            data={"transaction_id": note.transaction_id, "reason": reason},
        )
    )
    await configured_provider(services).refund(order.id, refund_id, note.amount_fen)
