"""Payment: a provider interface shaped like WeChat Pay's, the built-in sandbox provider, and
the handling of the provider's signed notification.

WeChat Pay's flow: we create a payment for an order and send the payer to the provider; the
provider later POSTs a notification to our notify URL, signed over timestamp, nonce and body
(HMAC-SHA256 with the shared secret here), and retries until we answer success.

Every notification ends in exactly one outcome per transaction id, whatever arrives twice,
together, late or with the wrong amount: applied, or refunded once. One SQL transaction
decides it with the order's row locked first (so two notices of one order take turns),
records the payment (unique by transaction id), and writes the sale credit or the refund to
the outbox (orders/refund_sender.py sends it afterwards). Redis changes the decision needs
(taking units for a first_paid order or a payment after expiry) happen inside that
transaction and are undone if it fails; the hold is settled only after the commit.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, cast

import msgspec
import structlog
from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.care import after_sale
from attribution.credit import credit_sale
from orders import coupons, scripts
from orders.deals import LATE_REFUND_REASON
from orders.groups_settle import on_paid as group_member_paid
from orders.groups_settle import seat_held
from orders.groups_terms import GROUP_KIND
from orders.keys import DealKeys
from orders.models import Deal, Order, OrderEvent, Payment, Product, Refund, RefundRequest
from orders.pay_links import sandbox_pay_url
from orders.statuses import OrderStatus, PaymentOutcome
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
GROUP_SEAT_LOST_REASON = "paid_after_group_seat_lost"
LATE_COUPONS_REASON = "paid_after_expiry_coupons_gone"
"""A payment after expiry whose order's coupons were spent elsewhere or ended meanwhile."""
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


class PaymentResult(msgspec.Struct, frozen=True):
    outcome: PaymentOutcome
    order_status: OrderStatus | None = None

    @property
    def acknowledged(self) -> bool:
        """Answer success to the provider (stop its retries) once the outcome is recorded; not
        for an order we do not have yet (the persister may be a moment behind) nor while the
        deal's Redis state is being rebuilt: the provider retries those."""
        return self.outcome not in (PaymentOutcome.UNKNOWN_ORDER, PaymentOutcome.NOT_READY)


class NotReady(Exception):
    """Redis is not in step with SQL for this order yet (restoring after a restart, or the
    order's hold missing): nothing is recorded and the provider's retry decides later."""


@dataclass
class Taken:
    """What take.lua did for this payment (held, converted, created), so a failed transaction
    can undo it and a committed one settle it; or an entry to release after the commit
    (cancelled)."""

    keys: DealKeys
    hold_id: str
    how: str
    customer_id: int = 0
    coupons_freed: tuple[int, ...] = ()
    """A cancelled order's coupons, given back in SQL; the mirror follows after the commit.
    With `how` "coupons": those a late payment spent again (`coupons.respend`); "coupons_back":
    those it spent again and gave back when the payment was refunded after all."""


COUPONS_ONLY = ("coupons", "coupons_back")
"""What a `Taken` of coupons alone is: no units to settle or release."""


async def handle_notification(
    services: Services, provider: PaymentProvider, headers: Mapping[str, str], body: bytes
) -> PaymentResult:
    """Verify with the configured provider, then apply. Raises SignatureError for a forged or
    stale notification."""
    notification = provider.verify(headers, body)
    if notification.trade_state != "SUCCESS":
        return PaymentResult(PaymentOutcome.NOT_SUCCESS)
    return await apply_payment(services, provider.name, notification)


async def apply_payment(services: Services, provider: str, note: Notification) -> PaymentResult:
    """Record one outcome for this transaction id; see the module docstring."""
    taken: list[Taken] = []
    after: list[Callable[[], Awaitable[None]]] = []
    try:
        async with services.sessionmaker() as session, session.begin():
            if not await _lock_order(session, note.order_id):
                return PaymentResult(PaymentOutcome.UNKNOWN_ORDER)
            seen = await session.scalar(
                select(Payment.outcome).where(Payment.transaction_id == note.transaction_id)
            )
            order = await session.get(Order, note.order_id, populate_existing=True)
            assert order is not None
            if seen is not None:
                return PaymentResult(PaymentOutcome.DUPLICATE, order.status)
            result = await _decide(services, provider, session, order, note, taken, after)
    except NotReady as exc:
        await _undo(services, taken)
        log.warning("orders.payment_not_ready", order_id=note.order_id, reason=str(exc))
        return PaymentResult(PaymentOutcome.NOT_READY)
    except IntegrityError:
        await _undo(services, taken)
        # The same transaction id, recorded by a notice on another connection that got the
        # lock first: its outcome stands. Any other conflict is a failure the provider must
        # retry, never an acknowledged payment.
        async with services.sessionmaker() as session:
            recorded = await session.scalar(
                select(Payment.id).where(Payment.transaction_id == note.transaction_id)
            )
        if recorded is None:
            raise
        return PaymentResult(PaymentOutcome.DUPLICATE)
    except BaseException:
        await _undo(services, taken)
        raise
    for took in taken:
        if took.how == "cancelled":
            await scripts.RELEASE(
                keys=[took.keys.state, took.keys.buyers, took.keys.holds],
                args=[took.hold_id],
                client=services.redis,
            )
        elif took.how not in COUPONS_ONLY:
            await scripts.SETTLE(
                keys=[took.keys.state, took.keys.holds], args=[took.hold_id], client=services.redis
            )
        if took.how in ("cancelled", "coupons_back"):
            await coupons.mirror_give_back(
                services.redis, took.customer_id, took.hold_id, list(took.coupons_freed)
            )
    for then in after:
        await then()
    log.info("orders.payment", order_id=note.order_id, outcome=result.outcome)
    return result


async def _lock_order(session: AsyncSession, order_id: str) -> bool:
    """Take the order's row lock before reading anything (a write, so it works on SQLite too,
    where the first write takes the database's write lock): a second notice of the same
    order waits here and then reads what the first one committed."""
    locked = await session.execute(
        update(Order).where(Order.id == order_id).values(status=Order.status)
    )
    return cast(CursorResult[Any], locked).rowcount == 1


async def _undo(services: Services, taken: list[Taken]) -> None:
    for took in taken:
        if took.how in COUPONS_ONLY:  # spent again in the mirror: undone
            with contextlib.suppress(Exception):
                await coupons.mirror_give_back(
                    services.redis, took.customer_id, took.hold_id, list(took.coupons_freed)
                )
            continue
        if took.how not in ("converted", "created"):
            continue
        with contextlib.suppress(Exception):  # a hold left behind is released by reconcile
            await scripts.UNTAKE(
                keys=[took.keys.state, took.keys.buyers, took.keys.holds],
                args=[took.hold_id, took.how],
                client=services.redis,
            )


async def _decide(
    services: Services,
    provider: str,
    session: AsyncSession,
    order: Order,
    note: Notification,
    taken: list[Taken],
    after: list[Callable[[], Awaitable[None]]],
) -> PaymentResult:
    def record(outcome: PaymentOutcome) -> None:
        session.add(
            Payment(
                order_id=order.id,
                provider=provider,
                transaction_id=note.transaction_id,
                amount_fen=note.amount_fen,
                outcome=outcome,
            )
        )

    if note.amount_fen != order.amount_fen:
        # Not the order's price: the money goes back, and a person is told (an error line
        # is the alert operators watch), rather than acknowledged and forgotten.
        record(PaymentOutcome.REFUNDED_MISMATCH)
        refund_payment(session, order, note, "amount_mismatch")
        log.error(
            "orders.payment_amount_mismatch",
            order_id=order.id,
            paid=note.amount_fen,
            due=order.amount_fen,
            transaction_id=note.transaction_id,
        )
        return PaymentResult(PaymentOutcome.REFUNDED_MISMATCH, order.status)
    if order.status not in (OrderStatus.PENDING_PAYMENT, OrderStatus.EXPIRED):
        record(PaymentOutcome.REFUNDED_DUPLICATE)
        refund_payment(session, order, note, "duplicate_payment")
        return PaymentResult(PaymentOutcome.REFUNDED_DUPLICATE, order.status)
    was = order.status
    grouped = await session.scalar(select(Deal.kind).where(Deal.id == order.deal_id)) == GROUP_KIND
    if grouped and was == OrderStatus.EXPIRED and not await seat_held(services.redis, order):
        # Its seat went to someone else when it expired: no member beyond the group's size.
        record(PaymentOutcome.REFUNDED_LATE)
        refund_payment(session, order, note, GROUP_SEAT_LOST_REASON)
        return PaymentResult(PaymentOutcome.REFUNDED_LATE, order.status)
    if was == OrderStatus.EXPIRED:
        # Its expiry gave its coupons back: the discount stands only if they can be spent on
        # it again; else the late payment goes back (the customer may order afresh).
        respent = await coupons.respend(session, services.redis, order, utcnow())
        if isinstance(respent, str):
            record(PaymentOutcome.REFUNDED_LATE)
            refund_payment(session, order, note, LATE_COUPONS_REASON)
            log.info("orders.late_payment_coupons_gone", order_id=order.id, why=respent)
            return PaymentResult(PaymentOutcome.REFUNDED_LATE, order.status)
        if respent:
            keys = DealKeys(order.deal_id)
            taken.append(Taken(keys, order.id, "coupons", order.customer_id, tuple(respent)))
    reason = await _take_units(services, order, taken)
    if reason:
        for took in taken:
            if took.how == "coupons":  # spent again above; back they go with the money
                await coupons.give_back(session, order.id)
                took.how = "coupons_back"
        late = was == OrderStatus.EXPIRED
        outcome = PaymentOutcome.REFUNDED_LATE if late else PaymentOutcome.REFUNDED_SOLD_OUT
        record(outcome)
        refund_payment(session, order, note, LATE_REFUND_REASON if late else reason)
        if was == OrderStatus.PENDING_PAYMENT:
            # first_paid and nothing left: the order is cancelled; its entry (counted, not
            # held) is released once this commits.
            customer_id, freed = await coupons.give_back(session, order.id)
            taken.append(
                Taken(DealKeys(order.deal_id), order.id, "cancelled", customer_id, tuple(freed))
            )
            await _guarded(session, order.id, was, OrderStatus.CANCELLED, closed_at=utcnow())
            session.add(OrderEvent(order_id=order.id, kind="cancelled", data={"reason": reason}))
            return PaymentResult(outcome, OrderStatus.CANCELLED)
        return PaymentResult(outcome, order.status)
    now = utcnow()
    if not await _guarded(session, order.id, was, OrderStatus.PAID, paid_at=now, closed_at=None):
        raise RuntimeError(f"order {order.id} changed under its row lock")
    credit = await credit_sale(
        session,
        order_id=order.id,
        customer_id=order.customer_id,
        amount_fen=order.amount_fen,
        room_store_id=order.room_store_id,
        broadcast_id=order.broadcast_id,
        placed_by_guide_id=order.placed_by_guide_id,
        at=now,
    )
    product = await session.get(Product, order.product_id)
    await after_sale(  # follow-ups: the tasks this payment converts, the care it starts
        session,
        order_id=order.id,
        customer_id=order.customer_id,
        guide_id=credit.guide_id,
        store_id=credit.store_id,
        paid_at=now,
        ordered=[product.name] if product else [],
    )
    await coupons.issue_pack(session, order, now)
    outcome = (
        PaymentOutcome.APPLIED
        if was == OrderStatus.PENDING_PAYMENT
        else PaymentOutcome.APPLIED_LATE
    )
    record(outcome)
    if grouped:
        formed = await group_member_paid(session, services.redis, order)
        if formed is not None:
            after.append(formed)
    session.add(
        OrderEvent(
            order_id=order.id,
            kind="paid",
            data={"transaction_id": note.transaction_id, "late": was == OrderStatus.EXPIRED},
        )
    )
    return PaymentResult(outcome, OrderStatus.PAID)


async def _guarded(
    session: AsyncSession, order_id: str, was: OrderStatus, to: OrderStatus, **values: object
) -> bool:
    result = await session.execute(
        update(Order).where(Order.id == order_id, Order.status == was).values(status=to, **values)
    )
    return cast(CursorResult[Any], result).rowcount == 1


async def _take_units(services: Services, order: Order, taken: list[Taken]) -> str:
    """Make sure the order's units are held for the sale; returns why not ("" when held).

    A pending order's entry exists (reserve.lua wrote it); a first_paid one gets its units
    now if the stock allows. An expired order's own hold is released first (finishing the
    expiry, idempotently) and the units are taken under a hold of their own,
    `<order id>:late`, so an expiry job still in flight cannot give back what this takes."""
    keys = DealKeys(order.deal_id)
    hold_id, may_create = order.id, "0"
    if order.status == OrderStatus.EXPIRED:
        await scripts.RELEASE(
            keys=[keys.state, keys.buyers, keys.holds], args=[order.id], client=services.redis
        )
        hold_id, may_create = f"{order.id}:late", "1"
    pay_by_ms = int((time.time() + LATE_HOLD_S) * 1000)
    took, detail = await scripts.TAKE(
        keys=[keys.state, keys.buyers, keys.holds],
        args=[hold_id, order.quantity, order.customer_id, pay_by_ms, may_create],
        client=services.redis,
    )
    detail = detail.decode() if isinstance(detail, bytes) else str(detail)
    if int(took) == 1:
        taken.append(Taken(keys, hold_id, detail))
        return ""
    if detail in ("restoring", "no_hold"):
        raise NotReady(detail)
    return detail


def refund_id_for(order_id: str, transaction_id: str) -> str:
    """One refund id per payment: a retried refund is the same refund at the provider, two
    payments of one order are two refunds."""
    return f"{order_id}-t{hashlib.sha256(transaction_id.encode()).hexdigest()[:16]}"


def refund_payment(session: AsyncSession, order: Order, note: Notification, reason: str) -> None:
    """A payment we cannot honour goes back in full; no units change hands (quantity 0). The
    money is sent by the worker once this transaction commits (the outbox)."""
    refund_id = refund_id_for(order.id, note.transaction_id)
    session.add(
        Refund(
            id=refund_id, order_id=order.id, quantity=0, amount_fen=note.amount_fen, reason=reason
        )
    )
    session.add(
        RefundRequest(id=refund_id, order_id=order.id, amount_fen=note.amount_fen, reason=reason)
    )
    session.add(
        OrderEvent(
            order_id=order.id,
            kind="payment_refunded",
            data={"transaction_id": note.transaction_id, "reason": reason, "refund_id": refund_id},
        )
    )
