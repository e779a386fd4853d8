"""The deals a store host creates, within the limits HQ sets.

A store host sells their own store's items: products the store stocks (orders/deals_models.py
StoreStock), in their store's broadcast, at no less than HQ's price floor, and together with
the store's other open deals of the product no more than HQ's share of the store's stock. A
deal holds its whole stock out of the store's until it ends. The check runs inside the
deal's creating transaction, the store's stock row locked, so two deals created at once cannot
both take the last units.
"""

from __future__ import annotations

from math import ceil

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from orders.deals_models import StoreDeal, StoreDealLimits, StoreStock
from orders.deals_schemas import DealLimits
from orders.groups_terms import GROUP_KIND
from orders.models import Deal, Product
from orders.rooms_port import Rooms
from orders.statuses import DealStatus
from server.auth import Principal
from server.errors import Forbidden, Invalid, NotFound

LIMITS_ROW = 1
STORE_KINDS = ("flash_sale", "regular", GROUP_KIND)
"""What a store host may create; coupon packs (budgets, coupons) and orders on behalf are HQ's."""


class OverLimit(Invalid):
    """A store deal past one of HQ's limits; the message names the limit."""


class NotYourStore(Forbidden):
    """A store host creating a deal for another store's broadcast or items, or of a kind
    only HQ creates."""


class NoBroadcast(NotFound):
    pass


async def read_limits(session: AsyncSession) -> DealLimits:
    row = await session.get(StoreDealLimits, LIMITS_ROW)
    if row is None:
        return DealLimits()
    return DealLimits(floor_pct=row.floor_pct, floor_fen=row.floor_fen, stock_pct=row.stock_pct)


async def set_limits(session: AsyncSession, limits: DealLimits) -> DealLimits:
    async with session.begin():
        row = await session.get(StoreDealLimits, LIMITS_ROW, with_for_update=True)
        if row is None:
            row = StoreDealLimits(id=LIMITS_ROW, floor_pct=0, floor_fen=0, stock_pct=0)
            session.add(row)
        row.floor_pct = limits.floor_pct
        row.floor_fen = limits.floor_fen
        row.stock_pct = limits.stock_pct
    return limits


def price_floor(limits: DealLimits, list_price_fen: int) -> int:
    return max(limits.floor_fen, ceil(list_price_fen * limits.floor_pct / 100))


async def held_by_open_deals(session: AsyncSession, store_id: int, product_id: int) -> int:
    """Units the store's deals of this product hold until they end."""
    held = await session.scalar(
        select(func.coalesce(func.sum(Deal.stock), 0))
        .join(StoreDeal, StoreDeal.deal_id == Deal.id)
        .where(
            StoreDeal.store_id == store_id,
            StoreDeal.product_id == product_id,
            Deal.status != DealStatus.ENDED,
        )
    )
    return int(held or 0)


def stock_cap(limits: DealLimits, units: int) -> int:
    return units * limits.stock_pct // 100


class StoreDealCheck:
    """The check of one store host's new deal, run by `create_deal` inside its transaction
    once the deal row has its id; it records the deal as the store's."""

    def __init__(self, caller: Principal, rooms: Rooms) -> None:
        assert caller.store_id is not None
        self.caller = caller
        self.store_id: int = caller.store_id
        self.rooms = rooms

    async def __call__(self, session: AsyncSession, deal: Deal) -> None:
        if deal.kind not in STORE_KINDS:
            raise NotYourStore(
                f"kind: a store host creates {', '.join(STORE_KINDS)} deals; {deal.kind} is HQ's"
            )
        if deal.broadcast_id is None:
            raise OverLimit("broadcast_id: a store deal sells in its store's broadcast")
        store = await self.rooms.store_of_broadcast(session, deal.broadcast_id)
        if store != self.store_id:
            raise NotYourStore(f"broadcast {deal.broadcast_id} is not your store's")
        stock = await session.get(
            StoreStock, (self.store_id, deal.product_id), with_for_update=True
        )
        if stock is None:
            raise NotYourStore(f"product {deal.product_id} is not one of your store's items")
        limits = await read_limits(session)
        product = await session.get(Product, deal.product_id)
        assert product is not None  # create_deal checked it
        floor = price_floor(limits, product.list_price_fen)
        if deal.price_fen < floor:
            least = f", and at least {limits.floor_fen}" if limits.floor_fen else ""
            raise OverLimit(
                f"price_fen {deal.price_fen} is below HQ's price floor of {floor} fen"
                f" ({limits.floor_pct}% of the list price {product.list_price_fen}{least})"
            )
        # This deal is not the store's yet (recorded below): `held` is its other deals'.
        held = await held_by_open_deals(session, self.store_id, deal.product_id)
        room = stock_cap(limits, stock.units) - held
        if deal.stock > room:
            raise OverLimit(
                f"stock {deal.stock} is over HQ's stock limit of {max(room, 0)} units"
                f" ({limits.stock_pct}% of the store's {stock.units}, less {held} held by"
                " its open deals)"
            )
        session.add(
            StoreDeal(
                deal_id=deal.id,
                store_id=self.store_id,
                product_id=deal.product_id,
                created_by=self.caller.sub,
            )
        )
