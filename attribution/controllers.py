"""HTTP endpoints of attribution/: viewer login and who-am-I."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.exceptions import (
    NotAuthorizedException,
    NotFoundException,
    ServiceUnavailableException,
    TooManyRequestsException,
)
from litestar.params import JSONBody
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from attribution.binding_controllers import CONTROLLERS
from attribution.identity import IdentityProviderDown, LoginRefused
from attribution.instore_controller import InstoreSaleController
from attribution.login import UnknownStore, enter_as_customer, identity_provider, over_login_rate
from attribution.queries import customer_profile, stores_with_regions
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


@post("/api/auth/viewer", opt=PUBLIC, tags=["auth"])
async def viewer_login(
    data: JSONBody[ViewerLogin],
    request: Request[Any, Any, State],
    state: State,
    db: NamedDependency[AsyncSession],
) -> LoginResult:
    """Log a viewer in from the mini-program; the token serves HTTP and the room socket.
    Logins are limited per client address (429 beyond it)."""
    services = state.services
    address = request.client.host if request.client else "unknown"
    if await over_login_rate(services.redis, address, services.settings.auth.logins_per_minute):
        raise TooManyRequestsException("too many logins from this address; wait a minute")
    try:
        identity = await identity_provider(services).resolve(data.code, data.phone_code)
    except LoginRefused as exc:
        raise NotAuthorizedException(str(exc)) from exc
    except IdentityProviderDown as exc:
        raise ServiceUnavailableException(str(exc)) from exc
    try:
        customer = await enter_as_customer(
            db,
            identity,
            nickname=data.nickname,
            share_code=data.share_code,
            share_via=BindingReason(data.share_via),
            store_id=data.store_id,
        )
    except UnknownStore as exc:
        raise NotFoundException(str(exc)) from exc
    principal = Principal(Role.VIEWER, customer.id, customer.home_store_id)
    return LoginResult(token=services.signer.issue(principal), customer_id=customer.id)


@get("/api/me", opt=allow(*Role), tags=["auth"])
async def me(caller: Principal) -> Me:
    return Me(role=caller.role.value, id=caller.sub, store_id=caller.store_id)


@get("/api/customers/me", opt=allow(Role.VIEWER), tags=["customers"])
async def my_profile(
    request: Request[Principal, str, State], db: NamedDependency[AsyncSession]
) -> CustomerProfile:
    """The signed-in viewer's own profile; the phone number comes back masked."""
    profile = await customer_profile(db, request.user.sub)
    if profile is None:
        raise NotFoundException("no such customer")
    return profile


@get("/api/stores", opt=allow(Role.HQ), tags=["org"])
async def list_stores(db: NamedDependency[AsyncSession]) -> list[StoreRead]:
    return await stores_with_regions(db)


ROUTES: list[ControllerRouterHandler] = [
    viewer_login,
    me,
    my_profile,
    list_stores,
    InstoreSaleController,
    SegmentController,
    *CONTROLLERS,
]
