"""Rebuilding a deal's Redis state from SQL, after Redis restarted or lost it.

A Redis that restarts replays its AOF, which under `appendfsync everysec` may lack its last
second: orders of that second may already be in SQL while their holds, the customers' counts
and the idempotency answers are gone from Redis. Selling on that state oversells, breaks
limits, and answers a retried key with a new order. So:

1. Every connection the service opens checks Redis' run id against the boot marker
   (`server/redis.py`); a Redis that restarted has a new run id, and that first connection
   closes the gate of every deal before any command of ours runs on it. reserve.lua refuses
   orders (`retry`) and take.lua payments (provider retries) while a deal's gate is closed.
2. The worker's `Restorer` notices the new run id within a second, writes every order still
   in the deals' streams into SQL (idempotent inserts), rebuilds each deal from SQL: the
   counter, the holds of unpaid orders, the customers' counts and the idempotency answers of
   the orders the database has, and a group-buy's groups (orders/groups_restore.py); then
   records the run id and opens the gates.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import defaultdict
from datetime import UTC, datetime

import structlog
from redis.exceptions import BusyLoadingError
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from orders import coupons, deals
from orders.groups_restore import rebuild_groups
from orders.groups_seats import SeatCopier, record_seats
from orders.groups_terms import GROUP_KIND
from orders.intake import IntakeRequest, answer_ttl_ms, fingerprint
from orders.keys import RESTORE_LOCK, STREAMS_KEY, DealKeys, idempotency_claim
from orders.models import Deal, Order, Refund
from orders.persister import insert_orders, order_row
from orders.statuses import SELLING, SOLD, OrderStatus
from server.model_base import utcnow
from server.redis import BOOT_KEY, GATES_KEY, close_gates, open_gate, run_id
from server.services import Services

log = structlog.get_logger()

CHECK_EVERY_S = 0.5
"""How soon after a Redis restart the worker starts rebuilding: orders wait that long more."""
RESTORE_LOCK_S = 120
"""Longer than any rebuild takes; a worker killed mid-rebuild holds it no longer than this."""


def _answer_ttl(deal: Deal, accepted_at: datetime, pay_by: datetime) -> int:
    """What is left of an order's idempotency answer's life (orders/intake.py answer_ttl_ms)."""
    pay_by_ms = int(pay_by.timestamp() * 1000)
    ends_ms = int(deal.ends_at.timestamp() * 1000) if deal.ends_at else None
    window_ms = pay_by_ms - int(accepted_at.timestamp() * 1000)
    return answer_ttl_ms(int(utcnow().timestamp() * 1000), pay_by_ms, ends_ms, window_ms)


async def rebuild_deal(services: Services, deal_id: int) -> int:
    """Rewrite the deal's Redis state from SQL; returns the units left. Leaves the gate as it
    is (closed after a restart): the caller opens it."""
    keys = DealKeys(deal_id)
    async with services.sessionmaker() as session:
        deal = await session.get(Deal, deal_id)
        if deal is None:
            raise ValueError(f"no deal {deal_id}")
        orders = (
            await session.execute(
                select(
                    Order.id,
                    Order.customer_id,
                    Order.quantity,
                    Order.status,
                    Order.pay_by,
                    Order.idempotency_key,
                    Order.amount_fen,
                    Order.accepted_at,
                    Order.room_store_id,
                ).where(Order.deal_id == deal_id)
            )
        ).all()
        refunded = dict(
            (
                await session.execute(
                    select(Refund.order_id, func.sum(Refund.quantity))
                    .join(Order, Order.id == Refund.order_id)
                    .where(Order.deal_id == deal_id, Order.status.in_(SOLD))
                    .group_by(Refund.order_id)
                )
            ).all()
        )
        sold = await deals.sold_orders(session, deal_id)
        spent = await coupons.spent_by_orders(session, deal_id)
    held = "1" if deal.stock_policy == "hold" else "0"
    holds: dict[str, str] = {}
    buyers: dict[int, int] = defaultdict(int)
    held_units = 0
    answers: list[tuple[str, str, str, int]] = []
    store_claims: dict[str, int] = defaultdict(int)  # a coupon pack's budget per store
    for order_id, customer, quantity, status, pay_by, key, amount, accepted_at, store in orders:
        if status == OrderStatus.PENDING_PAYMENT or status in SOLD:
            store_claims[f"store:{store or ''}"] += quantity
        pay_by_ms = int(pay_by.timestamp() * 1000)
        if status == OrderStatus.PENDING_PAYMENT:
            holds[order_id] = f"{quantity}|{customer}|{pay_by_ms}|{held}"
            buyers[customer] += quantity
            held_units += quantity if held == "1" else 0
        elif status in SOLD:
            buyers[customer] += quantity - int(refunded.get(order_id) or 0)
        ttl_ms = _answer_ttl(deal, accepted_at, pay_by)
        if ttl_ms > 0:
            request = IntakeRequest(
                customer, deal_id, quantity, key, coupon_ids=spent.get(order_id, ())
            )
            answers.append(
                (
                    keys.idempotency(customer, key),
                    idempotency_claim(customer, key),
                    f"{fingerprint(request)}|{order_id}|{amount}|{pay_by_ms}",
                    ttl_ms,
                )
            )
    left = deal.stock - sold.units - held_units
    if deal.status in SELLING:
        # Closed until the caller opens it: nothing sells between this and the rewrite below.
        await deals.load_terms(services.redis, deal, left, gate="closed")
    async with services.redis.pipeline(transaction=True) as pipe:
        pipe.delete(keys.holds, keys.buyers)
        if holds:
            pipe.hset(keys.holds, mapping=holds)
        counts = {str(c): n for c, n in buyers.items() if n}
        if counts:
            pipe.hset(keys.buyers, mapping=counts)
        pipe.hset(keys.state, mapping={"stock": left, "total": deal.stock})
        if deal.kind == coupons.KIND and store_claims:
            pipe.hset(keys.state, mapping=dict(store_claims))
        pipe.hincrby(keys.state, "version", 1)
        if sold.refund_ids:
            pipe.sadd(keys.restocked, *sold.refund_ids)
        for idem_key, claim, answer, ttl_ms in answers:
            pipe.set(idem_key, answer, px=ttl_ms)
            pipe.set(claim, deal_id, px=ttl_ms)
        await pipe.execute()
    if deal.kind == GROUP_KIND:
        await rebuild_groups(services, deal_id)
    log.warning(
        "orders.deal_rebuilt", deal_id=deal_id, orders=len(orders), holds=len(holds), left=left
    )
    return left


ANSWERS_CURSOR_TTL_S = 24 * 3600
"""The cursor outlives any deal's selling night; a deal that sells again after it lapsed is
read once more from its start."""


async def restore_answers(services: Services, deal_id: int) -> int:
    """Put back the idempotency answers of the deal's orders that Redis lost (SET NX: an answer
    Redis has stays); returns how many were missing.

    Incremental: a cursor in Redis (`answers_cursor`) holds the acceptance time of the last
    order looked at, so each run reads only the orders persisted since. Redis losing the answers
    loses the cursor with them, and the next run reads the deal from its start."""
    keys = DealKeys(deal_id)
    cursor = await services.redis.get(keys.answers_cursor)
    query = select(
        Order.id,
        Order.customer_id,
        Order.quantity,
        Order.idempotency_key,
        Order.amount_fen,
        Order.pay_by,
        Order.accepted_at,
    ).where(Order.deal_id == deal_id)
    if cursor is not None:
        since = datetime.fromtimestamp(int(cursor) / 1000, UTC)
        query = query.where(Order.accepted_at > since)
    async with services.sessionmaker() as session:
        deal = await session.get(Deal, deal_id)
        orders = (await session.execute(query)).all()
        spent = await coupons.spent_by_orders(session, deal_id) if orders else {}
    if deal is None or not orders:
        return 0
    newest = max(accepted_at for *_, accepted_at in orders)
    async with services.redis.pipeline(transaction=False) as pipe:
        for order_id, customer, quantity, key, amount, pay_by, accepted_at in orders:
            ttl_ms = _answer_ttl(deal, accepted_at, pay_by)
            if ttl_ms <= 0:
                continue
            request = IntakeRequest(
                customer, deal_id, quantity, key, coupon_ids=spent.get(order_id, ())
            )
            answer = f"{fingerprint(request)}|{order_id}|{amount}|{int(pay_by.timestamp() * 1000)}"
            pipe.set(keys.idempotency(customer, key), answer, px=ttl_ms, nx=True)
            pipe.set(idempotency_claim(customer, key), deal_id, px=ttl_ms, nx=True)
        pipe.set(keys.answers_cursor, int(newest.timestamp() * 1000), ex=ANSWERS_CURSOR_TTL_S)
        replies = await pipe.execute()
    return sum(1 for reply in replies[:-1:2] if reply)


async def persist_streams(services: Services) -> int:
    """Write every order entry still in a deal stream into SQL (already there: nothing), with
    the group seats they took, so the rebuild sees every order Redis still knows of."""
    written = 0
    copier = SeatCopier(services)
    for member in await services.redis.smembers(STREAMS_KEY):  # type: ignore[misc]
        entries = await services.redis.xrange(DealKeys(int(member)).stream)
        rows = []
        for _, fields in entries:
            try:
                rows.append(order_row(fields))
            except (KeyError, ValueError):
                continue
        seats = await copier.seats_of(int(member), rows)
        try:
            async with services.sessionmaker() as session, session.begin():
                await insert_orders(session, rows)
                await record_seats(session, seats)
        except IntegrityError:  # one row breaks (customer, key): the others still go in
            for row in rows:
                try:
                    async with services.sessionmaker() as session, session.begin():
                        await insert_orders(session, [row])
                        own = [s for s in seats if s["order_id"] == row["id"]]
                        await record_seats(session, own)
                except IntegrityError:
                    log.error("orders.restore_entry_refused", order_id=row["id"])
        written += len(rows)
    return written


async def restore_all(services: Services, boot: str) -> list[int]:
    """After a restart of Redis (run id `boot`): rebuild every deal that sells or may sell
    again, then mark Redis rebuilt and open the gates."""
    client = services.redis
    log.warning("orders.redis_restore_started", run_id=boot)
    await close_gates(client)
    entries = await persist_streams(services)
    async with services.sessionmaker() as session:
        deal_ids = list(await session.scalars(select(Deal.id).where(Deal.status.in_(SELLING))))
    for deal_id in deal_ids:
        await rebuild_deal(services, deal_id)
    await client.set(BOOT_KEY, boot)
    for key in await client.smembers(GATES_KEY):  # type: ignore[misc]
        await open_gate(client, key.decode())
    log.warning("orders.redis_restored", run_id=boot, deals=len(deal_ids), stream_entries=entries)
    return deal_ids


async def restore_if_restarted(services: Services) -> bool:
    """Rebuild when this Redis has not been rebuilt since it started; True if it did. One
    worker at a time: a second rebuild after the first opened the gates would rewrite the
    holds of orders taken meanwhile from an older read of SQL."""
    client = services.redis
    boot = await run_id(client)
    if await _marked(services, boot):
        return False
    token = secrets.token_hex(8)
    if not await client.set(RESTORE_LOCK, token, nx=True, ex=RESTORE_LOCK_S):
        return False
    try:
        if await _marked(services, boot):  # another worker finished meanwhile
            return False
        await restore_all(services, boot)
        return True
    finally:
        await client.eval(
            "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end",
            1,
            RESTORE_LOCK,
            token,
        )  # type: ignore[misc]


async def _marked(services: Services, boot: str) -> bool:
    marker = await services.redis.get(BOOT_KEY)
    return marker is not None and marker.decode() == boot


class Restorer:
    """The worker's watch for a restarted Redis (started by its startup hook)."""

    def __init__(self, services: Services, every_s: float = CHECK_EVERY_S) -> None:
        self.services = services
        self.every_s = every_s

    async def run(self) -> None:
        while True:
            started = time.monotonic()
            try:
                await restore_if_restarted(self.services)
            except asyncio.CancelledError:
                raise
            except (RedisConnectionError, BusyLoadingError) as exc:
                log.info("orders.restore_waiting_for_redis", error=str(exc))
            except Exception:
                log.exception("orders.restore_failed")
            await asyncio.sleep(max(0.0, self.every_s - (time.monotonic() - started)))
