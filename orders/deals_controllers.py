"""HTTP endpoints of the consoles' deals: the catalogue a seller picks from, HQ's limits on
store deals, and a deal's sales (the host console's pack and group panels). Creating,
launching and stopping a deal are DealController's (orders/controllers.py)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, put
from litestar.params import JSONBody, Parameter
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from orders.deals import DealNotFound
from orders.deals_catalogue import deal_sales, search_catalogue
from orders.deals_limits import read_limits, set_limits
from orders.deals_schemas import CatalogueItem, DealLimits, DealSales
from orders.models import Deal
from orders.runtime import OrdersRuntime
from server.auth import Principal, Role, allow
from server.bounds import NO_NUL, PathId
from server.errors import Forbidden

Query = Annotated[str, Parameter(max_length=64, pattern=NO_NUL)]


class NotYourDealSales(Forbidden):
    pass


class CatalogueController(Controller):
    path = "/api/catalogue"
    tags = ("deals",)

    @get(opt=allow(Role.HQ, Role.HOST))
    async def search(
        self, caller: Principal, db: AsyncSession, q: Query = ""
    ) -> list[CatalogueItem]:
        """Products the caller may sell whose name or code contains `q` (a host: their store's
        items, with its stock and the lowest price HQ allows)."""
        return await search_catalogue(db, caller, q)


class DealLimitsController(Controller):
    path = "/api/deal-limits"
    tags = ("deals",)

    @get(opt=allow(Role.HQ, Role.HOST))
    async def read_deal_limits(self, db: AsyncSession) -> DealLimits:
        """HQ's limits on the deals store hosts create."""
        return await read_limits(db)

    @put(opt=allow(Role.HQ))
    async def set_deal_limits(self, data: JSONBody[DealLimits], db: AsyncSession) -> DealLimits:
        """HQ sets the price floor and the share of a store's stock its hosts' deals may take."""
        return await set_limits(db, data)


class DealSalesController(Controller):
    path = "/api/deals/{deal_id:int}/sales"
    tags = ("deals",)

    @get(opt=allow(Role.HQ, Role.HOST))
    async def read_deal_sales(
        self, deal_id: PathId, caller: Principal, db: AsyncSession, orders: OrdersRuntime
    ) -> DealSales:
        """Paid orders, units and takings of a deal, and a pack's coupons issued and used."""
        deal = await db.get(Deal, deal_id)
        if deal is None:
            raise DealNotFound(f"no deal {deal_id}")
        if caller.role is not Role.HQ:
            # A store host follows the deals selling in their store's room: the store's own
            # and the hub's it relays.
            store = (
                await orders.rooms.store_of_broadcast(db, deal.broadcast_id)
                if deal.broadcast_id
                else None
            )
            if store not in (None, caller.store_id):
                raise NotYourDealSales("this deal sells in another store")
        return await deal_sales(db, deal)


ROUTES: list[ControllerRouterHandler] = [
    CatalogueController,
    DealLimitsController,
    DealSalesController,
]
