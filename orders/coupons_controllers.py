"""HTTP endpoints of coupons: "my coupons" with what each saves, the order sheet's quote, and
the coupons a guide may apply for a customer."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.queries import customer_profile
from orders.coupons_schemas import CouponRead, Quote, QuoteAsk
from orders.coupons_view import customer_coupons, quote
from server.auth import Principal, Role, allow
from server.bounds import INT32_MAX, PathId
from server.errors import NotFound
from server.model_base import utcnow

QueryDealId = Annotated[int | None, Parameter(ge=1, le=INT32_MAX)]
QueryQuantity = Annotated[int, Parameter(ge=1, le=99)]


class CouponController(Controller):
    path = "/api/coupons"
    tags = ["coupons"]  # noqa: RUF012

    @get("/mine", opt=allow(Role.VIEWER))
    async def mine(
        self,
        db: AsyncSession,
        caller: Principal,
        deal_id: QueryDealId = None,
        quantity: QueryQuantity = 1,
    ) -> list[CouponRead]:
        """The caller's coupons; with `deal_id`, what each saves on that deal."""
        return await customer_coupons(db, caller.sub, utcnow(), deal_id, quantity)

    @post("/quote", opt=allow(Role.VIEWER), status_code=200)
    async def quote(self, db: AsyncSession, caller: Principal, data: QuoteAsk) -> Quote:
        """The price of an order with the coupons chosen: full price, amount off, to pay."""
        return await quote(db, caller.sub, data.deal_id, data.quantity, data.coupon_ids, utcnow())


class CustomerCouponController(Controller):
    path = "/api/customers/{customer_id:int}/coupons"
    tags = ["coupons"]  # noqa: RUF012

    @get("/", opt=allow(Role.GUIDE, Role.HOST, Role.HQ))
    async def of_customer(
        self,
        db: AsyncSession,
        caller: Principal,
        customer_id: PathId,
        deal_id: QueryDealId = None,
        quantity: QueryQuantity = 1,
    ) -> list[CouponRead]:
        """A customer's coupons, for the guide building an order on their behalf."""
        profile = await customer_profile(db, customer_id)
        if profile is None or not caller.may_act_for_store(profile.home_store_id):
            raise NotFound(f"no customer {customer_id} of your store")
        return await customer_coupons(db, customer_id, utcnow(), deal_id, quantity)


ROUTES: list[HTTPRouteHandler | type[Controller]] = [CouponController, CustomerCouponController]
