"""Read-side functions of attribution/ that other packages and the endpoints call."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.models import Binding, Customer, Guide, Region, Staff, Store
from attribution.privacy import mask_name, mask_phone
from attribution.schemas import CustomerProfile, StaffRead, StoreRead


async def customer_profile(session: AsyncSession, customer_id: int) -> CustomerProfile | None:
    customer = await session.get(Customer, customer_id)
    if customer is None:
        return None
    guide_id = await session.scalar(
        select(Binding.guide_id).where(
            Binding.customer_id == customer_id, Binding.ended_at.is_(None)
        )
    )
    return CustomerProfile(
        customer.id, customer.nickname, mask_phone(customer.phone), customer.home_store_id, guide_id
    )


async def stores_with_regions(session: AsyncSession) -> list[StoreRead]:
    rows = await session.execute(
        select(Store, Region.name).join(Region, Region.id == Store.region_id).order_by(Store.id)
    )
    return [StoreRead(s.id, s.code, s.name, s.city, region) for s, region in rows]


async def store_names(session: AsyncSession, store_ids: list[int]) -> dict[int, str]:
    if not store_ids:
        return {}
    rows = await session.execute(select(Store.id, Store.name).where(Store.id.in_(store_ids)))
    return {store_id: name for store_id, name in rows.all()}


async def masked_names(session: AsyncSession, customer_ids: list[int]) -> dict[int, str]:
    """林** per customer: what staff screens show of a buyer beside the order."""
    if not customer_ids:
        return {}
    rows = await session.execute(
        select(Customer.id, Customer.nickname).where(Customer.id.in_(customer_ids))
    )
    return {customer_id: mask_name(nickname) for customer_id, nickname in rows.all()}


async def openid_of(session: AsyncSession, customer_id: int) -> str | None:
    """The mini-program openid of a customer: what WeChat Pay names the payer by."""
    return await session.scalar(select(Customer.openid).where(Customer.id == customer_id))


async def staff_member(session: AsyncSession, staff_id: int) -> StaffRead | None:
    staff = await session.get(Staff, staff_id)
    if staff is None:
        return None
    return StaffRead(staff.id, staff.role, staff.name, staff.store_id)


async def staff_members(session: AsyncSession) -> list[StaffRead]:
    """HQ's staff and every store's hosts: who a schedule slot can name as its host."""
    rows = await session.scalars(select(Staff).order_by(Staff.store_id.nulls_first(), Staff.id))
    return [StaffRead(s.id, s.role, s.name, s.store_id) for s in rows]


async def guide_store(session: AsyncSession, guide_id: int) -> int | None:
    """The store of an active guide (None if there is none): who may place orders in its name."""
    return await session.scalar(
        select(Guide.store_id).where(Guide.id == guide_id, Guide.active.is_(True))
    )


async def guide_names(session: AsyncSession, guide_ids: list[int]) -> dict[int, str]:
    if not guide_ids:
        return {}
    rows = await session.execute(select(Guide.id, Guide.name).where(Guide.id.in_(guide_ids)))
    return {guide_id: name for guide_id, name in rows.all()}
