"""live: a broadcast names its own on-air item (a store host may present a hub item)

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.model_base  # noqa: F401

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("broadcasts") as batch:
        batch.add_column(sa.Column("on_air_item_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("window_items") as batch:
        batch.drop_column("on_air")


def downgrade() -> None:
    with op.batch_alter_table("window_items") as batch:
        batch.add_column(
            sa.Column("on_air", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("broadcasts") as batch:
        batch.drop_column("on_air_item_id")
