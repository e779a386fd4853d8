"""Migration 0006 drops products.stock and keeps the products' ids never reused on SQLite."""

from __future__ import annotations

import asyncio

from alembic import command
from sqlalchemy import text

from server.db import engine_for_url
from server.migrate import alembic_config, upgrade


async def _run(url: str, sql: str) -> object:
    """Runs one statement; returns its first value, if it returns rows."""
    engine = engine_for_url(url)
    async with engine.begin() as connection:
        result = await connection.execute(text(sql))
        found = result.scalar() if result.returns_rows else None
    await engine.dispose()
    return found


async def test_products_lose_stock_keep_their_rows_and_keep_autoincrement(
    database_url: str,
) -> None:
    await asyncio.to_thread(command.downgrade, alembic_config(database_url), "0005")
    await _run(
        database_url,
        "INSERT INTO products (sku, name, name_en, description, image_url, list_price_fen,"
        " stock, created_at) VALUES ('P1', 'p', 'p', '', '', 100, 10, '2026-01-01')",
    )
    await asyncio.to_thread(upgrade, database_url)

    table = str(await _run(database_url, "SELECT sql FROM sqlite_master WHERE name = 'products'"))
    assert "AUTOINCREMENT" in table
    assert "stock" not in table
    assert await _run(database_url, "SELECT sku FROM products") == "P1"
