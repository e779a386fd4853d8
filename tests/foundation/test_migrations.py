"""Alembic creates exactly the schema the models declare, on each backend."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from server.migrations.registry import metadata
from server.services import Services


@pytest.mark.database
async def test_migrations_create_every_table_the_models_declare(services: Services) -> None:
    async with services.engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    assert set(metadata.tables) <= tables


@pytest.mark.database
async def test_the_migrated_schema_has_no_drift_from_the_models(services: Services) -> None:
    def drift(sync: Any) -> list[Any]:
        context = MigrationContext.configure(sync, opts={"compare_type": False})
        return [
            change
            for change in compare_metadata(context, metadata)
            if not (isinstance(change, tuple) and change[0] == "remove_table")  # alembic's own
        ]

    async with services.engine.connect() as connection:
        assert await connection.run_sync(drift) == []
