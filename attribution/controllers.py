"""HTTP endpoints of attribution/: viewer login and who-am-I, customers, the organisation.
Domain functions raise the error kinds of server/errors.py; the app maps them once."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.exceptions import TooManyRequestsException
from litestar.params import JSONBody
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.binding_controllers import CONTROLLERS
from attribution.instore_controller import InstoreSaleController
from attribution.login import enter_as_customer, over_login_rate
from attribution.queries import customer_profile, stores_with_regions
from attribution.runtime import AttributionRuntime
from attribution.schemas import (
    BindingReason,
    CustomerProfile,
    LoginResult,
    Me,
    StoreRead,
    ViewerLogin,
)
from attribution.segments_controller import SegmentController
from server.auth import PUBLIC, Principal, Role, allow
from server.errors import NotFound
from server.services import Services


class NoSuchCustomer(NotFound):
    pass


class AuthController(Controller):
    path = "/api"
    tags = ("auth",)

    @post("/auth/viewer", opt=PUBLIC)
    async def viewer_login(
        self,
        data: JSONBody[ViewerLogin],
        request: Request[Any, Any, State],
        db: AsyncSession,
        services: Services,
        attribution: AttributionRuntime,
    ) -> LoginResult:
        """Log a viewer in from the mini-program; the token serves HTTP and the room socket.
        Logins are limited per client address (429 beyond it)."""
        address = request.client.host if request.client else "unknown"
        per_minute = services.settings.auth.logins_per_minute
        if await over_login_rate(services.redis, address, per_minute):
            raise TooManyRequestsException("too many logins from this address; wait a minute")
        identity = await attribution.identity.resolve(data.code, data.phone_code)
        customer = await enter_as_customer(
            db,
            identity,
            nickname=data.nickname,
            share_code=data.share_code,
            share_via=BindingReason(data.share_via),
            store_id=data.store_id,
        )
        principal = Principal(Role.VIEWER, customer.id, customer.home_store_id)
        return LoginResult(token=services.signer.issue(principal), customer_id=customer.id)

    @get("/me", opt=allow(*Role))
    async def me(self, caller: Principal) -> Me:
        return Me(role=caller.role.value, id=caller.sub, store_id=caller.store_id)


class CustomerController(Controller):
    path = "/api/customers"
    tags = ("customers",)

    @get("/me", opt=allow(Role.VIEWER))
    async def my_profile(self, caller: Principal, db: AsyncSession) -> CustomerProfile:
        """The signed-in viewer's own profile; the phone number comes back masked."""
        profile = await customer_profile(db, caller.sub)
        if profile is None:
            raise NoSuchCustomer("no such customer")
        return profile


class StoreController(Controller):
    path = "/api/stores"
    tags = ("org",)

    @get(opt=allow(Role.HQ))
    async def list_stores(self, db: AsyncSession) -> list[StoreRead]:
        return await stores_with_regions(db)


ROUTES: list[ControllerRouterHandler] = [
    AuthController,
    CustomerController,
    StoreController,
    InstoreSaleController,
    SegmentController,
    *CONTROLLERS,
]
"""attribution/' HTTP routes, as the app registers them."""
