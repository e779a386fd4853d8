"""Reconciliation of each selling deal's Redis counter with the database, both directions.

The truth: units free = deal.stock - units sold (paid, net of refunds put back) - units held
by unsettled orders. The holds live in Redis; the sale and the stock in SQL. Two passes:

1. Holds: a hold whose order the database shows paid is settled (dropped, no units back);
   one whose order expired or was cancelled, or that never reached the database, is
   released once its pay-by time plus HOLD_GRACE_MS has passed.
2. Counter: read the deal's `version`, read the database, then the reconcile script
   recomputes the counter only if no script touched the deal since (else retry). Every
   change to a deal's Redis state bumps `version`, and every path writes its hold before
   its sale commits and drops it after, so the recomputation never counts sold units free.
"""

from __future__ import annotations

import time

import msgspec
import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from orders import announce, scripts
from orders.deals import end_deal, launch_deal, sold_units
from orders.keys import DealKeys
from orders.models import Deal, Order
from server.model_base import utcnow
from server.services import Services

log = structlog.get_logger()

HOLD_GRACE_MS = 60_000
"""A hold outlives its pay-by by this much before it may be called leaked: the expiry job and
the payment path finish well within it."""
ATTEMPTS = 5
CLOSED = ("expired", "cancelled")
SOLD = ("paid", "partially_refunded", "refunded")


class Reconciled(msgspec.Struct, frozen=True):
    deal_id: int
    stock_before: int
    stock_after: int
    applied: bool
    holds_released: int = 0
    holds_settled: int = 0


async def reconcile_holds(services: Services, deal_id: int) -> tuple[int, int]:
    keys = DealKeys(deal_id)
    raw = await services.redis.hgetall(keys.holds)  # type: ignore[misc]
    holds = {k.decode(): v.decode() for k, v in raw.items()}
    if not holds:
        return 0, 0
    order_ids = list({hold.split(":")[0] for hold in holds})
    statuses: dict[str, str] = {}
    async with services.sessionmaker() as session:
        for start in range(0, len(order_ids), 500):
            rows = await session.execute(
                select(Order.id, Order.status).where(Order.id.in_(order_ids[start : start + 500]))
            )
            statuses.update({order_id: status for order_id, status in rows.all()})
    now_ms = int(time.time() * 1000)
    released = settled = 0
    for hold_id, entry in holds.items():
        status = statuses.get(hold_id.split(":")[0])
        pay_by_ms = int(entry.split("|")[2])
        if status in SOLD:
            await scripts.SETTLE(
                keys=[keys.state, keys.holds], args=[hold_id], client=services.redis
            )
            settled += 1
        elif (status in CLOSED or status is None) and now_ms > pay_by_ms + HOLD_GRACE_MS:
            await scripts.RELEASE(
                keys=[keys.state, keys.buyers, keys.holds], args=[hold_id], client=services.redis
            )
            released += 1
            if status is None:
                log.error("orders.hold_without_order", deal_id=deal_id, order_id=hold_id)
    return released, settled


async def rebuild_holds(services: Services, session: AsyncSession, deal: Deal) -> None:
    """Redis lost a live deal: put back the holds of its unpaid orders and the customers'
    counts from the database, before the counter is loaded net of them."""
    keys = DealKeys(deal.id)
    if await services.redis.exists(keys.holds, keys.buyers):
        return  # only the terms were lost; the holds are still there
    rows = (
        await session.execute(
            select(Order.id, Order.customer_id, Order.quantity, Order.status, Order.pay_by).where(
                Order.deal_id == deal.id, Order.status.in_(("pending_payment", *SOLD))
            )
        )
    ).all()
    held = "1" if deal.stock_policy == "hold" else "0"
    async with services.redis.pipeline(transaction=False) as pipe:
        for order_id, customer_id, quantity, status, pay_by in rows:
            pipe.hincrby(keys.buyers, str(customer_id), quantity)
            if status == "pending_payment":
                pay_by_ms = int(pay_by.timestamp() * 1000)
                pipe.hset(keys.holds, order_id, f"{quantity}|{customer_id}|{pay_by_ms}|{held}")
        await pipe.execute()
    log.warning("orders.deal_reloaded", deal_id=deal.id, orders=len(rows))


async def reconcile_deal(services: Services, deal_id: int) -> Reconciled:
    released, settled = await reconcile_holds(services, deal_id)
    keys = DealKeys(deal_id)
    for _ in range(ATTEMPTS):
        version = await services.redis.hget(keys.state, "version")  # type: ignore[misc]
        async with services.sessionmaker() as session:
            deal = await session.get(Deal, deal_id)
            if deal is None:
                raise ValueError(f"no deal {deal_id}")
            if version is None:  # Redis lost the deal (or never had it): load it afresh
                snapshot = None
                if deal.status == "live":
                    await rebuild_holds(services, session, deal)
                    snapshot = await launch_deal(session, services.redis, deal_id)
                left = snapshot.stock_left if snapshot else 0
                return Reconciled(deal_id, 0, left, snapshot is not None, released, settled)
            sold = await sold_units(session, deal_id)
        applied, before, after = await scripts.RECONCILE(
            keys=[keys.state, keys.holds, keys.restocked],
            args=[version, deal.stock, sold.units, *sold.refund_ids],
            client=services.redis,
        )
        if applied:
            if before != after:
                log.warning(
                    "orders.stock_drift_repaired", deal_id=deal_id, redis=before, database=after
                )
                await announce.stock(services.redis, deal.broadcast_id, deal_id, int(after))
            return Reconciled(deal_id, int(before), int(after), True, released, settled)
    log.info("orders.reconcile_busy", deal_id=deal_id)
    return Reconciled(deal_id, int(before), int(before), False, released, settled)


async def reconcile_all(services: Services) -> list[Reconciled]:
    """Every deal that sells or may sell again; deals past their end are ended first."""
    now = utcnow()
    async with services.sessionmaker() as session:
        deals = list(
            await session.execute(
                select(Deal.id, Deal.ends_at).where(Deal.status.in_(("live", "stopped")))
            )
        )
    done = []
    for deal_id, ends_at in deals:
        if ends_at is not None and ends_at <= now:
            async with services.sessionmaker() as session:
                await end_deal(session, services.redis, deal_id)
        done.append(await reconcile_deal(services, deal_id))
    return done
