"""orders: the refund outbox; attribution: HQ's own line (a sale credit without a store)

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.model_base

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "refund_outbox",
        sa.Column("id", sa.String(length=48), nullable=False),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("created_at", server.model_base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", server.model_base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", server.model_base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_refund_outbox_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refund_outbox")),
    )
    with op.batch_alter_table("refund_outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refund_outbox_order_id"), ["order_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_refund_outbox_next_attempt_at"), ["next_attempt_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_refund_outbox_confirmed_at"), ["confirmed_at"], unique=False
        )
    # A rebuild on SQLite: keep the AUTOINCREMENT migration 0004 gave the table.
    with op.batch_alter_table(
        "sale_credits", table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.alter_column("store_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table(
        "sale_credits", table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.alter_column("store_id", existing_type=sa.Integer(), nullable=False)
    op.drop_table("refund_outbox")
