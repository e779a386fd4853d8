"""Migration 0007 takes the refund id out of old reversal rules (`refund:<id>`) into its own
column and gives each reversal its sale's rule; down and up again keeps the rows."""

from __future__ import annotations

import asyncio

import pytest
from alembic import command
from sqlalchemy import text

from server.db import engine_for_url
from server.migrate import alembic_config, upgrade


async def _run(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = engine_for_url(url)
    async with engine.begin() as connection:
        result = await connection.execute(text(sql))
        rows = [tuple(r) for r in result.all()] if result.returns_rows else []
    await engine.dispose()
    return rows


@pytest.mark.database
async def test_old_reversals_get_their_refund_id_and_their_sales_rule(database_url: str) -> None:
    await asyncio.to_thread(command.downgrade, alembic_config(database_url), "0006")
    await _run(database_url, "INSERT INTO regions (name) VALUES ('华东')")
    await _run(
        database_url,
        "INSERT INTO customers (openid, nickname, created_at) VALUES ('o1', '', '2026-01-01')",
    )
    for kind, rule, amount in (("sale", "room_store", 300), ("reversal", "refund:o1-u1", -100)):
        await _run(
            database_url,
            "INSERT INTO sale_credits (order_id, kind, customer_id, rule, amount_fen, created_at)"
            f" VALUES ('o1', '{kind}', 1, '{rule}', {amount}, '2026-01-02')",
        )
    await asyncio.to_thread(upgrade, database_url)
    rows = await _run(database_url, "SELECT kind, rule, refund_id FROM sale_credits ORDER BY id")
    assert rows == [("sale", "room_store", None), ("reversal", "room_store", "o1-u1")]
    await asyncio.to_thread(command.downgrade, alembic_config(database_url), "0006")
    rows = await _run(database_url, "SELECT kind, rule FROM sale_credits ORDER BY id")
    assert rows == [("sale", "room_store"), ("reversal", "refund:o1-u1")]
