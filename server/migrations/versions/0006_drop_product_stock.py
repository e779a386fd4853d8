"""orders: products lose `stock`, which nothing drew from (each deal holds its own stock)

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A rebuild on SQLite: keep the AUTOINCREMENT migration 0004 gave the table.
    with op.batch_alter_table("products", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.drop_column("stock")


def downgrade() -> None:
    with op.batch_alter_table("products", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.add_column(sa.Column("stock", sa.Integer(), nullable=False, server_default="0"))
