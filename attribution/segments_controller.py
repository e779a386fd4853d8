"""HTTP endpoints of customer segments (attribution/segments.py): HQ sees the brand's
customers, a host their store's; phones are masked."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.schemas import SegmentMember, SegmentSummary
from attribution.segments_classes import RfmClass, Tier
from attribution.segments_queries import MAX_PAGE, customers_in_segment, segment_summary
from server.auth import Principal, Role, allow
from server.bounds import INT32_MAX
from server.errors import Forbidden

OptionalId = Annotated[int | None, Parameter(ge=1, le=INT32_MAX)]


class OtherStoresCustomers(Forbidden):
    """A host asked for another store's customers."""


def _store_in_view(caller: Principal, store_id: int | None) -> int | None:
    """HQ may narrow to any store or see all; a host sees their own store's, whatever asked."""
    if caller.role is Role.HQ:
        return store_id
    if store_id is not None and store_id != caller.store_id:
        raise OtherStoresCustomers("a host sees only their own store's customers")
    return caller.store_id


class SegmentController(Controller):
    path = "/api/segments"
    tags = ("segments",)

    @get("/customers", opt=allow(Role.HQ, Role.HOST))
    async def list_customers(
        self,
        db: AsyncSession,
        caller: Principal,
        rfm_class: RfmClass | None = None,
        tier: Tier | None = None,
        sleeping: bool | None = None,
        store_id: OptionalId = None,
        guide_id: OptionalId = None,
        limit: Annotated[int, Parameter(ge=1, le=MAX_PAGE)] = 100,
        offset: Annotated[int, Parameter(ge=0, le=INT32_MAX)] = 0,
    ) -> list[SegmentMember]:
        """Customers by RFM class, tier and sleeping (each filter optional), biggest spenders
        first, as of the last refresh."""
        return await customers_in_segment(
            db,
            rfm_class=rfm_class,
            tier=tier,
            sleeping=sleeping,
            store_id=_store_in_view(caller, store_id),
            guide_id=guide_id,
            limit=limit,
            offset=offset,
        )

    @get("/summary", opt=allow(Role.HQ, Role.HOST))
    async def summary(
        self, db: AsyncSession, caller: Principal, store_id: OptionalId = None
    ) -> SegmentSummary:
        """How many customers each RFM class and tier holds, and how many are sleeping."""
        return await segment_summary(db, store_id=_store_in_view(caller, store_id))
