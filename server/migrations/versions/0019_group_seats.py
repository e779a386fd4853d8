"""orders: the seats taken in groups, paid or not, to rebuild groups after Redis lost them

Revision ID: 0019
Revises: 0018
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.model_base

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "group_seats",
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("taken_at", server.model_base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_group_seats")),
    )
    with op.batch_alter_table("group_seats", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_group_seats_group_id"), ["group_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("group_seats", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_group_seats_group_id"))
    op.drop_table("group_seats")
