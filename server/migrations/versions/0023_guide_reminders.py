"""attribution: HQ's chase (催办) reminders on the guide workbench

Revision ID: 0023
Revises: 0015
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.model_base

revision: str = "0023"
down_revision: str | None = "0015"
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


def downgrade() -> None:
    op.drop_table("guide_reminders")
