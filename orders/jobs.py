"""Background jobs of orders/ on the arq worker. Each opens its own database scope through
ctx["services"] and is safe to run more than once."""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from arq.cron import cron

from orders.expiry import expire_order as expire
from orders.expiry import sweep_expired as sweep
from orders.persister import OrderPersister
from orders.reconcile import reconcile_all

log = structlog.get_logger()


async def expire_orders(ctx: dict[str, Any], order_ids: list[str]) -> int:
    """Scheduled by the persister for each batch it wrote, at the batch's latest pay-by (job id
    `expire:<first order id>:<count>`). Orders paid meanwhile are left alone."""
    expired = 0
    for order_id in order_ids:
        expired += await expire(ctx["services"], order_id)
    return expired


async def sweep_expired(ctx: dict[str, Any]) -> int:
    """The backstop: expire whatever the per-order jobs missed."""
    count = await sweep(ctx["services"])
    if count:
        log.warning("orders.sweep_expired", count=count)
    return count


async def reconcile_stock(ctx: dict[str, Any]) -> int:
    return len(await reconcile_all(ctx["services"]))


async def ensure_persister(ctx: dict[str, Any]) -> bool:
    """Keep one persister task running in this worker process (started at the worker's start,
    re-checked every minute); it lives on the worker's event loop, not as a job."""
    task: asyncio.Task[None] | None = ctx.get("orders_persister_task")
    if task is not None and not task.done():
        return False
    persister = OrderPersister(ctx["services"], ctx["redis"])
    ctx["services"].extras["orders.persister"] = persister
    ctx["orders_persister_task"] = asyncio.create_task(persister.run(), name="orders.persister")
    return True


JOB_FUNCTIONS = [expire_orders]
CRON_JOBS = [
    # unique=False: every worker process runs its own persister consumer.
    cron(ensure_persister, second=0, run_at_startup=True, unique=False),
    cron(sweep_expired, second=30),
    cron(reconcile_stock, second=45),
]
