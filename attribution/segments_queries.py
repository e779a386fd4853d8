"""Reading the segments: the filters the HQ and store pages use, and `customers_in_segment`,
what follow-ups and campaigns call to pick their customers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.models import Binding, Customer, CustomerSegment
from attribution.privacy import mask_phone
from attribution.schemas import SegmentMember, SegmentSummary
from attribution.segments_classes import RFM_CLASS_ZH, RfmClass, Tier

MAX_PAGE = 500
"""Customers per page of the listing endpoint."""


def _members(
    *,
    rfm_class: RfmClass | None,
    tier: Tier | None,
    sleeping: bool | None,
    store_id: int | None,
    guide_id: int | None,
) -> Select[*tuple[Any, ...]]:
    """Segment rows with the customer and the store they belong to: the open binding's store,
    else the home store (an unbound customer is their home store's)."""
    store = func.coalesce(Binding.store_id, Customer.home_store_id)
    query: Select[*tuple[Any, ...]] = (
        select(CustomerSegment, Customer.nickname, Customer.phone, store, Binding.guide_id)
        .join(Customer, Customer.id == CustomerSegment.customer_id)
        .outerjoin(
            Binding,
            and_(Binding.customer_id == Customer.id, Binding.ended_at.is_(None)),
        )
    )
    if rfm_class is not None:
        query = query.where(CustomerSegment.rfm_class == rfm_class.value)
    if tier is not None:
        query = query.where(CustomerSegment.tier == tier.value)
    if sleeping is not None:
        query = query.where(CustomerSegment.sleeping.is_(sleeping))
    if store_id is not None:
        query = query.where(store == store_id)
    if guide_id is not None:
        query = query.where(Binding.guide_id == guide_id)
    return query


async def customers_in_segment(
    session: AsyncSession,
    *,
    rfm_class: RfmClass | None = None,
    tier: Tier | None = None,
    sleeping: bool | None = None,
    store_id: int | None = None,
    guide_id: int | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[SegmentMember]:
    """The customers matching every filter given (None: any), biggest spenders first, phones
    masked. `store_id` narrows to a store's customers, `guide_id` to a guide's bound ones;
    `limit` None is all of them (a campaign's whole audience)."""
    query = _members(
        rfm_class=rfm_class, tier=tier, sleeping=sleeping, store_id=store_id, guide_id=guide_id
    )
    rows = await session.execute(
        query.order_by(CustomerSegment.monetary_fen.desc(), CustomerSegment.customer_id)
        .limit(limit)
        .offset(offset)
    )
    members = []
    for segment, nickname, phone, member_store, member_guide in rows:
        rfm = RfmClass(segment.rfm_class)
        members.append(
            SegmentMember(
                customer_id=segment.customer_id,
                nickname=nickname,
                phone_masked=mask_phone(phone),
                store_id=member_store,
                guide_id=member_guide,
                recency_days=segment.recency_days,
                frequency=segment.frequency,
                monetary_fen=segment.monetary_fen,
                length_days=segment.length_days,
                rfm_class=rfm,
                rfm_class_zh=RFM_CLASS_ZH[rfm],
                tier=Tier(segment.tier),
                sleeping=segment.sleeping,
                last_purchase_at=segment.last_purchase_at,
                computed_at=segment.computed_at,
            )
        )
    return members


async def segment_summary(session: AsyncSession, *, store_id: int | None) -> SegmentSummary:
    """Customers per class and tier, and the sleeping, of one store or (None) the brand."""
    members = _members(
        rfm_class=None, tier=None, sleeping=None, store_id=store_id, guide_id=None
    ).subquery("members")
    rows = (
        await session.execute(
            select(
                members.c.rfm_class,
                members.c.tier,
                members.c.sleeping,
                func.count(),
                func.max(members.c.computed_at),
            ).group_by(members.c.rfm_class, members.c.tier, members.c.sleeping)
        )
    ).all()
    by_class = {member.value: 0 for member in RfmClass}
    by_tier = {member.value: 0 for member in Tier}
    customers = sleeping = 0
    computed_at = None
    for rfm, tier, is_sleeping, count, at in rows:
        by_class[rfm] += count
        by_tier[tier] += count
        customers += count
        sleeping += count if is_sleeping else 0
        computed_at = max(computed_at, at) if computed_at else at
    return SegmentSummary(customers, by_class, by_tier, sleeping, computed_at)
