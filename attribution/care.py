"""After-sale care: plans of steps at offsets after a paid order, each step a task for the
credited guide with its script. The presets 3315 and 3369 ship (3315 active); HQ edits plans.
A refund cancels the steps of its order that are still open."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.followups import current_rules
from attribution.followups_outcomes import record_conversion
from attribution.followups_schemas import (
    CarePlanEdit,
    CarePlanNew,
    CarePlanRead,
    CareStepBody,
    TaskKind,
    TaskStatus,
)
from attribution.models import CarePlan, CarePlanStep, FollowupTask
from server.errors import Conflict, NotFound

MINUTE, DAY = 1, 24 * 60
PRESETS: dict[str, tuple[str, bool, list[tuple[int, str, str]]]] = {
    "3315": (
        "3315 关怀",
        True,
        [
            (
                3 * MINUTE,
                "感谢您的购买！我是您的专属导购，有任何问题随时找我。",
                "Thank you for your purchase! I am your personal stylist; ask me anything.",
            ),
            (
                3 * DAY,
                "衣服收到了吗？穿着合身吗？需要搭配建议可以告诉我。",
                "Has your order arrived? Does it fit? I am happy to suggest what to wear it with.",
            ),
            (
                15 * DAY,
                "穿了两周感觉怎么样？这里有几条保养小贴士送给您。",
                "How has it been after two weeks? Here are a few care tips for it.",
            ),
            (
                60 * DAY,
                "换季了，店里到了几款和您上次买的很搭的新品，欢迎来试穿。",
                "The season is turning: new pieces that go with your last buy are in store.",
            ),
        ],
    ),
    "3369": (
        "3369 关怀",
        False,
        [
            (
                30 * MINUTE,
                "感谢您的购买！我是您的专属导购，有任何问题随时找我。",
                "Thank you for your purchase! I am your personal stylist; ask me anything.",
            ),
            (3 * DAY, "衣服收到了吗？穿着合身吗？", "Has your order arrived? Does it fit?"),
            (30 * DAY, "穿了一个月，有什么需要调整的吗？", "A month on: anything to adjust?"),
            (
                60 * DAY,
                "新品到店了，给您留了几款合适的尺码。",
                "New arrivals are in; I kept a few in your size.",
            ),
            (
                90 * DAY,
                "好久不见，会员日有专属优惠，欢迎回店看看。",
                "It has been a while: members' day has an offer for you, come and see.",
            ),
        ],
    ),
}


class UnknownPlan(NotFound):
    pass


class PlanExists(Conflict):
    pass


async def ensure_presets(session: AsyncSession) -> None:
    """Write the shipped plans once, the first time care is needed. Two payments may need them
    at the same instant: the one that loses the race finds them written (its savepoint is
    undone, not its payment)."""
    if await session.scalar(select(CarePlan.id).limit(1)) is not None:
        return
    try:
        async with session.begin_nested():
            for code, (name, active, steps) in PRESETS.items():
                plan = CarePlan(code=code, name=name, active=active)
                session.add(plan)
                await session.flush()
                _add_steps(session, plan.id, [CareStepBody(o, zh, en) for o, zh, en in steps])
            await session.flush()
    except IntegrityError:
        pass


def _add_steps(session: AsyncSession, plan_id: int, steps: list[CareStepBody]) -> None:
    for n, step in enumerate(sorted(steps, key=lambda s: s.offset_minutes)):
        session.add(
            CarePlanStep(
                plan_id=plan_id,
                position=n,
                offset_minutes=step.offset_minutes,
                script_zh=step.script_zh,
                script_en=step.script_en,
            )
        )


async def list_plans(session: AsyncSession) -> list[CarePlanRead]:
    await ensure_presets(session)
    plans = list(await session.scalars(select(CarePlan).order_by(CarePlan.id)))
    steps = await session.scalars(
        select(CarePlanStep).where(CarePlanStep.retired.is_(False)).order_by(CarePlanStep.position)
    )
    by_plan: dict[int, list[CareStepBody]] = {p.id: [] for p in plans}
    for step in steps:
        by_plan[step.plan_id].append(
            CareStepBody(step.offset_minutes, step.script_zh, step.script_en)
        )
    return [CarePlanRead(p.id, p.code, p.name, p.active, by_plan[p.id]) for p in plans]


async def edit_plan(session: AsyncSession, plan_id: int, edit: CarePlanEdit) -> None:
    """Replace a plan's steps (old ones retire; tasks already issued keep theirs) and say
    whether it applies to new paid orders."""
    await ensure_presets(session)
    plan = await session.get(CarePlan, plan_id, with_for_update=True)
    if plan is None:
        raise UnknownPlan("no such care plan")
    plan.active = edit.active
    if edit.name is not None:
        plan.name = edit.name
    await session.execute(
        update(CarePlanStep).where(CarePlanStep.plan_id == plan_id).values(retired=True)
    )
    _add_steps(session, plan_id, edit.steps)


async def add_plan(session: AsyncSession, new: CarePlanNew) -> int:
    await ensure_presets(session)
    if await session.scalar(select(CarePlan.id).where(CarePlan.code == new.code)) is not None:
        raise PlanExists(f"a care plan {new.code} exists")
    plan = CarePlan(code=new.code, name=new.name, active=new.active)
    session.add(plan)
    await session.flush()
    _add_steps(session, plan.id, new.steps)
    return plan.id


async def schedule_care(
    session: AsyncSession,
    *,
    order_id: str,
    customer_id: int,
    guide_id: int | None,
    store_id: int | None,
    paid_at: datetime,
    ordered: list[str],
) -> int:
    """The care steps of a paid order as tasks due at their offsets, for the credited guide
    (unbound: the credited store's pool; HQ's own line: none). Idempotent per order and step."""
    if store_id is None:
        return 0
    await ensure_presets(session)
    rules = await current_rules(session)
    steps = await session.scalars(
        select(CarePlanStep)
        .join(CarePlan, CarePlan.id == CarePlanStep.plan_id)
        .where(CarePlan.active.is_(True), CarePlanStep.retired.is_(False))
    )
    done = set(
        await session.scalars(
            select(FollowupTask.care_step_id).where(FollowupTask.order_id == order_id)
        )
    )
    written = 0
    for step in steps:
        if step.id in done:
            continue
        due = paid_at + timedelta(minutes=step.offset_minutes)
        session.add(
            FollowupTask(
                kind=TaskKind.CARE.value,
                customer_id=customer_id,
                guide_id=guide_id,
                store_id=store_id,
                order_id=order_id,
                care_step_id=step.id,
                ordered=ordered,
                score=0,
                created_at=paid_at,
                due_at=due,
                expires_at=due + timedelta(days=rules.expire_days),
            )
        )
        written += 1
    await session.flush()
    return written


async def cancel_care(session: AsyncSession, order_id: str, now: datetime) -> int:
    """A refund cancels the care steps of its order not yet done."""
    result = await session.execute(
        update(FollowupTask)
        .where(
            FollowupTask.order_id == order_id,
            FollowupTask.kind == TaskKind.CARE.value,
            FollowupTask.status == TaskStatus.OPEN,
        )
        .values(status=TaskStatus.CANCELLED.value, closed_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def after_sale(
    session: AsyncSession,
    *,
    order_id: str,
    customer_id: int,
    guide_id: int | None,
    store_id: int | None,
    paid_at: datetime,
    ordered: list[str],
) -> None:
    """What a paid, credited order means for follow-ups, in the payment's transaction: the
    tasks it converts and the care it starts. orders/ calls this after `credit_sale`."""
    await record_conversion(session, customer_id=customer_id, order_id=order_id, paid_at=paid_at)
    await schedule_care(
        session,
        order_id=order_id,
        customer_id=customer_id,
        guide_id=guide_id,
        store_id=store_id,
        paid_at=paid_at,
        ordered=ordered,
    )
