"""Coupon packs and the coupons they issue.

A pack is a deal of kind `coupon_pack` whose `params` describe its coupons; paying its order
issues them (in the payment's transaction). A pack sold as a group-buy is a `group_buy` deal
whose params also describe coupons: its members get them when their group forms (or is
completed by HQ's rule), each once; a group that fails refunds them and issues nothing. An order may spend coupons: orders/lua/coupon.lua
checks them (owner, validity, minimum spend, scope, stacking) and marks them used inside the
reserve script, against a mirror of the customer's coupons in Redis; the persister records the
use in SQL with the order. An order that expires unpaid gives its coupons back; a refunded one
gives back those still valid.

The mirror is filled from SQL on demand (a field is written only where Redis has none, so a
use Redis knows of and SQL does not yet is never undone) and told of every give-back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import msgspec
import redis.asyncio
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from orders import scripts
from orders.coupons_models import Coupon
from orders.groups_terms import GROUP_KIND
from orders.keys import DealKeys
from orders.models import Deal, Order, OrderEvent
from server.model_base import utcnow

KIND = "coupon_pack"
DEFAULT_VALID_DAYS = 30
RETURNED_EVENT = "coupons_returned"
MAX_COUPONS_PER_PACK = 20
DEMO_PACK_PARAMS: dict[str, Any] = {
    "coupons": "11100/0x1,30000/100000x2,40000/130000x1",
    "stackable": True,
    "valid_days": 30,
}
"""The case studies' 1.1-yuan pack: 111 off with no threshold, two 300 off 1,000 and one
400 off 1,300, all stackable (1,111 yuan of coupons)."""


class PackError(ValueError):
    """A pack's params that do not describe coupons; the message says why."""


class CouponTerms(msgspec.Struct, frozen=True):
    amount_off_fen: int
    min_spend_fen: int


class PackTerms(msgspec.Struct, frozen=True):
    coupons: tuple[CouponTerms, ...]
    stackable: bool
    valid_days: int
    product_ids: tuple[int, ...]
    """Empty: every product."""


def pack_terms(params: dict[str, Any]) -> PackTerms:
    """Read a pack deal's params: `coupons` as "off/min x count" items (fen, comma separated),
    `stackable`, `valid_days`, `scope` (product ids, comma separated; empty for all)."""
    spec = params.get("coupons")
    if not isinstance(spec, str) or not spec.strip():
        raise PackError('a coupon pack needs params.coupons, e.g. "11100/0x1,30000/100000x2"')
    coupons: list[CouponTerms] = []
    for item in spec.split(","):
        try:
            amounts, _, count = item.strip().partition("x")
            off, _, minimum = amounts.partition("/")
            terms = CouponTerms(int(off), int(minimum or 0))
            times = int(count or 1)
        except ValueError as exc:
            raise PackError(f"cannot read coupon {item.strip()!r}: use off/min x count") from exc
        if terms.amount_off_fen <= 0 or terms.min_spend_fen < 0 or times <= 0:
            raise PackError(f"coupon {item.strip()!r}: amounts and count must be positive")
        coupons.extend([terms] * times)
    if len(coupons) > MAX_COUPONS_PER_PACK:
        raise PackError(f"a pack holds at most {MAX_COUPONS_PER_PACK} coupons")
    valid_days = params.get("valid_days", DEFAULT_VALID_DAYS)
    if not isinstance(valid_days, int) or isinstance(valid_days, bool) or valid_days <= 0:
        raise PackError("params.valid_days must be a positive number of days")
    scope = params.get("scope") or ""
    try:
        product_ids = tuple(int(p) for p in str(scope).split(",") if p.strip())
    except ValueError as exc:
        raise PackError("params.scope lists product ids, comma separated") from exc
    return PackTerms(tuple(coupons), bool(params.get("stackable", True)), valid_days, product_ids)


def pack_of(deal: Deal) -> PackTerms | None:
    """The pack a deal sells: a pack deal's, or a group-buy's whose params carry coupons."""
    if deal.kind == KIND or (deal.kind == GROUP_KIND and "coupons" in (deal.params or {})):
        return pack_terms(deal.params)
    return None


async def load_store_cap(client: redis.asyncio.Redis, deal: Deal) -> None:
    """Give reserve.lua a pack deal's budget per store (packs claimed through each store's
    rooms; 0 for none). Its counts live in the deal's state hash, as `store:<id>`."""
    if deal.kind == KIND:
        cap = int(deal.params.get("store_cap") or 0)
        await client.hset(DealKeys(deal.id).state, "store_cap", str(cap))  # type: ignore[misc]


async def release_store_claim(
    client: redis.asyncio.Redis, deal_id: int, store_id: int | None, quantity: int
) -> None:
    """An unpaid pack claim expired: its store's budget gets the packs back."""
    await client.hincrby(DealKeys(deal_id).state, f"store:{store_id or ''}", -quantity)  # type: ignore[misc]


async def pack_spent(session: AsyncSession, pack_order_id: str) -> bool:
    """Whether an order of the pack's coupons spent one (then the pack is not refundable)."""
    spent = await session.scalar(
        select(Coupon.id)
        .where(Coupon.pack_order_id == pack_order_id, Coupon.used_order_id.is_not(None))
        .limit(1)
    )
    return spent is not None


async def void_pack(session: AsyncSession, pack_order_id: str, at: datetime) -> list[int]:
    """A refunded pack: its coupons not spent end now (those spent stay spent). Returns their
    ids, for `mirror_void` once the transaction commits."""
    ids = list(
        await session.scalars(
            select(Coupon.id).where(
                Coupon.pack_order_id == pack_order_id,
                Coupon.used_order_id.is_(None),
                Coupon.valid_until > at,
            )
        )
    )
    if ids:
        await session.execute(update(Coupon).where(Coupon.id.in_(ids)).values(valid_until=at))
    return ids


async def mirror_void(client: redis.asyncio.Redis, customer_id: int, coupon_ids: list[int]) -> None:
    if coupon_ids:
        await scripts.COUPON_VOID(keys=[mirror_key(customer_id)], args=coupon_ids, client=client)


def mirror_key(customer_id: int) -> str:
    """Hash: coupon id -> "off|min|stackable|from_ms|until_ms|,scope,|used_by_order".
    Outside every deal's slot: a coupon-spending order's script names it next to the deal's
    keys, so those orders need one Redis, not a Cluster."""
    return f"coupons:{customer_id}"


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def mirror_value(coupon: Coupon) -> str:
    scope = "," + ",".join(map(str, coupon.product_ids)) + "," if coupon.product_ids else ""
    return "|".join(
        (
            str(coupon.amount_off_fen),
            str(coupon.min_spend_fen),
            "1" if coupon.stackable else "0",
            str(_ms(coupon.valid_from)),
            str(_ms(coupon.valid_until)),
            scope,
            coupon.used_order_id or "",
        )
    )


async def issue_pack(
    session: AsyncSession, order: Order, at: datetime, *, group_formed: bool = False
) -> list[Coupon]:
    """A paid order of a pack deal, or a member's order of a pack group-buy whose group formed
    (`group_formed`): its coupons, issued once (in the payment's or formation's transaction)."""
    deal = await session.get(Deal, order.deal_id)
    if deal is None or (deal.kind == GROUP_KIND) != group_formed:
        return []
    terms = pack_of(deal)
    if terms is None:
        return []
    existing = list(await session.scalars(select(Coupon).where(Coupon.pack_order_id == order.id)))
    if existing:
        return existing
    issued = [
        Coupon(
            customer_id=order.customer_id,
            pack_deal_id=deal.id,
            pack_order_id=order.id,
            position=position,
            amount_off_fen=coupon.amount_off_fen,
            min_spend_fen=coupon.min_spend_fen,
            stackable=terms.stackable,
            product_ids=list(terms.product_ids),
            valid_from=at,
            valid_until=at + timedelta(days=terms.valid_days),
        )
        for position, coupon in enumerate(terms.coupons)
        for _ in range(order.quantity)
    ]
    for position, coupon in enumerate(issued):
        coupon.position = position
    session.add_all(issued)
    return issued


async def fill_mirror(
    session: AsyncSession, client: redis.asyncio.Redis, customer_id: int, coupon_ids: Sequence[int]
) -> None:
    """Put the customer's chosen coupons in the mirror where it lacks them (never overwriting:
    a field Redis has may record a use SQL has not seen yet)."""
    key = mirror_key(customer_id)
    present = await client.hmget(key, [str(i) for i in coupon_ids])  # type: ignore[misc]
    missing = [i for i, value in zip(coupon_ids, present, strict=True) if value is None]
    if not missing:
        return
    rows = await session.scalars(
        select(Coupon).where(Coupon.id.in_(missing), Coupon.customer_id == customer_id)
    )
    async with client.pipeline(transaction=False) as pipe:
        for coupon in rows:
            pipe.hsetnx(key, str(coupon.id), mirror_value(coupon))
        await pipe.execute()


async def record_use(session: AsyncSession, uses: Iterable[tuple[str, str]]) -> None:
    """The persister writes orders that spent coupons: (order id, "id,id") each. Idempotent."""
    now = utcnow()
    for order_id, csv in uses:
        ids = [int(i) for i in csv.split(",") if i]
        await session.execute(
            update(Coupon)
            .where(Coupon.id.in_(ids), Coupon.used_order_id.is_(None))
            .values(used_order_id=order_id, used_at=now)
        )


async def spent_by_orders(session: AsyncSession, deal_id: int) -> dict[str, tuple[int, ...]]:
    """The coupons each order of a deal spends (rebuilding its answers after a restart)."""
    rows = await session.execute(
        select(Coupon.used_order_id, Coupon.id)
        .join(Order, Order.id == Coupon.used_order_id)
        .where(Order.deal_id == deal_id)
        .order_by(Coupon.id)
    )
    spent: dict[str, tuple[int, ...]] = {}
    for order_id, coupon_id in rows.all():
        if order_id is not None:
            spent[order_id] = (*spent.get(order_id, ()), coupon_id)
    return spent


async def give_back(
    session: AsyncSession, order_id: str, *, valid_at: datetime | None = None
) -> tuple[int, list[int]]:
    """Free the coupons an order spent (those still valid at `valid_at`, when given), in the
    caller's transaction. Returns the customer and the coupon ids freed, for `mirror_give_back`
    once the transaction commits."""
    query = select(Coupon).where(Coupon.used_order_id == order_id)
    if valid_at is not None:
        query = query.where(Coupon.valid_until > valid_at)
    coupons = list(await session.scalars(query))
    if not coupons:
        return 0, []
    ids = [c.id for c in coupons]
    await session.execute(
        update(Coupon).where(Coupon.id.in_(ids)).values(used_order_id=None, used_at=None)
    )
    # Which coupons the order had: a payment after its expiry spends them again (`respend`).
    session.add(OrderEvent(order_id=order_id, kind=RETURNED_EVENT, data={"coupons": ids}))
    return coupons[0].customer_id, ids


async def respend(
    session: AsyncSession, client: redis.asyncio.Redis, order: Order, at: datetime
) -> list[int] | str:
    """A payment arrived for an order that expired and gave back the coupons it spent: spend
    them on it again if every one is still unused and valid (in the mirror, atomically with
    other orders' intake, then in SQL). Returns the coupons spent (none: nothing to do), or why
    they cannot be; the caller refunds the payment then, rather than honour a discount the
    customer no longer holds. In the caller's transaction; `mirror_give_back` undoes it."""
    if order.discount_fen <= 0:
        return []
    data = await session.scalar(
        select(OrderEvent.data)
        .where(OrderEvent.order_id == order.id, OrderEvent.kind == RETURNED_EVENT)
        .order_by(OrderEvent.id.desc())
        .limit(1)
    )
    ids = [int(i) for i in (data or {}).get("coupons", [])]
    if not ids:
        return "the coupons this order spent are unknown"
    await fill_mirror(session, client, order.customer_id, ids)
    spent, why = await scripts.COUPON_RESPEND(
        keys=[mirror_key(order.customer_id)], args=[order.id, _ms(at), *ids], client=client
    )
    if int(spent) != 1:
        return why.decode() if isinstance(why, bytes) else str(why)
    await session.execute(
        update(Coupon)
        .where(Coupon.id.in_(ids), Coupon.used_order_id.is_(None))
        .values(used_order_id=order.id, used_at=at)
    )
    return ids


async def mirror_give_back(
    client: redis.asyncio.Redis, customer_id: int, order_id: str, coupon_ids: Sequence[int]
) -> None:
    """Mark the freed coupons usable in the mirror, only where this order still holds them."""
    if coupon_ids:
        await scripts.COUPON_RETURN(
            keys=[mirror_key(customer_id)],
            args=[order_id, *coupon_ids],
            client=client,
        )


class Chosen(msgspec.Struct, frozen=True):
    """A coupon as the rules see it (the mirror's fields)."""

    id: int
    amount_off_fen: int
    min_spend_fen: int
    stackable: bool
    valid_from: datetime
    valid_until: datetime
    product_ids: tuple[int, ...]
    used: bool


def chosen_of(coupon: Coupon) -> Chosen:
    return Chosen(
        coupon.id,
        coupon.amount_off_fen,
        coupon.min_spend_fen,
        coupon.stackable,
        coupon.valid_from,
        coupon.valid_until,
        tuple(coupon.product_ids),
        coupon.used_order_id is not None,
    )


def discount(chosen: Sequence[Chosen], product_id: int, gross_fen: int, at: datetime) -> int | str:
    """The rules of orders/lua/coupon.lua, for quotes and "my coupons": the amount off, or why
    the set is refused. Every minimum is met by the order's full price; the order still pays at
    least one fen."""
    if len({c.id for c in chosen}) != len(chosen):
        return "a coupon is chosen twice"
    total = 0
    for coupon in chosen:
        if coupon.used:
            return f"coupon {coupon.id} is used"
        if not coupon.valid_from <= at < coupon.valid_until:
            return f"coupon {coupon.id} is not valid now"
        if coupon.product_ids and product_id not in coupon.product_ids:
            return f"coupon {coupon.id} does not apply to this product"
        if gross_fen < coupon.min_spend_fen:
            return f"coupon {coupon.id} needs a spend of {coupon.min_spend_fen} fen"
        total += coupon.amount_off_fen
    if len(chosen) > 1 and not all(c.stackable for c in chosen):
        return "a coupon chosen does not stack with others"
    return min(total, max(gross_fen - 1, 0))
