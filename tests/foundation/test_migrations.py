"""Alembic creates the whole schema on each backend."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from server.db import metadata
from server.services import Services


@pytest.mark.database
async def test_migrations_create_every_table_the_models_declare(services: Services) -> None:
    async with services.engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    assert set(metadata.tables) <= tables
