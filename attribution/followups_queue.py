"""What a guide sees: their queue (own tasks and their store's pool, due now, best first) and a
task's customer card. Phones are masked here as everywhere but audited endpoints."""

from __future__ import annotations

from datetime import datetime

import msgspec
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from attribution.followups_campaigns import campaign_scripts
from attribution.followups_outcomes import NotYourTask, TaskNotFound, may_see
from attribution.followups_schemas import (
    CustomerCard,
    ItemSeen,
    Outcome,
    PastPurchase,
    Queue,
    TaskKind,
    TaskRead,
    TaskStatus,
)
from attribution.followups_scripts import broadcast_script
from attribution.models import CarePlanStep, Customer, FollowupTask, Guide, SaleCredit
from attribution.privacy import mask_phone
from server.auth import Principal, Role

QUEUE_LIMIT = 200


async def task_reads(session: AsyncSession, tasks: list[FollowupTask]) -> list[TaskRead]:
    customers = {
        c.id: c
        for c in await session.scalars(
            select(Customer).where(Customer.id.in_({t.customer_id for t in tasks}))
        )
    }
    step_ids = {t.care_step_id for t in tasks if t.care_step_id is not None}
    steps = {
        s.id: s
        for s in await session.scalars(select(CarePlanStep).where(CarePlanStep.id.in_(step_ids)))
    }
    invitations = await campaign_scripts(
        session, {t.campaign_id for t in tasks if t.campaign_id is not None}
    )
    reads = []
    for task in tasks:
        customer = customers[task.customer_id]
        step = steps.get(task.care_step_id) if task.care_step_id is not None else None
        if step is not None:
            zh, en = step.script_zh, step.script_en
        elif task.campaign_id is not None and task.campaign_id in invitations:
            zh, en = invitations[task.campaign_id]
        else:
            zh, en = broadcast_script(
                task.kind, customer.nickname, task.ordered, task.watch_seconds // 60
            )
        reads.append(
            TaskRead(
                id=task.id,
                kind=TaskKind(task.kind),
                status=TaskStatus(task.status),
                customer_id=customer.id,
                customer_name=customer.nickname,
                phone_masked=mask_phone(customer.phone),
                guide_id=task.guide_id,
                store_id=task.store_id,
                broadcast_id=task.broadcast_id,
                order_id=task.order_id,
                watch_seconds=task.watch_seconds,
                likes=task.likes,
                chats=task.chats,
                taps=task.taps,
                ordered=list(task.ordered),
                score=task.score,
                script_zh=zh,
                script_en=en,
                due_at=task.due_at,
                expires_at=task.expires_at,
                outcome=Outcome(task.outcome) if task.outcome else None,
                skip_reason=task.skip_reason,
                converted_order_id=task.converted_order_id,
                in_pool=task.guide_id is None,
                items=msgspec.convert(task.items or [], list[ItemSeen]),
            )
        )
    return reads


def visible_to(caller: Principal) -> ColumnElement[bool]:
    """The SQL condition of `may_see`: a guide's own tasks and their store's pool."""
    if caller.role is Role.HQ:
        return FollowupTask.id.is_not(None)
    if caller.role is not Role.GUIDE:
        return FollowupTask.id.is_(None)
    return or_(
        FollowupTask.guide_id == caller.sub,
        and_(FollowupTask.guide_id.is_(None), FollowupTask.store_id == caller.store_id),
    )


async def queue_for(session: AsyncSession, caller: Principal, now: datetime) -> Queue:
    """Open tasks due now, own and pool, best first (score, then the oldest due)."""
    tasks = list(
        await session.scalars(
            select(FollowupTask)
            .where(
                visible_to(caller),
                FollowupTask.status == TaskStatus.OPEN,
                FollowupTask.due_at <= now,
                FollowupTask.expires_at > now,
            )
            .order_by(FollowupTask.score.desc(), FollowupTask.due_at, FollowupTask.id)
            .limit(QUEUE_LIMIT)
        )
    )
    counts = {kind.value: 0 for kind in TaskKind}
    for task in tasks:
        counts[task.kind] = counts.get(task.kind, 0) + 1
    return Queue(counts=counts, tasks=await task_reads(session, tasks))


async def customer_card(session: AsyncSession, caller: Principal, task_id: int) -> CustomerCard:
    task = await session.get(FollowupTask, task_id)
    if task is None:
        raise TaskNotFound("no such task")
    if not may_see(caller, task):
        raise NotYourTask("this task is in another guide's queue")
    credits = await session.scalars(
        select(SaleCredit)
        .where(SaleCredit.customer_id == task.customer_id)
        .order_by(SaleCredit.created_at.desc())
    )
    sales: dict[str, PastPurchase] = {}
    refunded: set[str] = set()
    for credit in credits:
        if credit.order_id is None:  # a till sale: not an order to follow up
            continue
        if credit.kind == "sale":
            sales[credit.order_id] = PastPurchase(
                credit.order_id, credit.amount_fen, credit.created_at, False
            )
        else:
            refunded.add(credit.order_id)
    past = [
        PastPurchase(p.order_id, p.amount_fen, p.at, p.order_id in refunded)
        for p in list(sales.values())[:20]
    ]
    (read,) = await task_reads(session, [task])
    return CustomerCard(task=read, past_purchases=past)


async def guide_share(session: AsyncSession, guide_id: int) -> tuple[str, int] | None:
    """(share code, store id) of an active guide: what their share link carries."""
    guide = await session.get(Guide, guide_id)
    if guide is None or not guide.active:
        return None
    return guide.share_code, guide.store_id
