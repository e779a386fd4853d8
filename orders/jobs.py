"""Background jobs of orders/ on the arq worker. Each opens its own database scope through
ctx["services"], publishes what it caused through ctx["rooms"] (the `orders.rooms_port.Rooms` the
worker's startup hands in), finds its long-lived objects (the payment provider) on ctx["orders"]
(the worker's `OrdersRuntime`) and is safe to run more than once.

The long-lived tasks (the persister, the restorer that rebuilds Redis after a restart) are not
jobs: arq gives every job run a fresh context, so a job cannot hold a task across runs. The
worker's own startup and shutdown hooks start and stop them (`start_tasks`, `stop_tasks`)."""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from arq.cron import cron

from orders.expiry import expire_batch
from orders.expiry import sweep_expired as sweep
from orders.groups_settle import settle_group as settle
from orders.groups_settle import sweep_groups as sweep_group_deadlines
from orders.notices import OrderNotices
from orders.persister import OrderPersister
from orders.reconcile import reconcile_all
from orders.refund_sender import send_due_refunds
from orders.restore import Restorer
from orders.runtime import OrdersRuntime

log = structlog.get_logger()


def _notices(ctx: dict[str, Any]) -> OrderNotices | None:
    runtime: OrdersRuntime | None = ctx.get("orders")
    return runtime.notices if runtime else None


async def expire_orders(ctx: dict[str, Any], order_ids: list[str]) -> int:
    """Scheduled by the persister for each batch it wrote, at the batch's latest pay-by (job id
    `expire:<first order id>:<count>`): one transaction for the batch. Orders paid meanwhile
    are left alone; a rerun after a crash gives back what the crash left held."""
    notices = _notices(ctx)
    batch = await expire_batch(ctx["services"], order_ids, notices=notices)
    if notices is None:
        await ctx["rooms"].publish(batch.news())
    return len(batch.expired)


async def sweep_expired(ctx: dict[str, Any]) -> int:
    """The backstop: expire whatever the batch jobs missed."""
    count = await sweep(ctx["services"], rooms=ctx["rooms"], notices=_notices(ctx))
    if count:
        log.warning("orders.sweep_expired", count=count)
    return count


async def settle_group(ctx: dict[str, Any], group_id: str) -> str | None:
    """Scheduled when a group opens, at its deadline (job id `group:<group id>`)."""
    return await settle(ctx["services"], group_id, rooms=ctx["rooms"])


async def sweep_groups(ctx: dict[str, Any]) -> int:
    """The backstop of `settle_group`: groups past their deadline, refunds left half-done."""
    return await sweep_group_deadlines(ctx["services"], rooms=ctx["rooms"])


async def reconcile_stock(ctx: dict[str, Any]) -> int:
    return len(await reconcile_all(ctx["services"], rooms=ctx["rooms"]))


async def send_refunds(ctx: dict[str, Any]) -> int:
    runtime: OrdersRuntime = ctx["orders"]
    return await send_due_refunds(runtime.services, runtime.payments)


TASKS_KEY = "orders.tasks"


async def start_tasks(ctx: dict[str, Any]) -> None:
    """The worker's startup: this process's one persister consumer and one restorer, and the
    stock notices its expiries go through (stopped by the runtime's close)."""
    services = ctx["services"]
    runtime: OrdersRuntime | None = ctx.get("orders")
    if runtime is not None and runtime.notices is None:
        await runtime.start_notices()
    persister = OrderPersister(services, ctx["redis"])
    ctx[TASKS_KEY] = [
        asyncio.create_task(persister.run(), name="orders.persister"),
        asyncio.create_task(Restorer(services).run(), name="orders.restorer"),
    ]


async def stop_tasks(ctx: dict[str, Any]) -> None:
    """The worker's shutdown: stop what `start_tasks` started, and wait for it."""
    tasks: list[asyncio.Task[None]] = ctx.pop(TASKS_KEY, [])
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


JOB_FUNCTIONS = [expire_orders, settle_group]
CRON_JOBS = [
    cron(sweep_expired, second=30),
    cron(reconcile_stock, second=45),
    cron(sweep_groups, second=15, run_at_startup=True),
    cron(send_refunds, second=set(range(0, 60, 5)), run_at_startup=True),
]
