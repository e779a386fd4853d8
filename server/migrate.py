"""Apply the Alembic migrations programmatically (the CLI's `db upgrade`, tests, the demo)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.exc import DBAPIError

from server.settings import SettingsError

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if database_url is not None:
        config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str | None = None, revision: str = "head") -> None:
    """Bring the database to `revision`. Runs env.py's own event loop, so call it off-loop.

    A database that cannot be reached raises SettingsError naming DATABASE_URL.
    """
    try:
        command.upgrade(alembic_config(database_url), revision)
    except (OSError, DBAPIError) as exc:
        reason = str(exc.orig) if isinstance(exc, DBAPIError) else str(exc)
        raise SettingsError(f"DATABASE_URL: cannot reach the database: {reason}") from exc
