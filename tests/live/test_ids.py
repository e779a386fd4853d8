"""Ids that reach clients are never handed out again, also for rows made before migration 0004."""

from __future__ import annotations

import asyncio

import pytest
from alembic import command
from sqlalchemy import inspect, text

from server.db import engine_for_url
from server.migrate import alembic_config, upgrade

ROWS = """
INSERT INTO products (id, sku, name, name_en, description, image_url, list_price_fen, stock,
                      created_at) VALUES (1, 'P1', 'p', 'p', '', '', 100, 10, '2026-01-01'),
                                         (2, 'P2', 'q', 'q', '', '', 100, 10, '2026-01-01');
INSERT INTO broadcasts (id, kind, title, status, scheduled_start_at, scheduled_end_at, play_url,
                        replay_url, poster_url, created_at)
    VALUES (1, 'hub', 'hub', 'live', '2026-01-01', '2026-01-02', '', '', '', '2026-01-01');
INSERT INTO window_items (id, broadcast_id, product_id, position, price_fen)
    VALUES (1, 1, 1, 0, 90), (2, 1, 2, 1, 90);
"""


async def _run(url: str, statements: str) -> list[int]:
    engine = engine_for_url(url)
    async with engine.begin() as connection:
        for statement in filter(str.strip, statements.split(";")):
            await connection.execute(text(statement))
        ids = list(await connection.scalars(text("SELECT id FROM window_items ORDER BY id")))
    await engine.dispose()
    return ids


@pytest.mark.database
async def test_a_removed_items_id_is_not_given_to_the_next_item(database_url: str) -> None:
    await asyncio.to_thread(command.downgrade, alembic_config(database_url), "0003")
    await _run(database_url, ROWS)
    await asyncio.to_thread(upgrade, database_url)

    ids = await _run(
        database_url,
        "DELETE FROM window_items WHERE id = 2;"
        "INSERT INTO window_items (broadcast_id, product_id, position, price_fen)"
        " VALUES (1, 2, 1, 80)",
    )

    assert ids == [1, 3]


@pytest.mark.database
async def test_the_migration_keeps_every_foreign_key_and_index(database_url: str) -> None:
    def schema(sync: object) -> dict[str, tuple[int, int]]:
        inspector = inspect(sync)
        return {
            table: (len(inspector.get_foreign_keys(table)), len(inspector.get_indexes(table)))
            for table in inspector.get_table_names()
        }

    async def read() -> dict[str, tuple[int, int]]:
        engine = engine_for_url(database_url)
        async with engine.connect() as connection:
            found = await connection.run_sync(schema)
        await engine.dispose()
        return found

    config = alembic_config(database_url)
    await asyncio.to_thread(command.downgrade, config, "0004")  # later migrations add tables
    migrated = await read()
    await asyncio.to_thread(command.downgrade, config, "0003")
    before = await read()
    await asyncio.to_thread(command.upgrade, config, "head")

    assert migrated == before
