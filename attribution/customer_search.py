"""What the customers page reads: a store's (or the brand's) customers, searched by name or
phone digits, its guides, and one guide's credited sales for their host or HQ.

A host sees the customers of their own store (bound to one of its guides, or in its pool) and
its guides; HQ sees all. Phones leave masked: the search matches digits against the stored
number but returns only the masked form.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.cards import guide_sales
from attribution.models import Binding, Customer, CustomerSegment, Guide, Store
from attribution.privacy import mask_phone
from attribution.schemas import CustomerRow, GuideRead, MySales
from server.auth import Principal, Role
from server.errors import Forbidden, NotFound

MAX_PAGE = 200


class OtherStore(Forbidden):
    """A host asked for another store's customers or guides."""


class GuideNotFound(NotFound):
    pass


def store_in_view(caller: Principal, store_id: int | None) -> int | None:
    """HQ may narrow to any store or see all; a host sees their own store's only."""
    if caller.role is Role.HQ:
        return store_id
    if store_id is not None and store_id != caller.store_id:
        raise OtherStore("a host sees only their own store's customers and guides")
    return caller.store_id


def _matching(q: str) -> ColumnElement[bool]:
    digits = "".join(ch for ch in q if ch.isdigit())
    by_name = Customer.nickname.contains(q, autoescape=True)
    if digits and len(digits) == len(q.strip()):
        return or_(by_name, Customer.phone.endswith(digits, autoescape=True))
    return by_name


async def search_customers(
    session: AsyncSession,
    *,
    store_id: int | None,
    q: str = "",
    limit: int = 50,
    offset: int = 0,
) -> list[CustomerRow]:
    """Customers newest first, narrowed to a store (its guides' and its pool's) and to a name
    part or the last digits of a phone."""
    store = func.coalesce(Binding.store_id, Customer.home_store_id)
    query = (
        select(
            Customer.id,
            Customer.nickname,
            Customer.phone,
            store,
            Binding.guide_id,
            Guide.name,
            CustomerSegment.rfm_class,
            CustomerSegment.tier,
        )
        .outerjoin(Binding, (Binding.customer_id == Customer.id) & Binding.ended_at.is_(None))
        .outerjoin(Guide, Guide.id == Binding.guide_id)
        .outerjoin(CustomerSegment, CustomerSegment.customer_id == Customer.id)
    )
    if store_id is not None:
        query = query.where(store == store_id)
    if q.strip():
        query = query.where(_matching(q.strip()))
    rows = await session.execute(query.order_by(Customer.id.desc()).limit(limit).offset(offset))
    return [
        CustomerRow(cid, nickname, mask_phone(phone), home, guide_id, name, segment, tier)
        for cid, nickname, phone, home, guide_id, name, segment, tier in rows
    ]


async def store_guides(session: AsyncSession, store_id: int | None) -> list[GuideRead]:
    query = (
        select(Guide, Store.name)
        .join(Store, Store.id == Guide.store_id)
        .order_by(Guide.store_id, Guide.id)
    )
    if store_id is not None:
        query = query.where(Guide.store_id == store_id)
    return [
        GuideRead(g.id, g.name, g.store_id, store, g.active)
        for g, store in (await session.execute(query)).all()
    ]


async def sales_of_guide(
    session: AsyncSession, caller: Principal, guide_id: int, since: datetime, until: datetime
) -> MySales:
    """A guide's credited sales as their host (a guide of the host's store) or HQ reads them."""
    guide = await session.get(Guide, guide_id)
    if guide is None or (caller.role is not Role.HQ and guide.store_id != caller.store_id):
        raise GuideNotFound(f"no guide {guide_id} in your view")
    return await guide_sales(session, guide_id, since, until)
