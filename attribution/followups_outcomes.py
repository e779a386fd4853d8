"""What happens to a task after it is issued: done with an outcome, skipped with a reason,
expired, converted by a payment, touched once more when it did not convert, moved with its
customer to another guide.

A guide acts on their own tasks and on their store's pool (unbound customers); taking a pool
task by completing it puts it in their name. Every refusal changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from attribution.followups import current_rules
from attribution.followups_cadence import last_purchases, marketing_due
from attribution.followups_schemas import Outcome, TaskKind, TaskStatus
from attribution.models import Binding, FollowupTask
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
    a transfer of bindings, or a share that moved the customer, inside its transaction."""
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


RETOUCHED = (TaskKind.WATCHED.value, TaskKind.ORDERED_UNPAID.value, TaskKind.RECALL.value)
"""Follow-ups that get a second touch; a re-touch gets none, care steps have their own plan."""


async def retouch_due(session: AsyncSession, now: datetime) -> int:
    """One more touch of each follow-up done `retouch_days` ago that did not convert (a
    customer who said they were not interested is left alone), for the customer's guide now
    (unbound: the task's store pool). Idempotent: a task is re-touched once (unique)."""
    rules = await current_rules(session)
    again = aliased(FollowupTask)
    originals = list(
        await session.scalars(
            select(FollowupTask)
            .where(
                FollowupTask.kind.in_(RETOUCHED),
                FollowupTask.status == TaskStatus.DONE,
                FollowupTask.outcome != Outcome.NOT_INTERESTED.value,
                FollowupTask.converted_order_id.is_(None),
                FollowupTask.closed_at <= now - timedelta(days=rules.retouch_days),
                ~exists().where(again.retouch_of_id == FollowupTask.id),
            )
            .limit(1000)
        )
    )
    if not originals:
        return 0
    bindings = {
        b.customer_id: b
        for b in await session.scalars(
            select(Binding).where(
                Binding.customer_id.in_({t.customer_id for t in originals}),
                Binding.ended_at.is_(None),
            )
        )
    }
    bought = (
        await last_purchases(session, [t.customer_id for t in originals]) if rules.cadence else {}
    )
    for task in originals:
        binding = bindings.get(task.customer_id)
        due = marketing_due(bought.get(task.customer_id), now) if rules.cadence else now
        session.add(
            FollowupTask(
                kind=TaskKind.RETOUCH.value,
                customer_id=task.customer_id,
                guide_id=binding.guide_id if binding else None,
                store_id=binding.store_id if binding else task.store_id,
                retouch_of_id=task.id,
                watch_seconds=task.watch_seconds,
                likes=task.likes,
                chats=task.chats,
                taps=task.taps,
                ordered=list(task.ordered),
                items=list(task.items or []),
                score=task.score,
                created_at=now,
                due_at=due,
                expires_at=due + timedelta(days=rules.expire_days),
            )
        )
    await session.flush()
    return len(originals)
