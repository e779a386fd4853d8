"""Who a customer belongs to, and every change of it (绑定关系).

A customer has at most one open binding (a guide and that guide's store); without one they
are in their home store's pool. Bindings come from a guide's share link or QR code (the share
code rides on the viewer login), HQ's import, or HQ's transfer. A share by another guide
follows the brand's rule (`BindingMode`) and never moves anyone unrecorded: every change is a
`binding_history` row saying from, to, why and who. Credit already earned is not touched
(attribution/credit.py wrote it at payment time).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.followups_outcomes import move_open_tasks
from attribution.models import Binding, BindingHistory, BrandSettings, Customer, Guide, SaleCredit
from attribution.schemas import BindingMode, BindingReason, BindingRule, ShareOutcome
from server.model_base import utcnow

SETTINGS_ID = 1


async def binding_rule(session: AsyncSession) -> BindingRule:
    """The brand's rule; `permanent` until HQ chooses another."""
    row = await session.get(BrandSettings, SETTINGS_ID)
    if row is None:
        return BindingRule()
    return BindingRule(BindingMode(row.binding_mode), row.protect_days)


async def set_binding_rule(session: AsyncSession, rule: BindingRule, staff_id: int) -> BindingRule:
    """HQ's choice of rule, inside the caller's transaction. Applies to shares from now on;
    no binding moves because the rule changed."""
    row = await session.get(BrandSettings, SETTINGS_ID, with_for_update=True)
    if row is None:
        row = BrandSettings(id=SETTINGS_ID)
        session.add(row)
    row.binding_mode = rule.mode.value
    row.protect_days = rule.protect_days
    row.updated_at = utcnow()
    row.updated_by = staff_id
    return rule


async def open_binding(
    session: AsyncSession, customer_id: int, *, lock: bool = False
) -> Binding | None:
    """The customer's open binding; with `lock`, the customer's row is locked first, so two
    changes of one customer (two shares opened at once) take turns instead of one failing on
    the one-open-binding index."""
    if lock:
        await session.execute(
            select(Customer.id).where(Customer.id == customer_id).with_for_update()
        )
    return await session.scalar(
        select(Binding).where(Binding.customer_id == customer_id, Binding.ended_at.is_(None))
    )


async def last_served(session: AsyncSession, binding: Binding) -> datetime:
    """When the bound guide last served the customer: the binding itself, or the latest sale
    credited to that guide for them, whichever is later."""
    sold = await session.scalar(
        select(func.max(SaleCredit.created_at)).where(
            SaleCredit.customer_id == binding.customer_id,
            SaleCredit.guide_id == binding.guide_id,
            SaleCredit.kind == "sale",
        )
    )
    return max(binding.bound_at, sold) if sold is not None else binding.bound_at


async def rebind(
    session: AsyncSession,
    customer: Customer,
    current: Binding | None,
    to: Guide | None,
    *,
    reason: BindingReason,
    actor: str,
    pool_store_id: int | None = None,
    now: datetime | None = None,
) -> None:
    """Close `current`, open a binding to `to` (or leave the customer in `pool_store_id`'s
    pool when `to` is None), and record the change."""
    now = now or utcnow()
    if current is not None:
        current.ended_at = now
        await session.flush()  # the old one closes before the new one opens (one open each)
    to_store = to.store_id if to is not None else pool_store_id
    if to is not None:
        session.add(
            Binding(
                customer_id=customer.id,
                guide_id=to.id,
                store_id=to.store_id,
                source=reason.value,
                bound_at=now,
            )
        )
    if to_store is not None and (customer.home_store_id is None or to is None):
        customer.home_store_id = to_store
    session.add(
        BindingHistory(
            customer_id=customer.id,
            from_guide_id=current.guide_id if current else None,
            from_store_id=current.store_id if current else None,
            to_guide_id=to.id if to else None,
            to_store_id=to_store,
            reason=reason.value,
            actor=actor,
            at=now,
        )
    )
    await session.flush()


async def bind_through_share(
    session: AsyncSession,
    customer: Customer,
    share_code: str,
    *,
    reason: BindingReason = BindingReason.SHARE,
    now: datetime | None = None,
) -> ShareOutcome:
    """A customer came through a guide's share link or QR code: bind them as the rule says.
    Inside the caller's transaction."""
    now = now or utcnow()
    guide = await session.scalar(
        select(Guide).where(Guide.share_code == share_code, Guide.active.is_(True))
    )
    if guide is None:
        return ShareOutcome.GUIDE_UNAVAILABLE
    current = await open_binding(session, customer.id, lock=True)
    if current is not None and current.guide_id == guide.id:
        return ShareOutcome.ALREADY
    if current is not None and not await _rule_lets_go(session, current, now):
        return ShareOutcome.KEPT
    await rebind(
        session, customer, current, guide, reason=reason, actor=f"customer:{customer.id}", now=now
    )
    if current is None:
        return ShareOutcome.BOUND
    # The customer is the new guide's now: the tasks waiting for them follow, as in a transfer.
    await move_open_tasks(session, customer.id, to_guide_id=guide.id, to_store_id=guide.store_id)
    return ShareOutcome.MOVED


async def _rule_lets_go(session: AsyncSession, current: Binding, now: datetime) -> bool:
    rule = await binding_rule(session)
    if rule.mode is BindingMode.LATEST:
        return True
    if rule.mode is BindingMode.PROTECTED:
        return now - await last_served(session, current) >= timedelta(days=rule.protect_days)
    return False
