"""Deals: one mechanism for every way of selling live (flash sale now; group-buy, coupon pack,
order on behalf next). A deal is a price, a stock, a window in time and a per-customer limit;
its `kind` adds rules on top and its `params` carry kind-specific settings.

The database holds a deal's terms and its total stock; Redis holds, while it sells, the
counter of units free to order (see orders/lua/). Every change here commits first, then
updates Redis, then returns the news for the rooms (orders/rooms_port.py), which its caller
publishes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import msgspec
import redis.asyncio
from sqlalchemy import func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from orders import coupons, scripts
from orders.groups_terms import GROUP_KIND, GroupTermsError, group_terms
from orders.keys import GROUP, STREAMS_KEY, DealKeys
from orders.models import Deal, Order, Product, Refund, units_kept
from orders.rooms_port import RoomNews, Rooms, deal_state
from orders.schemas import DealCreate, DealTerms, DealView
from orders.statuses import SOLD, DealStatus, OrderStatus
from server.bounds import INT32_MAX
from server.errors import Conflict, Invalid, NotFound
from server.redis import GATES_KEY, is_rebuilt

KINDS = frozenset({"flash_sale", "regular", GROUP_KIND, coupons.KIND, "on_behalf"})
"""Planned kinds whose rules do not exist yet: accepted, they would sell as plain sales."""
POLICIES = frozenset({"hold", "first_paid"})
LATE_REFUND_REASON = "paid_after_expiry_sold_out"


class BadDeal(Invalid):
    """A deal HQ plans that the rules refuse; the message says why."""


class DealError(Conflict):
    """A deal's state refuses the change asked of it; the message says why."""


class DealNotFound(NotFound):
    pass


def to_ms(at: datetime | None) -> int | None:
    return None if at is None else int(at.timestamp() * 1000)


def from_ms(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, UTC)


DealCheck = Callable[[AsyncSession, Deal], Awaitable[None]]
"""More rules on a new deal, run in its transaction once it has its id (a store host's:
orders/deals_limits.py); raising refuses the deal."""


async def create_deal(
    session: AsyncSession, data: DealCreate, *, rooms: Rooms, check: DealCheck | None = None
) -> Deal:
    """HQ (or a store host, with `check`) plans a deal; it sells once launched. In a
    transaction of its own, or in the caller's if one is open (live/ plans a deal and shows
    it in a window in one: live/window_edits.plan_item_deal)."""
    if data.kind not in KINDS:
        raise BadDeal(f"kind must be one of {sorted(KINDS)}")
    if data.stock_policy not in POLICIES:
        raise BadDeal(f"stock_policy must be one of {sorted(POLICIES)}")
    if data.price_fen < 0 or data.stock < 0 or data.per_customer_limit < 0:
        raise BadDeal("price_fen, stock and per_customer_limit must not be negative")
    if data.starts_at_ms and data.ends_at_ms and data.ends_at_ms <= data.starts_at_ms:
        raise BadDeal("ends_at_ms must be after starts_at_ms")
    if data.kind == GROUP_KIND:
        try:
            group_terms(data.params)
        except GroupTermsError as exc:
            raise BadDeal(str(exc)) from exc
    per_customer_limit = data.per_customer_limit
    if data.kind == coupons.KIND or (data.kind == GROUP_KIND and "coupons" in data.params):
        try:
            coupons.pack_terms(dict(data.params))
        except coupons.PackError as exc:
            raise BadDeal(str(exc)) from exc
        per_customer_limit = 1  # a pack is claimed once per customer
    own = session.begin() if not session.in_transaction() else contextlib.nullcontext()
    async with own:
        if await session.get(Product, data.product_id) is None:
            raise BadDeal(f"no product {data.product_id}")
        if data.broadcast_id is not None and not await rooms.broadcast_exists(
            session, data.broadcast_id
        ):
            raise BadDeal(f"no broadcast {data.broadcast_id}")
        deal = Deal(
            kind=data.kind,
            product_id=data.product_id,
            broadcast_id=data.broadcast_id,
            price_fen=data.price_fen,
            stock=data.stock,
            per_customer_limit=per_customer_limit,
            starts_at=from_ms(data.starts_at_ms),
            ends_at=from_ms(data.ends_at_ms),
            stock_policy=data.stock_policy,
            params=dict(data.params),
            status=DealStatus.DRAFT,
            presale=data.presale,
        )
        session.add(deal)
        if check is not None:
            await session.flush()
            await check(session, deal)
    return deal


async def sold_units(session: AsyncSession, deal_id: int) -> int:
    """Units paid for and not refunded back into the stock."""
    units = await session.scalar(
        select(func.coalesce(func.sum(units_kept()), 0)).where(
            Order.deal_id == deal_id, Order.status.in_(SOLD)
        )
    )
    return int(units or 0)


class SoldOrders(msgspec.Struct, frozen=True):
    """A deal's sales as one statement saw them: every figure from the same commits."""

    units: int
    refund_ids: list[str]
    """The refunds already subtracted from `units`."""
    per_customer: dict[int, int]
    """Units each customer bought and kept (paid, net of refunded units)."""
    order_ids: frozenset[str]
    """The deal's orders in SOLD."""


async def sold_orders(session: AsyncSession, deal_id: int) -> SoldOrders:
    """The deal's sold orders and refunds in ONE statement. The reconciliation compares these
    figures with each other: read by separate statements, a payment committing between them
    (PostgreSQL's read committed takes a snapshot per statement; SQLite reads outside a
    write transaction autocommit) is counted in one figure and not in the other, and the
    counter it writes gives units back that were sold."""
    orders = select(
        literal("order"), Order.id, Order.customer_id, units_kept().label("units")
    ).where(Order.deal_id == deal_id, Order.status.in_(SOLD))
    refunds = (
        select(literal("refund"), Refund.id, literal(0), Refund.quantity)
        .join(Order, Order.id == Refund.order_id)
        .where(
            Order.deal_id == deal_id,
            Order.status.in_(SOLD),
            Refund.reason != LATE_REFUND_REASON,
        )
    )
    units = 0
    refund_ids: list[str] = []
    per_customer: dict[int, int] = {}
    order_ids: set[str] = set()
    for kind, row_id, customer, quantity in await session.execute(union_all(orders, refunds)):
        if kind == "refund":
            refund_ids.append(row_id)
            continue
        units += int(quantity or 0)
        per_customer[int(customer)] = per_customer.get(int(customer), 0) + int(quantity or 0)
        order_ids.add(row_id)
    return SoldOrders(units, refund_ids, per_customer, frozenset(order_ids))


async def pending_held_units(session: AsyncSession, deal: Deal) -> int:
    """Units the database's unpaid orders hold (none under first_paid)."""
    if deal.stock_policy != "hold":
        return 0
    held = await session.scalar(
        select(func.coalesce(func.sum(Order.quantity), 0)).where(
            Order.deal_id == deal.id, Order.status == OrderStatus.PENDING_PAYMENT
        )
    )
    return int(held or 0)


async def load_terms(
    client: redis.asyncio.Redis, deal: Deal, available: int, gate: str | None = None
) -> int:
    """Put the deal's terms in Redis; `available` becomes its counter only if it has none.
    A new counter's gate is `gate`; by default open only on a Redis the service has rebuilt
    since it started."""
    keys = DealKeys(deal.id)
    args: list[str | int] = [
        deal.status,
        deal.price_fen,
        deal.per_customer_limit,
        to_ms(deal.starts_at) or "",
        to_ms(deal.ends_at) or "",
        deal.stock_policy,
        deal.broadcast_id or "",
        deal.product_id,
        deal.kind,
        available,
        deal.stock,
        gate or ("open" if await is_rebuilt(client) else "closed"),
    ]
    left = int(await scripts.LOAD(keys=[keys.state], args=args, client=client))
    await coupons.load_store_cap(client, deal)
    return left


async def ensure_stream(client: redis.asyncio.Redis, deal_id: int) -> None:
    """Make the deal's order stream and its consumer group, and list it for the persister."""
    keys = DealKeys(deal_id)
    try:
        await client.xgroup_create(keys.stream, GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise
    await client.sadd(STREAMS_KEY, deal_id)  # type: ignore[misc]
    await client.sadd(GATES_KEY, keys.state)  # type: ignore[misc]


DealChange = tuple[DealView, list[RoomNews]]
"""A deal's new state, and the news of it for the rooms."""


async def _set_status(
    session: AsyncSession, client: redis.asyncio.Redis, deal_id: int, status: DealStatus
) -> DealChange:
    async with session.begin():
        deal = await session.get(Deal, deal_id, with_for_update=True)
        if deal is None:
            raise DealNotFound(f"no deal {deal_id}")
        if deal.status == DealStatus.ENDED and status != DealStatus.ENDED:
            raise DealError("the deal has ended")
        deal.status = status
        sold = await sold_units(session, deal_id)
        held = await pending_held_units(session, deal) if status == DealStatus.LIVE else 0
    await ensure_stream(client, deal_id)
    # Used only when Redis has no counter for the deal yet (first launch, or after Redis lost
    # it: orders/reconcile.py rebuilds the holds first).
    left = await load_terms(client, deal, deal.stock - sold - held)
    view = _snapshot(deal, left, status)
    return view, deal_state(deal.broadcast_id, view)


async def launch_deal(
    session: AsyncSession, redis: redis.asyncio.Redis, deal_id: int
) -> DealChange:
    """Put a deal on sale: status live in the database, its stock loaded into Redis."""
    return await _set_status(session, redis, deal_id, DealStatus.LIVE)


async def stop_deal(session: AsyncSession, redis: redis.asyncio.Redis, deal_id: int) -> DealChange:
    """Stop taking orders; orders already taken can still be paid. A stopped deal may relaunch."""
    return await _set_status(session, redis, deal_id, DealStatus.STOPPED)


async def end_deal(session: AsyncSession, redis: redis.asyncio.Redis, deal_id: int) -> DealChange:
    """The deal is over for good (its window closed or HQ ended it)."""
    return await _set_status(session, redis, deal_id, DealStatus.ENDED)


async def add_stock(
    session: AsyncSession, client: redis.asyncio.Redis, deal_id: int, units: int
) -> DealChange:
    """HQ adds units to a deal, running or not; a running deal sells them at once."""
    if units <= 0:
        raise DealError("units must be at least 1")
    async with session.begin():
        deal = await session.get(Deal, deal_id, with_for_update=True)
        if deal is None:
            raise DealNotFound(f"no deal {deal_id}")
        if deal.stock + units > INT32_MAX:
            raise DealError(f"a deal holds at most {INT32_MAX} units")
        deal.stock += units
    left = await scripts.ADD_STOCK(keys=[DealKeys(deal_id).state], args=[deal.stock], client=client)
    if left is None:  # never launched: the counter is made at launch from the new stock
        return (await deal_snapshots(client, session, [deal_id]))[deal_id], []
    view = _snapshot(deal, int(left), deal.status)
    return view, deal_state(deal.broadcast_id, view)


def _snapshot(deal: Deal, left: int, status: DealStatus) -> DealView:
    return DealView(
        deal_id=deal.id,
        kind=deal.kind,
        status=status,
        price_fen=deal.price_fen,
        stock_left=left,
        per_customer_limit=deal.per_customer_limit,
        starts_at_ms=to_ms(deal.starts_at),
        ends_at_ms=to_ms(deal.ends_at),
        product_id=deal.product_id,
        broadcast_id=deal.broadcast_id,
        presale=deal.presale,
    )


async def deal_snapshots(
    redis: redis.asyncio.Redis, session: AsyncSession, deal_ids: list[int]
) -> dict[int, DealView]:
    """Terms from the database, live stock and status from Redis (where the deal has them)."""
    if not deal_ids:
        return {}
    deals = (await session.scalars(select(Deal).where(Deal.id.in_(deal_ids)))).all()
    async with redis.pipeline(transaction=False) as pipe:
        for deal in deals:
            pipe.hmget(DealKeys(deal.id).state, ["status", "stock"])
        states = await pipe.execute()
    found = {}
    for deal, (status, stock) in zip(deals, states, strict=True):
        left = deal.stock - await sold_units(session, deal.id) if stock is None else int(stock)
        found[deal.id] = _snapshot(
            deal, left, DealStatus(status.decode()) if status else deal.status
        )
    return found


async def deal_terms(session: AsyncSession, deal_id: int) -> DealTerms | None:
    """For other packages: a deal's terms (product, broadcast) to check a link against."""
    deal = await session.get(Deal, deal_id)
    return None if deal is None else DealTerms(deal.id, deal.product_id, deal.broadcast_id)


async def adopt_deal(session: AsyncSession, deal_id: int, broadcast_id: int) -> None:
    """A deal planned without a broadcast sells where it is first shown: from then on its
    launch, stop and stock are announced on that broadcast's stream. In the caller's
    transaction, so the window's link and the adoption commit together."""
    deal = await session.get(Deal, deal_id)
    if deal is not None and deal.broadcast_id is None:
        deal.broadcast_id = broadcast_id
