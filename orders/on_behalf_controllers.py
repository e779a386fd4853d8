"""HTTP endpoints of orders on behalf: the guide's (or host's) form and the customer's link."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from orders.on_behalf import confirm, place_for_customer, read_linked
from orders.on_behalf_schemas import OnBehalfCreate, OnBehalfPlaced, OnBehalfView
from orders.runtime import OrdersRuntime
from server.auth import Principal, Role, allow
from server.bounds import PathOrderId
from server.services import Services

LinkToken = Annotated[str, Parameter(query="token", min_length=1, max_length=64)]


class OnBehalfController(Controller):
    path = "/api/on-behalf-orders"
    tags = ["orders"]  # noqa: RUF012

    @post("/", opt=allow(Role.GUIDE, Role.HOST), status_code=201)
    async def place(
        self, db: AsyncSession, caller: Principal, orders: OrdersRuntime, data: OnBehalfCreate
    ) -> OnBehalfPlaced:
        """Hold a deal's units for a customer who asked; the answer has the link to send them."""
        return await place_for_customer(orders.intake, db, caller, data)

    @get("/{order_id:str}", opt=allow(Role.VIEWER))
    async def read(
        self,
        db: AsyncSession,
        caller: Principal,
        services: Services,
        order_id: PathOrderId,
        token: LinkToken,
    ) -> OnBehalfView:
        """The order a guide built for the caller, as their link shows it."""
        return await read_linked(services, db, caller, order_id, token)

    @post("/{order_id:str}/confirm", opt=allow(Role.VIEWER), status_code=200)
    async def confirm(
        self,
        db: AsyncSession,
        caller: Principal,
        services: Services,
        order_id: PathOrderId,
        token: LinkToken,
    ) -> OnBehalfView:
        """The customer agrees; the answer carries the pay link."""
        return await confirm(services, db, caller, order_id, token)


ROUTES: list[HTTPRouteHandler | type[Controller]] = [OnBehalfController]
