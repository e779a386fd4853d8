"""The catalogue a seller picks from, scoped to what the caller may sell, and a deal's sales
as the host console follows them."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from orders.coupons_models import Coupon
from orders.deals_limits import held_by_open_deals, price_floor, read_limits, stock_cap
from orders.deals_models import StoreStock
from orders.deals_schemas import CatalogueItem, DealSales
from orders.models import Deal, Order, Product, Refund
from orders.statuses import SOLD, OrderStatus
from server.auth import Principal, Role

PAGE = 20
"""Products one search returns: a picker shows a screenful, the seller types more to narrow."""


def _matching(q: str) -> ColumnElement[bool]:
    words = q.strip()
    if not words:
        return true()
    return or_(
        Product.name.icontains(words, autoescape=True),
        Product.name_en.icontains(words, autoescape=True),
        Product.sku.icontains(words, autoescape=True),
    )


async def search_catalogue(session: AsyncSession, caller: Principal, q: str) -> list[CatalogueItem]:
    """Products whose name, English name or code contains `q`: for a host, only their store's
    items with the store's stock and HQ's floor; for HQ, every product with the stores'
    stock together."""
    if caller.role is Role.HQ:
        chain_stock = (
            select(StoreStock.product_id, func.sum(StoreStock.units).label("units"))
            .group_by(StoreStock.product_id)
            .subquery()
        )
        rows = (
            await session.execute(
                select(Product, func.coalesce(chain_stock.c.units, 0))
                .outerjoin(chain_stock, chain_stock.c.product_id == Product.id)
                .where(_matching(q))
                .order_by(Product.id)
                .limit(PAGE)
            )
        ).all()
        return [_item(p, int(units), 0, 0) for p, units in rows]
    assert caller.store_id is not None
    limits = await read_limits(session)
    found = (
        await session.execute(
            select(Product, StoreStock.units)
            .join(StoreStock, StoreStock.product_id == Product.id)
            .where(StoreStock.store_id == caller.store_id, _matching(q))
            .order_by(Product.id)
            .limit(PAGE)
        )
    ).all()
    items = []
    for product, units in found:
        held = await held_by_open_deals(session, caller.store_id, product.id)
        room = max(stock_cap(limits, units) - held, 0)
        items.append(_item(product, units, price_floor(limits, product.list_price_fen), room))
    return items


def _item(product: Product, stock: int, floor_fen: int, max_deal_stock: int) -> CatalogueItem:
    return CatalogueItem(
        product_id=product.id,
        sku=product.sku,
        name=product.name,
        name_en=product.name_en,
        image_url=product.image_url,
        list_price_fen=product.list_price_fen,
        stock=stock,
        floor_fen=floor_fen,
        max_deal_stock=max_deal_stock,
    )


async def deal_sales(session: AsyncSession, deal: Deal) -> DealSales:
    paid_orders, paid_units, paid_fen = (
        await session.execute(
            select(
                func.count(Order.id),
                func.coalesce(func.sum(Order.quantity), 0),
                func.coalesce(func.sum(Order.amount_fen), 0),
            ).where(Order.deal_id == deal.id, Order.status.in_(SOLD))
        )
    ).one()
    refunded_units, refunded_fen = (
        await session.execute(
            select(
                func.coalesce(func.sum(Refund.quantity), 0),
                func.coalesce(func.sum(Refund.amount_fen), 0),
            )
            .join(Order, Order.id == Refund.order_id)
            .where(Order.deal_id == deal.id, Order.status.in_(SOLD))
        )
    ).one()
    pending = await session.scalar(
        select(func.count(Order.id)).where(
            Order.deal_id == deal.id, Order.status == OrderStatus.PENDING_PAYMENT
        )
    )
    issued, used = (
        await session.execute(
            select(func.count(Coupon.id), func.count(Coupon.used_order_id)).where(
                Coupon.pack_deal_id == deal.id
            )
        )
    ).one()
    return DealSales(
        deal_id=deal.id,
        kind=deal.kind,
        paid_orders=int(paid_orders),
        paid_units=int(paid_units) - int(refunded_units),
        paid_fen=int(paid_fen) - int(refunded_fen),
        pending_orders=int(pending or 0),
        coupons_issued=int(issued),
        coupons_used=int(used),
    )
