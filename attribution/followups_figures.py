"""Figures of follow-up work for a guide, a store, a region or the chain over a period, each
with its definition: execution and conversion from the tasks themselves, add-fan and repurchase
rates from bindings and sales (followups_rates.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from attribution.followups_rates import ADD_FAN_MEANS, REPURCHASE_MEANS, Scope, rates
from attribution.followups_schemas import Figures, TaskKind, TaskStatus
from attribution.models import FollowupTask, Store

EXECUTION_RATE_MEANS = (
    "执行率 = 期内到期的任务中已完成的数量 / 期内到期的任务数（不含已取消的关怀步骤）。"
    " Execution rate: tasks done / tasks due in the period (refund-cancelled care steps left out)."
)
CONVERSION_MEANS = (
    "触达转化率 = 期内完成的跟进任务中，顾客在完成后 7 天内付款的数量 / 期内完成的跟进任务数"
    "（关怀任务不计）。 Touch-to-pay conversion: follow-up tasks done in the period whose"
    " customer paid within 7 days after / follow-up tasks done in the period (care steps aside)."
)


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


async def figures(
    session: AsyncSession,
    *,
    since: datetime,
    until: datetime,
    guide_id: int | None = None,
    store_id: int | None = None,
    region_id: int | None = None,
) -> Figures:
    scope: list[ColumnElement[bool]] = []
    if guide_id is not None:
        scope.append(FollowupTask.guide_id == guide_id)
    if store_id is not None:
        scope.append(FollowupTask.store_id == store_id)
    if region_id is not None:
        scope.append(
            FollowupTask.store_id.in_(select(Store.id).where(Store.region_id == region_id))
        )
    due = [
        *scope,
        FollowupTask.due_at >= since,
        FollowupTask.due_at < until,
        FollowupTask.status != TaskStatus.CANCELLED,
    ]
    issued = await session.scalar(select(func.count()).where(*due)) or 0
    done = (
        await session.scalar(
            select(func.count()).where(*due, FollowupTask.status == TaskStatus.DONE)
        )
        or 0
    )
    touches = [
        *scope,
        FollowupTask.kind != TaskKind.CARE,
        FollowupTask.status == TaskStatus.DONE,
        FollowupTask.closed_at >= since,
        FollowupTask.closed_at < until,
    ]
    touched = await session.scalar(select(func.count()).where(*touches)) or 0
    converted = (
        await session.scalar(
            select(func.count()).where(*touches, FollowupTask.converted_order_id.is_not(None))
        )
        or 0
    )
    counts = await rates(session, Scope(guide_id, store_id, region_id), since, until)
    return Figures(
        since=since,
        until=until,
        guide_id=guide_id,
        store_id=store_id,
        region_id=region_id,
        issued=issued,
        done=done,
        execution_rate=_rate(done, issued),
        execution_rate_means=EXECUTION_RATE_MEANS,
        touched=touched,
        converted=converted,
        conversion_rate=_rate(converted, touched),
        conversion_rate_means=CONVERSION_MEANS,
        new_fans=counts.new_fans,
        store_transactions=counts.store_transactions,
        add_fan_rate=_rate(counts.new_fans, counts.store_transactions),
        add_fan_rate_means=ADD_FAN_MEANS,
        buyers=counts.buyers,
        repeat_buyers=counts.repeat_buyers,
        repurchase_rate=_rate(counts.repeat_buyers, counts.buyers),
        repurchase_rate_means=REPURCHASE_MEANS,
    )
