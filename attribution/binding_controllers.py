"""HTTP endpoints of bindings, explained credit and the customer card (HQ, hosts, guides)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from litestar import Controller, get, post, put
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.bindings import binding_rule, set_binding_rule
from attribution.bindings_hq import import_bindings, transfer_customers
from attribution.cards import customer_card, guide_sales, unmask_phone
from attribution.customer_search import MAX_PAGE as SEARCH_PAGE
from attribution.customer_search import (
    sales_of_guide,
    search_customers,
    store_guides,
    store_in_view,
)
from attribution.schemas import (
    BindingImportRow,
    BindingRule,
    CustomerCard,
    CustomerRow,
    GuideRead,
    ImportReport,
    MySales,
    TransferDone,
    TransferRequest,
    UnmaskedPhone,
    UnmaskRequest,
)
from server.auth import Principal, Role, allow
from server.bounds import INT32_MAX, PathId
from server.errors import Invalid
from server.model_base import utcnow

MAX_IMPORT_ROWS = 10_000
DEFAULT_PERIOD = timedelta(days=30)


class BindingRuleController(Controller):
    path = "/api/brand/binding-rule"
    tags = ["bindings"]  # noqa: RUF012

    @get(opt=allow(Role.HQ))
    async def read(self, db: AsyncSession) -> BindingRule:
        """The brand's binding rule: permanent (default), latest, or protected for N days."""
        return await binding_rule(db)

    @put(opt=allow(Role.HQ))
    async def change(self, data: BindingRule, db: AsyncSession, caller: Principal) -> BindingRule:
        """Choose the rule future shares follow; no existing binding moves because of it."""
        async with db.begin():
            return await set_binding_rule(db, data, caller.sub)


class BindingController(Controller):
    path = "/api"
    tags = ["bindings"]  # noqa: RUF012

    @post("/bindings/import", opt=allow(Role.HQ), status_code=200)
    async def import_list(
        self, data: list[BindingImportRow], db: AsyncSession, caller: Principal
    ) -> ImportReport:
        """Bind customers (by id or phone) to guides; each bad row is reported, the rest applied."""
        if len(data) > MAX_IMPORT_ROWS:
            raise Invalid(f"at most {MAX_IMPORT_ROWS} rows per import")
        async with db.begin():
            return await import_bindings(db, data, caller.sub)

    @post("/guides/{guide_id:int}/transfer", opt=allow(Role.HQ), status_code=200)
    async def transfer(
        self, guide_id: PathId, data: TransferRequest, db: AsyncSession, caller: Principal
    ) -> TransferDone:
        """Move a guide's customers to a guide of the same store or to its pool; credit
        already earned stays where it is."""
        async with db.begin():
            return await transfer_customers(db, guide_id, data, caller.sub)


class CustomerCardController(Controller):
    path = "/api"
    tags = ["customers"]  # noqa: RUF012

    @get("/customers/{customer_id:int}/card", opt=allow(Role.HQ, Role.HOST, Role.GUIDE))
    async def card(self, customer_id: PathId, db: AsyncSession, caller: Principal) -> CustomerCard:
        """A customer's card (masked phone, binding and its history, credited purchases):
        HQ any, a host their store's, a guide their own and their store's pool."""
        return await customer_card(db, caller, customer_id)

    @post("/customers/{customer_id:int}/unmask", opt=allow(Role.HQ), status_code=200)
    async def unmask(
        self, customer_id: PathId, data: UnmaskRequest, db: AsyncSession, caller: Principal
    ) -> UnmaskedPhone:
        """The full phone number, for HQ only; each call writes an audit row."""
        async with db.begin():
            return await unmask_phone(db, caller.sub, customer_id, data.reason)

    @get("/guides/me/sales", opt=allow(Role.GUIDE))
    async def my_sales(
        self,
        db: AsyncSession,
        caller: Principal,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> MySales:
        """The calling guide's credited sales in [since, until) (the last 30 days by default),
        each with the reason it counts for them."""
        until = until or utcnow()
        return await guide_sales(db, caller.sub, since or until - DEFAULT_PERIOD, until)


class CustomerSearchController(Controller):
    path = "/api"
    tags = ["customers"]  # noqa: RUF012

    @get("/customers", opt=allow(Role.HQ, Role.HOST))
    async def customers(
        self,
        db: AsyncSession,
        caller: Principal,
        q: Annotated[str, Parameter(max_length=32)] = "",
        store_id: Annotated[int | None, Parameter(ge=1, le=INT32_MAX)] = None,
        limit: Annotated[int, Parameter(ge=1, le=SEARCH_PAGE)] = 50,
        offset: Annotated[int, Parameter(ge=0, le=INT32_MAX)] = 0,
    ) -> list[CustomerRow]:
        """Customers (masked phones, guide, segment, tier), newest first, searched by a part of
        the name or the last digits of the phone: HQ all (or one store's), a host their store's."""
        return await search_customers(
            db, store_id=store_in_view(caller, store_id), q=q, limit=limit, offset=offset
        )

    @get("/guides", opt=allow(Role.HQ, Role.HOST))
    async def guides(
        self,
        db: AsyncSession,
        caller: Principal,
        store_id: Annotated[int | None, Parameter(ge=1, le=INT32_MAX)] = None,
    ) -> list[GuideRead]:
        """The guides of a store (a host's own), or every guide for HQ."""
        return await store_guides(db, store_in_view(caller, store_id))

    @get("/guides/{guide_id:int}/sales", opt=allow(Role.HQ, Role.HOST))
    async def sales_of_a_guide(
        self,
        guide_id: PathId,
        db: AsyncSession,
        caller: Principal,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> MySales:
        """A guide's credited sales in [since, until) (the last 30 days by default), each with
        its reason, as the guide's host (their own store's guides) or HQ reads them."""
        until = until or utcnow()
        return await sales_of_guide(db, caller, guide_id, since or until - DEFAULT_PERIOD, until)


CONTROLLERS = [
    BindingRuleController,
    BindingController,
    CustomerCardController,
    CustomerSearchController,
]
