"""The demo catalogue: twenty products of a women's-wear chain, and some purchase history."""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from orders.models import Deal, Order, OrderEvent, Product
from server.model_base import utcnow

PRODUCTS = [  # (name, English name, list price in yuan)
    ("双面羊绒大衣", "Double-faced cashmere coat", 1899),
    ("真丝印花衬衫", "Printed silk shirt", 599),
    ("高腰阔腿裤", "High-waist wide-leg trousers", 399),
    ("针织开衫", "Knit cardigan", 459),
    ("羽绒服 轻薄款", "Light down jacket", 899),
    ("法式碎花连衣裙", "French floral dress", 529),
    ("百褶半身裙", "Pleated midi skirt", 329),
    ("羊毛混纺西装", "Wool-blend blazer", 999),
    ("纯棉白T恤", "Cotton white tee", 129),
    ("直筒牛仔裤", "Straight-leg jeans", 359),
    ("马海毛毛衣", "Mohair sweater", 699),
    ("风衣 经典款", "Classic trench coat", 1299),
    ("小香风外套", "Tweed jacket", 1099),
    ("丝巾", "Silk scarf", 199),
    ("皮质托特包", "Leather tote bag", 799),
    ("乐福鞋", "Loafers", 569),
    ("打底高领衫", "Turtleneck base layer", 159),
    ("灯芯绒衬衫", "Corduroy shirt", 289),
    ("毛呢阔腿裤", "Wool wide-leg trousers", 459),
    ("珍珠耳环", "Pearl earrings", 239),
]


@dataclass
class CatalogueSeed:
    product_ids: list[int]
    list_prices: dict[int, int]


async def seed_catalogue(session: AsyncSession) -> CatalogueSeed:
    products = [
        Product(
            sku=f"MD{n + 1:04d}",
            name=name,
            name_en=name_en,
            list_price_fen=price * 100,
            image_url=f"/static/img/product-{n % 6 + 1}.svg",
        )
        for n, (name, name_en, price) in enumerate(PRODUCTS)
    ]
    session.add_all(products)
    await session.flush()
    return CatalogueSeed([p.id for p in products], {p.id: p.list_price_fen for p in products})


async def seed_purchase_history(
    session: AsyncSession,
    catalogue: CatalogueSeed,
    buyers: list[tuple[int, int]],
    seed: int = 11,
) -> int:
    """Paid orders from past store sales, so segments and scores have history to work on.

    `buyers` is (customer id, store id). Returns the number of orders written; the caller
    writes their sale credits through attribution/.
    """
    rng = random.Random(seed)
    now = utcnow()
    past_deals = {}
    for product_id in catalogue.product_ids[:8]:
        deal = Deal(
            kind="regular",
            product_id=product_id,
            status="ended",
            price_fen=catalogue.list_prices[product_id],
            stock=10_000,
            starts_at=now - timedelta(days=800),
            ends_at=now - timedelta(days=1),
        )
        session.add(deal)
        past_deals[product_id] = deal
    await session.flush()
    written = 0
    for customer_id, store_id in buyers:
        for _ in range(rng.randrange(1, 5)):
            product_id = rng.choice(list(past_deals))
            at = now - timedelta(days=rng.randrange(2, 720), minutes=rng.randrange(1440))
            price = catalogue.list_prices[product_id]
            order = Order(
                id=secrets.token_hex(12),
                idempotency_key=f"history-{written}",
                customer_id=customer_id,
                deal_id=past_deals[product_id].id,
                product_id=product_id,
                room_store_id=store_id,
                quantity=1,
                unit_price_fen=price,
                amount_fen=price,
                status="paid",
                accepted_at=at,
                pay_by=at + timedelta(minutes=15),
                paid_at=at,
            )
            session.add(order)
            session.add(OrderEvent(order_id=order.id, kind="paid", at=at, data={"history": True}))
            written += 1
    await session.flush()
    return written


@dataclass
class WindowDeals:
    by_product: dict[int, int]
    """The deal each window product sells through."""
    to_launch: list[int]
    """Deals on sale from the start (the regular live prices); flash sales wait for a host."""


async def seed_window_deals(
    session: AsyncSession, broadcast_id: int, window: list[tuple[int, int]], flash_sales: int = 2
) -> WindowDeals:
    """`window` is (product id, live price in fen). The first `flash_sales` products get a
    flash sale (draft: the host launches it on air); the rest sell at the live price."""
    by_product: dict[int, int] = {}
    to_launch: list[int] = []
    for n, (product_id, price) in enumerate(window):
        flash = n < flash_sales
        deal = Deal(
            kind="flash_sale" if flash else "regular",
            product_id=product_id,
            broadcast_id=broadcast_id,
            price_fen=price * 6 // 10 if flash else price,
            stock=50 if flash else 500,
            per_customer_limit=2 if flash else 0,
            status="draft",
        )
        session.add(deal)
        await session.flush()
        by_product[product_id] = deal.id
        if not flash:
            to_launch.append(deal.id)
    return WindowDeals(by_product, to_launch)
