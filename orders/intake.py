"""Order intake: check a request, run the reserve script, answer in milliseconds.

The database is not on this path. The script (orders/lua/reserve.lua) checks the deal, the
customer's limit, the stock and the idempotency key, reserves and appends the order to the
deal's stream, atomically; the persister (orders/persister.py) writes it to SQL.
"""

from __future__ import annotations

import itertools
import secrets
import time
from datetime import UTC, datetime

import msgspec
from sqlalchemy import select

from orders import scripts
from orders.keys import DealKeys, idempotency_claim
from orders.models import Deal
from orders.redis_batch import RedisBatcher
from server.services import Services

MAX_QUANTITY = 99
"""Most units in one order line; a per-deal limit can only lower it."""
MAX_KEY_LENGTH = 64
"""The orders.idempotency_key column is 64 characters."""
CLAIM_ATTEMPTS = 3
"""Tries to claim a key that keeps vanishing between the SET and the GET (only concurrent
requests with one key can make it)."""
IDEMPOTENCY_TTL_S = 7 * 24 * 3600
"""How long a key keeps its first answer: longer than any client retries, and long enough
that a key is not reused while its order could still be written (orders are unique per
customer and key in SQL)."""


class IntakeRequest(msgspec.Struct, frozen=True):
    customer_id: int
    deal_id: int
    quantity: int
    idempotency_key: str
    coupon_ids: tuple[int, ...] = ()
    broadcast_id: int | None = None
    hub_broadcast_id: int | None = None
    room_store_id: int | None = None


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
    if request.coupon_ids:
        return Rejected("invalid_coupon", "this deal takes no coupons")
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


async def _claim(batcher: RedisBatcher, request: IntakeRequest, claim: str) -> bool | Rejected:
    """Claim the request's key for its deal: True when this request claimed it (and gives it
    back if its order is refused), False when the deal had it already (a retry), or why not.

    A key belongs to one deal. The deal's script keeps the key's answer in the deal's slot;
    this claim, outside it, refuses the key on another deal. A plain command, not a script: a
    script call's own cost in Redis is several times its. Only a key seen before costs a
    second one, to read which deal it belongs to."""
    for _ in range(CLAIM_ATTEMPTS):
        (set_reply,) = await batcher.commands(
            ("SET", claim, request.deal_id, "NX", "EX", IDEMPOTENCY_TTL_S)
        )
        if set_reply == b"OK":
            return True
        (owner,) = await batcher.commands(("GET", claim))
        if owner is not None:
            if int(owner) != request.deal_id:
                return Rejected("idempotency_key_reused", "this key was used for a different deal")
            return False
        # Gone between the two calls (a concurrent request's order refused, or expired): again.
    return Rejected("retry", "this key is in use by another request; send it again")


async def place_order(intake: OrderIntake, request: IntakeRequest) -> Accepted | Rejected:
    """Take an order or say why not. Called by the room socket and by POST /api/orders."""
    refused = validate(request)
    if refused:
        return refused
    services = intake.services
    client = services.redis
    batcher, ids = intake.batcher, intake.ids
    claim = _claim_key(request)
    claimed = await _claim(batcher, request, claim)
    if isinstance(claimed, Rejected):
        return claimed
    now_ms = int(time.time() * 1000)
    keys = DealKeys(request.deal_id)
    reply = await batcher.script(
        scripts.RESERVE,
        [
            keys.state,
            keys.buyers,
            keys.holds,
            keys.idempotency(request.customer_id, request.idempotency_key),
            keys.stream,
        ],
        [
            ids.next(now_ms),
            request.customer_id,
            request.quantity,
            fingerprint(request),
            now_ms,
            services.settings.orders.pay_within_seconds * 1000,
            request.broadcast_id or "",
            request.hub_broadcast_id or "",
            request.room_store_id or "",
            request.idempotency_key,
            IDEMPOTENCY_TTL_S,
        ],
    )
    outcome = reply[0].decode()
    if outcome == "rejected":
        reason = reply[1].decode()
        if claimed and reason != "idempotency_key_reused":
            # Refused: give the key back, so a corrected retry may use it on any deal. Not when
            # the deal already holds the key: a concurrent request of it was taken first.
            await client.delete(claim)
        return await _explain(services, request.deal_id, reason, reply[2].decode())
    if outcome == "accepted" and not claimed:
        # The claim this request saw was a concurrent one's, which may have been refused and
        # given back meanwhile: the key is this order's now.
        await batcher.commands(("SET", claim, request.deal_id, "NX", "EX", IDEMPOTENCY_TTL_S))
    return Accepted(
        order_id=reply[1].decode(),
        amount_fen=int(reply[2]),
        pay_by_ms=int(reply[3]),
        repeated=outcome == "again",
    )


async def _explain(services: Services, deal_id: int, reason: str, detail: str) -> Rejected:
    if reason == "deal_not_live" and detail == "unknown":
        async with services.sessionmaker() as session:
            status = await session.scalar(select(Deal.status).where(Deal.id == deal_id))
        if status is None:
            return Rejected("unknown_deal", f"no deal {deal_id}")
        return Rejected("deal_not_live", f"the deal is {status}")
    return Rejected(reason, detail)
