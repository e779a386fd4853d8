"""HQ's changes to bindings: importing a list, and transferring a guide's customers.

Both are HQ's decisions, so they apply whatever the brand's share rule says; both write the
binding history, and neither touches credit already earned.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.bindings import open_binding, rebind
from attribution.followups_outcomes import move_open_tasks
from attribution.models import Binding, Customer, Guide
from attribution.schemas import (
    BindingImportRow,
    BindingReason,
    ImportOutcome,
    ImportReport,
    ImportRowResult,
    TransferDone,
    TransferRequest,
)
from server.errors import Invalid, NotFound


class GuideNotFound(NotFound):
    """No such guide."""


class TransferRefused(Invalid):
    """The transfer names a target or customers the rules refuse."""


async def _customer_of(session: AsyncSession, row: BindingImportRow) -> Customer | str:
    """The row's customer, or why there is none."""
    if (row.customer_id is None) == (row.phone is None):
        return "name the customer by customer_id or by phone, not both"
    if row.customer_id is not None:
        customer = await session.get(Customer, row.customer_id)
        return customer if customer is not None else f"no customer {row.customer_id}"
    found = (await session.scalars(select(Customer).where(Customer.phone == row.phone))).all()
    if len(found) != 1:
        return "no customer has this phone" if not found else "several customers have this phone"
    return found[0]


async def import_bindings(
    session: AsyncSession, rows: list[BindingImportRow], staff_id: int
) -> ImportReport:
    """Bind each row's customer to its guide, inside the caller's transaction; a bad row is
    reported and skipped, the others are applied. Importing the same list again changes
    nothing."""
    results: list[ImportRowResult] = []
    guides: dict[int, Guide | None] = {}
    for index, row in enumerate(rows):
        if row.guide_id not in guides:
            guides[row.guide_id] = await session.get(Guide, row.guide_id)
        guide = guides[row.guide_id]
        customer = await _customer_of(session, row)
        if isinstance(customer, str):
            results.append(ImportRowResult(index, ImportOutcome.ERROR, customer))
            continue
        if guide is None or not guide.active:
            detail = f"guide {row.guide_id} is unknown or inactive"
            results.append(ImportRowResult(index, ImportOutcome.ERROR, detail))
            continue
        current = await open_binding(session, customer.id, lock=True)
        if current is not None and current.guide_id == guide.id:
            results.append(ImportRowResult(index, ImportOutcome.UNCHANGED))
            continue
        await rebind(
            session, customer, current, guide, reason=BindingReason.IMPORT, actor=f"hq:{staff_id}"
        )
        results.append(ImportRowResult(index, ImportOutcome.BOUND))
    count = {o: sum(1 for r in results if r.outcome is o) for o in ImportOutcome}
    return ImportReport(
        count[ImportOutcome.BOUND],
        count[ImportOutcome.UNCHANGED],
        count[ImportOutcome.ERROR],
        results,
    )


async def transfer_customers(
    session: AsyncSession, from_guide_id: int, request: TransferRequest, staff_id: int
) -> TransferDone:
    """Move a guide's customers (all, or the listed ones) to another active guide of the same
    store or to the store's pool, inside the caller's transaction."""
    source = await session.get(Guide, from_guide_id, with_for_update=True)
    if source is None:
        raise GuideNotFound(f"no guide {from_guide_id}")
    target: Guide | None = None
    if request.to_guide_id is not None:
        target = await session.get(Guide, request.to_guide_id)
        if target is None:
            raise GuideNotFound(f"no guide {request.to_guide_id}")
        if target.id == source.id:
            raise TransferRefused("a guide's customers cannot be transferred to the same guide")
        if target.store_id != source.store_id:
            raise TransferRefused("customers go to a guide of the same store, or to its pool")
        if not target.active:
            raise TransferRefused(f"guide {target.id} is inactive and takes no customers")
    query = select(Binding).where(Binding.guide_id == source.id, Binding.ended_at.is_(None))
    if request.customer_ids is not None:
        query = query.where(Binding.customer_id.in_(request.customer_ids))
    bindings = (await session.scalars(query.order_by(Binding.customer_id))).all()
    if request.customer_ids is not None:
        missing = sorted(set(request.customer_ids) - {b.customer_id for b in bindings})
        if missing:
            raise TransferRefused(f"not bound to guide {source.id}: customers {missing[:20]}")
    for binding in bindings:
        customer = await session.get(Customer, binding.customer_id)
        assert customer is not None  # a foreign key
        await rebind(
            session,
            customer,
            binding,
            target,
            reason=BindingReason.TRANSFER,
            actor=f"hq:{staff_id}",
            pool_store_id=source.store_id,
        )
        # Handover: the customer's open tasks follow them; done ones stay with who did them.
        await move_open_tasks(
            session,
            binding.customer_id,
            to_guide_id=target.id if target else None,
            to_store_id=source.store_id,
        )
    if request.guide_leaves:
        source.active = False
    return TransferDone(source.id, target.id if target else None, source.store_id, len(bindings))
