"""Reconciliation of each selling deal's Redis state with the database: the counter (both
directions), the customers' counts, and the idempotency answers of the orders SQL has.

The truth: units free = deal.stock - units sold (paid, net of refunds put back) - units held
by unsettled orders. The holds live in Redis; the sale and the stock in SQL. Two passes:

1. Holds past their pay-by time plus HOLD_GRACE_MS (only those: the database is not asked
   about every hold each minute): one whose order the database shows paid is settled
   (dropped, no units back); one whose order expired or was cancelled, or that never reached
   the database, is released.
2. Counter and counts: read the deal's `version`, read the database, then the reconcile
   script recomputes the counter and every customer's count only if no script touched the
   deal since (else retry). Every
   change to a deal's Redis state bumps `version`, and every path writes its hold before
   its sale commits and drops it after, so the recomputation never counts sold units free.
"""

from __future__ import annotations

import time

import msgspec
import structlog
from sqlalchemy import select

from orders import scripts
from orders.deals import end_deal, ensure_stream, sold_orders
from orders.keys import DealKeys
from orders.models import Deal, Order
from orders.restore import rebuild_deal, restore_answers
from orders.rooms_port import Rooms, stock_left
from orders.statuses import CLOSED_UNPAID, SELLING, SOLD, DealStatus, OrderStatus
from server.model_base import utcnow
from server.redis import is_rebuilt, open_gate
from server.services import Services

log = structlog.get_logger()

HOLD_GRACE_MS = 60_000
"""A hold outlives its pay-by by this much before it may be called leaked: the expiry job and
the payment path finish well within it."""
ATTEMPTS = 5


class Reconciled(msgspec.Struct, frozen=True):
    deal_id: int
    stock_before: int
    stock_after: int
    applied: bool
    holds_released: int = 0
    holds_settled: int = 0
    customers_repaired: int = 0
    answers_repaired: int = 0


async def reconcile_holds(services: Services, deal_id: int) -> tuple[int, int]:
    keys = DealKeys(deal_id)
    raw = await services.redis.hgetall(keys.holds)  # type: ignore[misc]
    # Only holds past their pay-by plus the grace can have leaked: a fresh one is its order's
    # to settle or expire, and the counter pass counts it right meanwhile. So the database is
    # asked about the few stale holds, not about every order of the pay window each minute.
    now_ms = int(time.time() * 1000)
    holds = {
        hold_id: entry
        for hold_id, entry in ((k.decode(), v.decode()) for k, v in raw.items())
        if now_ms > int(entry.split("|")[2]) + HOLD_GRACE_MS
    }
    if not holds:
        return 0, 0
    order_ids = list({hold.split(":")[0] for hold in holds})
    statuses: dict[str, OrderStatus] = {}
    async with services.sessionmaker() as session:
        for start in range(0, len(order_ids), 500):
            rows = await session.execute(
                select(Order.id, Order.status).where(Order.id.in_(order_ids[start : start + 500]))
            )
            statuses.update({order_id: status for order_id, status in rows.all()})
    released = settled = 0
    for hold_id in holds:
        status = statuses.get(hold_id.split(":")[0])
        if status in SOLD:
            await scripts.SETTLE(
                keys=[keys.state, keys.holds], args=[hold_id], client=services.redis
            )
            settled += 1
        elif status in CLOSED_UNPAID or status is None:
            await scripts.RELEASE(
                keys=[keys.state, keys.buyers, keys.holds], args=[hold_id], client=services.redis
            )
            released += 1
            if status is None:
                log.error("orders.hold_without_order", deal_id=deal_id, order_id=hold_id)
    return released, settled


async def reconcile_deal(services: Services, deal_id: int, *, rooms: Rooms) -> Reconciled:
    released, settled = await reconcile_holds(services, deal_id)
    keys = DealKeys(deal_id)
    before = 0
    for _ in range(ATTEMPTS):
        version = await services.redis.hget(keys.state, "version")  # type: ignore[misc]
        hold_ids = [k.decode() for k in await services.redis.hkeys(keys.holds)]  # type: ignore[misc]
        async with services.sessionmaker() as session:
            deal = await session.get(Deal, deal_id)
            if deal is None:
                raise ValueError(f"no deal {deal_id}")
            if version is None:  # Redis lost the deal (or never had it): rebuild it from SQL
                if deal.status != DealStatus.LIVE:
                    return Reconciled(deal_id, 0, 0, False, released, settled)
                await ensure_stream(services.redis, deal_id)
                left = await rebuild_deal(services, deal_id)
                if await is_rebuilt(services.redis):  # else the restorer opens it
                    await open_gate(services.redis, keys.state)
                return Reconciled(deal_id, 0, left, True, released, settled)
            sold = await sold_orders(session, deal_id)
        sold_holds = list({h.split(":")[0] for h in hold_ids} & sold.order_ids)
        pairs = [str(part) for item in sold.per_customer.items() for part in item]
        applied, before, after, repaired = await scripts.RECONCILE(
            keys=[keys.state, keys.holds, keys.restocked, keys.buyers],
            args=[
                version,
                deal.stock,
                sold.units,
                len(sold.refund_ids),
                *sold.refund_ids,
                len(sold_holds),
                *sold_holds,
                *pairs,
            ],
            client=services.redis,
        )
        if applied:
            if repaired:
                log.warning("orders.customer_counts_repaired", deal_id=deal_id, customers=repaired)
            if before != after:
                log.warning(
                    "orders.stock_drift_repaired", deal_id=deal_id, redis=before, database=after
                )
                await rooms.publish(stock_left(deal.broadcast_id, deal_id, int(after)))
            answers = await restore_answers(services, deal_id)
            if answers:
                log.warning("orders.idempotency_answers_repaired", deal_id=deal_id, keys=answers)
            return Reconciled(
                deal_id, int(before), int(after), True, released, settled, int(repaired), answers
            )
    log.info("orders.reconcile_busy", deal_id=deal_id)
    return Reconciled(deal_id, int(before), int(before), False, released, settled)


async def reconcile_all(services: Services, *, rooms: Rooms) -> list[Reconciled]:
    """Every deal that sells or may sell again; deals past their end are ended first."""
    now = utcnow()
    async with services.sessionmaker() as session:
        deals = list(
            await session.execute(select(Deal.id, Deal.ends_at).where(Deal.status.in_(SELLING)))
        )
    done = []
    for deal_id, ends_at in deals:
        if ends_at is not None and ends_at <= now:
            async with services.sessionmaker() as session:
                _, news = await end_deal(session, services.redis, deal_id)
            await rooms.publish(news)
        done.append(await reconcile_deal(services, deal_id, rooms=rooms))
    return done
