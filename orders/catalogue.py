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
    # Columns, not rows: a window reads these on every room join, and ORM objects cost more.
    rows = await session.execute(
        select(
            Product.id, Product.name, Product.name_en, Product.image_url, Product.list_price_fen
        ).where(Product.id.in_(sorted(set(product_ids))))
    )
    return {row[0]: ProductCard(*row) for row in rows}


async def product_exists(session: AsyncSession, product_id: int) -> bool:
    return await session.scalar(select(Product.id).where(Product.id == product_id)) is not None
