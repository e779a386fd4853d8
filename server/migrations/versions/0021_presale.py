"""orders: the pre-sale flag (预售) of a deal

Revision ID: 0021
Revises: 0020
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN: no rebuild of the table on SQLite.
    op.add_column(
        "deals", sa.Column("presale", sa.Boolean(), nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    # A rebuild on SQLite: keep the AUTOINCREMENT migration 0004 gave the table.
    with op.batch_alter_table("deals", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.drop_column("presale")
