"""Order intake: check a request, run the reserve script, answer in milliseconds.

Both entries come here through `take_order`: the room socket (live/'s gateway hands over a
viewer's order.place frame) and POST /api/orders.

The database is not on this path. The script (orders/lua/reserve.lua) checks the deal, the
customer's limit, the stock and the idempotency key, reserves and appends the order to the
deal's stream, atomically; the persister (orders/persister.py) writes it to SQL.
"""

from __future__ import annotations

import itertools
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import msgspec
from redis.commands.core import AsyncScript
from sqlalchemy import select

from orders import coupons, scripts
from orders.keys import DealKeys, idempotency_claim
from orders.models import Deal, Order
from orders.pay_links import pay_url
from orders.rooms_port import SellingRoom
from orders.schemas import OrderAccepted, OrderPlace, OrderRejected
from server.auth import Principal, Role
from server.redis_batch import RedisBatcher
from server.services import Services

if TYPE_CHECKING:  # the runtime holds an OrderIntake: a type-only import, no cycle
    from orders.runtime import OrdersRuntime

MAX_QUANTITY = 99
"""Most units in one order line; a per-deal limit can only lower it."""
MAX_KEY_LENGTH = 64
"""The orders.idempotency_key column is 64 characters."""
CLAIM_ATTEMPTS = 3
"""Tries to claim a key that keeps vanishing between the SET and the GET (only concurrent
requests with one key can make it)."""
ANSWER_GRACE_S = 600
"""How long a key's answer outlives the last moment its deal can take or answer an order: covers
clock skew between nodes and a payment notice arriving at the pay-by's edge."""
CLAIM_TTL_MARGIN_S = ANSWER_GRACE_S
"""A key's claim on its deal lives the pay window plus this: a client's retries come within it."""


def answer_ttl_ms(now_ms: int, pay_by_ms: int, deal_ends_ms: int | None, pay_within_ms: int) -> int:
    """How long Redis keeps an order's idempotency answer (orders/lua/reserve.lua computes the
    same): until its deal can no longer take an order nor be paid (its end plus the pay window;
    a deal without an end, the order's own pay-by), plus ANSWER_GRACE_S. After that a reuse of
    the key on the ended deal is answered from SQL (`answer_from_sql`), and on another deal it
    is a new order, which SQL accepts (orders' index on the key is not unique)."""
    until = deal_ends_ms + pay_within_ms if deal_ends_ms else pay_by_ms
    return max(until, pay_by_ms) - now_ms + ANSWER_GRACE_S * 1000


class IntakeRequest(msgspec.Struct, frozen=True):
    customer_id: int
    deal_id: int
    quantity: int
    idempotency_key: str
    coupon_ids: tuple[int, ...] = ()
    broadcast_id: int | None = None
    hub_broadcast_id: int | None = None
    room_store_id: int | None = None
    placed_by_guide_id: int | None = None
    """The guide placing the order for the customer (orders/on_behalf.py)."""
    pay_within_s: int | None = None
    """How long the order holds its units unpaid; the settings' pay window when None."""


@dataclass(frozen=True)
class KindScript:
    """A deal kind's script that wraps reserve.lua (orders/scripts.py `_with_reserve`): its
    keys and arguments follow reserve's."""

    script: AsyncScript
    keys: list[str] = field(default_factory=list)
    args: list[str | int] = field(default_factory=list)


class Accepted(msgspec.Struct, frozen=True):
    order_id: str
    amount_fen: int
    pay_by_ms: int
    repeated: bool
    """True when this is the stored first answer to the same request."""

    @property
    def pay_by_iso(self) -> str:
        return datetime.fromtimestamp(self.pay_by_ms / 1000, UTC).isoformat()


class Rejected(msgspec.Struct, frozen=True):
    reason: str
    detail: str = ""


class OrderIds:
    """Time-ordered order ids, 20 hex characters: 11 of milliseconds, 5 naming this process,
    4 of a counter. Made before the script runs, so a redelivered stream entry names the
    same order; the script refuses an id it already holds."""

    def __init__(self) -> None:
        self._process = secrets.token_hex(3)[:5]
        self._counter = itertools.count(secrets.randbelow(1 << 16))

    def next(self, now_ms: int) -> str:
        return f"{now_ms:011x}{self._process}{next(self._counter) & 0xFFFF:04x}"


def validate(request: IntakeRequest) -> Rejected | None:
    """Checks that need no state. A request refused here stores nothing."""
    if not 1 <= request.quantity <= MAX_QUANTITY:
        return Rejected("invalid_quantity", f"quantity must be 1-{MAX_QUANTITY}")
    key = request.idempotency_key
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        return Rejected("invalid_request", f"idempotency_key must be 1-{MAX_KEY_LENGTH} characters")
    if len(set(request.coupon_ids)) != len(request.coupon_ids):
        return Rejected("invalid_coupon", "a coupon is chosen twice")
    return None


def fingerprint(request: IntakeRequest) -> str:
    """What makes two requests with one key the same request."""
    coupons = ",".join(map(str, sorted(request.coupon_ids)))
    return f"{request.deal_id}:{request.quantity}:{coupons}"


class OrderIntake:
    """This process's order intake: the Redis batcher its calls share, and its order ids.
    One per process, built at assembly (orders/runtime.py)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.batcher = RedisBatcher(services.redis)
        self.ids = OrderIds()


def _claim_key(request: IntakeRequest) -> str:
    return idempotency_claim(request.customer_id, request.idempotency_key)


async def _claim(
    batcher: RedisBatcher, request: IntakeRequest, claim: str, ttl_s: int
) -> bool | Rejected:
    """Claim the request's key for its deal: True when this request claimed it (and gives it
    back if its order is refused), False when the deal had it already (a retry), or why not.

    A key belongs to one deal. The deal's script keeps the key's answer in the deal's slot;
    this claim, outside it, refuses the key on another deal. A plain command, not a script: a
    script call's own cost in Redis is several times its. Only a key seen before costs a
    second one, to read which deal it belongs to."""
    for _ in range(CLAIM_ATTEMPTS):
        (set_reply,) = await batcher.commands(("SET", claim, request.deal_id, "NX", "EX", ttl_s))
        if set_reply == b"OK":
            return True
        (owner,) = await batcher.commands(("GET", claim))
        if owner is not None:
            if int(owner) != request.deal_id:
                return Rejected("idempotency_key_reused", "this key was used for a different deal")
            return False
        # Gone between the two calls (a concurrent request's order refused, or expired): again.
    return Rejected("retry", "this key is in use by another request; send it again")


async def place_order(
    intake: OrderIntake, request: IntakeRequest, kind: KindScript | None = None
) -> Accepted | Rejected:
    """Take an order or say why not. Called by the room socket and by POST /api/orders, and
    with its kind's script by a kind that adds checks of its own (orders/groups.py)."""
    refused = validate(request)
    if refused:
        return refused
    services = intake.services
    client = services.redis
    batcher, ids = intake.batcher, intake.ids
    claim = _claim_key(request)
    pay_within_s = request.pay_within_s or services.settings.orders.pay_within_seconds
    claim_ttl_s = pay_within_s + CLAIM_TTL_MARGIN_S
    claimed = await _claim(batcher, request, claim, claim_ttl_s)
    if isinstance(claimed, Rejected):
        return claimed
    keys = DealKeys(request.deal_id)
    script_keys = [
        keys.state,
        keys.buyers,
        keys.holds,
        keys.idempotency(request.customer_id, request.idempotency_key),
        keys.stream,
    ]
    if request.coupon_ids:
        async with services.sessionmaker() as session:
            await coupons.fill_mirror(session, client, request.customer_id, request.coupon_ids)
        script_keys.append(coupons.mirror_key(request.customer_id))
    now_ms = int(time.time() * 1000)
    reply = await batcher.script(
        kind.script if kind else scripts.RESERVE,
        [*script_keys, *(kind.keys if kind else ())],
        [
            ids.next(now_ms),
            request.customer_id,
            request.quantity,
            fingerprint(request),
            now_ms,
            pay_within_s * 1000,
            request.broadcast_id or "",
            request.hub_broadcast_id or "",
            request.room_store_id or "",
            request.idempotency_key,
            ANSWER_GRACE_S,
            ",".join(map(str, request.coupon_ids)),
            request.placed_by_guide_id or "",
            *(kind.args if kind else ()),
        ],
    )
    outcome = reply[0].decode()
    if outcome == "rejected":
        reason = reply[1].decode()
        if claimed and reason != "idempotency_key_reused":
            # Refused: give the key back, so a corrected retry may use it on any deal. Not when
            # the deal already holds the key: a concurrent request of it was taken first.
            await client.delete(claim)
        if claimed and reason == "deal_not_live":
            # Redis forgot the key, as it does once the deal can take no order: SQL answers.
            # Only on this refusal, so a new order costs no SQL read.
            answered = await answer_from_sql(services, request)
            if answered is not None:
                return answered
        return await _explain(services, request.deal_id, reason, reply[2].decode())
    if outcome == "accepted" and not claimed:
        # The claim this request saw was a concurrent one's, which may have been refused and
        # given back meanwhile: the key is this order's now.
        await batcher.commands(("SET", claim, request.deal_id, "NX", "EX", claim_ttl_s))
    return Accepted(
        order_id=reply[1].decode(),
        amount_fen=int(reply[2]),
        pay_by_ms=int(reply[3]),
        repeated=outcome == "again",
    )


async def answer_from_sql(services: Services, request: IntakeRequest) -> Accepted | Rejected | None:
    """The first answer to a key Redis no longer keeps, from the order SQL has for it (the
    first, should a reuse after Redis forgot it have made two); None when there is none. The
    quantity stands for the request's fingerprint: the coupons an expired order spent were
    given back, so SQL no longer tells them."""
    async with services.sessionmaker() as session:
        found = (
            await session.execute(
                select(Order.id, Order.quantity, Order.amount_fen, Order.pay_by)
                .where(
                    Order.customer_id == request.customer_id,
                    Order.deal_id == request.deal_id,
                    Order.idempotency_key == request.idempotency_key,
                )
                .order_by(Order.accepted_at)
                .limit(1)
            )
        ).first()
    if found is None:
        return None
    order_id, quantity, amount_fen, pay_by = found
    if quantity != request.quantity:
        return Rejected("idempotency_key_reused", "this key was used for a different order")
    return Accepted(order_id, amount_fen, int(pay_by.timestamp() * 1000), repeated=True)


async def _explain(services: Services, deal_id: int, reason: str, detail: str) -> Rejected:
    if reason == "deal_not_live" and detail == "unknown":
        async with services.sessionmaker() as session:
            status = await session.scalar(select(Deal.status).where(Deal.id == deal_id))
        if status is None:
            return Rejected("unknown_deal", f"no deal {deal_id}")
        return Rejected("deal_not_live", f"the deal is {status}")
    return Rejected(reason, detail)


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
    """Both entries (the room socket's order.place and POST /api/orders) come here: the
    caller's checks, the reserve script, the room notices, the reply."""
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
