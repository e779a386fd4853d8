"""live: the schedule: slot approval, missed broadcasts, viewers' reminders, schedule notices

Revision ID: 0015
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.model_base

revision: str = "0015"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A rebuild on SQLite: keep the AUTOINCREMENT migration 0004 gave the table.
    with op.batch_alter_table(
        "broadcasts", table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(
            sa.Column("approval", sa.String(12), nullable=False, server_default="approved")
        )
    op.create_table(
        "broadcast_subscriptions",
        sa.Column("id", sa.Integer(), sa.Identity(), primary_key=True),
        sa.Column("broadcast_id", sa.Integer(), sa.ForeignKey("broadcasts.id"), nullable=False),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("created_at", server.model_base.UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("broadcast_id", "customer_id"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_broadcast_subscriptions_broadcast_id", "broadcast_subscriptions", ["broadcast_id"]
    )
    op.create_index(
        "ix_broadcast_subscriptions_customer_id", "broadcast_subscriptions", ["customer_id"]
    )
    op.create_table(
        "schedule_notices",
        sa.Column("id", sa.Integer(), sa.Identity(), primary_key=True),
        sa.Column("broadcast_id", sa.Integer(), sa.ForeignKey("broadcasts.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("created_at", server.model_base.UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("broadcast_id", "kind", "recipient_id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_schedule_notices_broadcast_id", "schedule_notices", ["broadcast_id"])
    op.create_index("ix_schedule_notices_created_at", "schedule_notices", ["created_at"])


def downgrade() -> None:
    op.drop_table("schedule_notices")
    op.drop_table("broadcast_subscriptions")
    with op.batch_alter_table(
        "broadcasts", table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_column("approval")
