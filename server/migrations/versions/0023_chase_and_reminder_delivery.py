"""attribution: HQ's chase (催办) reminders on the guide workbench; live: viewers' reminders
delivered through WeChat

Revision ID: 0023
Revises: 0022
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.model_base

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "guide_reminders",
        sa.Column("id", sa.Integer(), sa.Identity(), primary_key=True),
        sa.Column("guide_id", sa.Integer(), sa.ForeignKey("guides.id"), nullable=False),
        sa.Column("chase_window", sa.Integer(), nullable=False),
        sa.Column("overdue", sa.Integer(), nullable=False),
        sa.Column("chased_by", sa.Integer(), nullable=False),
        sa.Column("created_at", server.model_base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("seen_at", server.model_base.UTCDateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("guide_id", "chase_window", name="uq_guide_reminders_window"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_guide_reminders_guide_id", "guide_reminders", ["guide_id"])
    # A rebuild on SQLite: keep the AUTOINCREMENT the table was created with.
    with op.batch_alter_table(
        "schedule_notices", table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(
            sa.Column("delivered_at", server.model_base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("delivery_error", sa.String(200), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table(
        "schedule_notices", table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_column("delivery_error")
        batch_op.drop_column("delivered_at")
    op.drop_table("guide_reminders")
