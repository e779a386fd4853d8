"""The customer card and a guide's own sales: what staff read about customers and credit.

Who may read a card: HQ any; a host their store's customers (bound to the store, or in its
pool); a guide their own customers and their store's pool. Anyone else is told there is no
such customer, so a refusal says nothing about who exists.
"""

from __future__ import annotations

from datetime import datetime

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.bindings import open_binding
from attribution.models import (
    Binding,
    BindingHistory,
    Customer,
    CustomerSegment,
    Guide,
    PhoneUnmask,
    SaleCredit,
)
from attribution.privacy import mask_phone
from attribution.schemas import (
    BindingChange,
    BindingRead,
    CreditRead,
    CustomerCard,
    MySales,
    UnmaskedPhone,
)
from server.auth import Principal, Role
from server.errors import Invalid, NotFound

LAST_PURCHASES = 20


class CustomerNotFound(NotFound):
    """No such customer, or not one the caller may read."""


class BadPeriod(Invalid):
    """The period ends before it starts."""


def may_read(caller: Principal, customer: Customer, binding: Binding | None) -> bool:
    if caller.role is Role.HQ:
        return True
    in_pool = binding is None and customer.home_store_id == caller.store_id
    if caller.role is Role.HOST:
        return in_pool or (binding is not None and binding.store_id == caller.store_id)
    if caller.role is Role.GUIDE:
        return in_pool or (binding is not None and binding.guide_id == caller.sub)
    return False


def _credit(row: SaleCredit) -> CreditRead:
    return msgspec.convert(row, CreditRead, from_attributes=True)


async def customer_card(session: AsyncSession, caller: Principal, customer_id: int) -> CustomerCard:
    customer = await session.get(Customer, customer_id)
    binding = await open_binding(session, customer_id) if customer is not None else None
    if customer is None or not may_read(caller, customer, binding):
        raise CustomerNotFound(f"no customer {customer_id}")
    bound: BindingRead | None = None
    if binding is not None:
        name = await session.scalar(select(Guide.name).where(Guide.id == binding.guide_id))
        bound = BindingRead(
            binding.guide_id, name or "", binding.store_id, binding.source, binding.bound_at
        )
    changes = await session.scalars(
        select(BindingHistory)
        .where(BindingHistory.customer_id == customer_id)
        .order_by(BindingHistory.at.desc(), BindingHistory.id.desc())
    )
    credits = await session.scalars(
        select(SaleCredit)
        .where(SaleCredit.customer_id == customer_id)
        .order_by(SaleCredit.created_at.desc(), SaleCredit.id.desc())
        .limit(LAST_PURCHASES)
    )
    total = await session.scalar(
        select(func.coalesce(func.sum(SaleCredit.amount_fen), 0)).where(
            SaleCredit.customer_id == customer_id
        )
    )
    segment = await session.get(CustomerSegment, customer_id)
    return CustomerCard(
        id=customer.id,
        nickname=customer.nickname,
        phone_masked=mask_phone(customer.phone),
        home_store_id=customer.home_store_id,
        binding=bound,
        history=[msgspec.convert(c, BindingChange, from_attributes=True) for c in changes],
        last_purchases=[_credit(c) for c in credits],
        total_credited_fen=int(total or 0),
        segment=segment.rfm_class if segment else None,
        tier=segment.tier if segment else None,
    )


async def guide_sales(
    session: AsyncSession, guide_id: int, since: datetime, until: datetime
) -> MySales:
    """The credit rows of a guide in [since, until), newest first, each with its reason."""
    if until <= since:
        raise BadPeriod("the period must end after it starts")
    rows = (
        await session.scalars(
            select(SaleCredit)
            .where(
                SaleCredit.guide_id == guide_id,
                SaleCredit.created_at >= since,
                SaleCredit.created_at < until,
            )
            .order_by(SaleCredit.created_at.desc(), SaleCredit.id.desc())
        )
    ).all()
    credits = [_credit(row) for row in rows]
    return MySales(guide_id, since, until, sum(c.amount_fen for c in credits), credits)


async def unmask_phone(
    session: AsyncSession, staff_id: int, customer_id: int, reason: str
) -> UnmaskedPhone:
    """HQ reads a customer's full number; the audit row is written in the caller's
    transaction, so no number leaves without its row."""
    customer = await session.get(Customer, customer_id)
    if customer is None:
        raise CustomerNotFound(f"no customer {customer_id}")
    session.add(PhoneUnmask(staff_id=staff_id, customer_id=customer_id, reason=reason))
    await session.flush()
    return UnmaskedPhone(customer_id, customer.phone or "")
