"""What happens to a task after it is issued: done with an outcome, skipped with a reason,
expired, converted by a payment, moved with its customer to another guide.

A guide acts on their own tasks and on their store's pool (unbound customers); taking a pool
task by completing it puts it in their name. Every refusal changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.followups import current_rules
from attribution.followups_schemas import Outcome, TaskKind, TaskStatus
from attribution.models import FollowupTask
from server.auth import Principal, Role
from server.errors import Conflict, Forbidden, NotFound


class TaskNotFound(NotFound):
    pass


class NotYourTask(Forbidden):
    pass


class TaskClosed(Conflict):
    pass


def may_see(caller: Principal, task: FollowupTask) -> bool:
    """HQ sees every task; a guide their own and their store's pool."""
    if caller.role is Role.HQ:
        return True
    if caller.role is not Role.GUIDE:
        return False
    if task.guide_id is not None:
        return task.guide_id == caller.sub
    return task.store_id is not None and task.store_id == caller.store_id


async def task_for_guide(session: AsyncSession, caller: Principal, task_id: int) -> FollowupTask:
    """The task, locked, if this guide may act on it."""
    task = await session.get(FollowupTask, task_id, with_for_update=True)
    if task is None:
        raise TaskNotFound("no such task")
    if caller.role is not Role.GUIDE or not may_see(caller, task):
        raise NotYourTask("this task is in another guide's queue")
    if task.status != TaskStatus.OPEN:
        raise TaskClosed(f"this task is already {task.status}")
    return task


async def complete(
    session: AsyncSession, caller: Principal, task_id: int, outcome: Outcome, now: datetime
) -> FollowupTask:
    """Done with an outcome, inside the caller's transaction."""
    task = await task_for_guide(session, caller, task_id)
    _close(task, caller, TaskStatus.DONE, now)
    task.outcome = outcome.value
    return task


async def skip(
    session: AsyncSession, caller: Principal, task_id: int, reason: str, now: datetime
) -> FollowupTask:
    task = await task_for_guide(session, caller, task_id)
    _close(task, caller, TaskStatus.SKIPPED, now)
    task.skip_reason = reason
    return task


def _close(task: FollowupTask, caller: Principal, status: TaskStatus, now: datetime) -> None:
    task.status, task.closed_at, task.closed_by_guide_id = status.value, now, caller.sub
    if task.guide_id is None:  # a pool task is the guide's once they act on it
        task.guide_id = caller.sub


async def expire_due(session: AsyncSession, now: datetime) -> int:
    """Close open tasks past their expiry. Idempotent."""
    result = await session.execute(
        update(FollowupTask)
        .where(FollowupTask.status == TaskStatus.OPEN, FollowupTask.expires_at <= now)
        .values(status=TaskStatus.EXPIRED.value, closed_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def move_open_tasks(
    session: AsyncSession, customer_id: int, *, to_guide_id: int | None, to_store_id: int | None
) -> int:
    """Handover: a customer's open tasks follow them to their new guide (or store pool). For
    the transfer of bindings to call, inside its transaction."""
    result = await session.execute(
        update(FollowupTask)
        .where(FollowupTask.customer_id == customer_id, FollowupTask.status == TaskStatus.OPEN)
        .values(guide_id=to_guide_id, store_id=to_store_id)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def record_conversion(
    session: AsyncSession, *, customer_id: int, order_id: str, paid_at: datetime
) -> int:
    """Mark the customer's follow-up tasks touched within the brand's conversion window before
    this payment as converted by it (care steps are not touches that sell). Idempotent: a task
    converts once, by the first payment."""
    rules = await current_rules(session)
    result = await session.execute(
        update(FollowupTask)
        .where(
            FollowupTask.customer_id == customer_id,
            FollowupTask.kind != TaskKind.CARE.value,
            FollowupTask.status == TaskStatus.DONE,
            FollowupTask.closed_at <= paid_at,
            FollowupTask.closed_at >= paid_at - timedelta(days=rules.convert_days),
            FollowupTask.converted_order_id.is_(None),
        )
        .values(converted_order_id=order_id, converted_at=paid_at)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def open_task_ids(session: AsyncSession, customer_id: int) -> list[int]:
    rows = await session.scalars(
        select(FollowupTask.id).where(
            FollowupTask.customer_id == customer_id, FollowupTask.status == TaskStatus.OPEN
        )
    )
    return list(rows)
