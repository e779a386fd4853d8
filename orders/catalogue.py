"""The products as other packages see them: wire types, never rows (live/'s windows read these)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from orders.models import Product
from orders.schemas import ProductCard


async def product_cards(session: AsyncSession, product_ids: list[int]) -> dict[int, ProductCard]:
    """The named products that exist, by id; one query however many are asked for."""
    if not product_ids:
        return {}
    products = await session.scalars(select(Product).where(Product.id.in_(set(product_ids))))
    return {
        product.id: ProductCard(
            product_id=product.id,
            name=product.name,
            name_en=product.name_en,
            image_url=product.image_url,
            list_price_fen=product.list_price_fen,
        )
        for product in products
    }


async def product_exists(session: AsyncSession, product_id: int) -> bool:
    return await session.scalar(select(Product.id).where(Product.id == product_id)) is not None
