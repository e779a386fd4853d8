"""Migration 0016 gives till sales imported before it their credit row (rule `instore`, the
store, the receipt in the reason), once; down removes those rows and the returns again."""

from __future__ import annotations

import asyncio

import pytest
from alembic import command

from server.migrate import alembic_config, upgrade
from tests.attribution.test_migration_credit_reasons import _run


@pytest.mark.database
async def test_till_sales_imported_before_get_their_credit(database_url: str) -> None:
    await asyncio.to_thread(command.downgrade, alembic_config(database_url), "0015")
    await _run(database_url, "INSERT INTO regions (name) VALUES ('华东')")
    await _run(
        database_url,
        "INSERT INTO stores (region_id, code, name, city) VALUES (1, 'SH01', '南京路店', '上海')",
    )
    await _run(
        database_url,
        "INSERT INTO instore_sales (receipt_id, store_id, amount_fen, sold_at, imported_at)"
        " VALUES ('R123', 1, 12900, '2026-03-02 02:15:00+00:00', '2026-03-03 00:00:00+00:00')",
    )
    await asyncio.to_thread(upgrade, database_url)
    rows = await _run(
        database_url,
        "SELECT kind, rule, store_id, guide_id, order_id, amount_fen, reason_zh, instore_sale_id"
        " FROM sale_credits",
    )
    assert rows == [
        ("sale", "instore", 1, None, None, 12900, "门店收银 南京路店 小票 R123, 2026-03-02", 1)
    ]
    await asyncio.to_thread(command.downgrade, alembic_config(database_url), "0015")
    assert await _run(database_url, "SELECT id FROM sale_credits") == []
    await asyncio.to_thread(upgrade, database_url)
