"""live: store scores: HQ's weights per phase and the daily roll-up of KPIs, scores and ranks

Revision ID: 0022
Revises: 0021
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.model_base

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WEIGHTS = (
    "live_minutes",
    "sessions",
    "live_sales",
    "private_share",
    "execution",
    "add_fan",
    "reactivation",
    "missed_slots",
)


def upgrade() -> None:
    op.create_table(
        "score_weights",
        sa.Column("phase", sa.String(8), primary_key=True),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in WEIGHTS),
        sa.Column("updated_at", server.model_base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
    )
    op.create_table(
        "store_score_days",
        sa.Column("id", sa.Integer(), sa.Identity(), primary_key=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("store_id", sa.Integer(), sa.ForeignKey("stores.id"), nullable=False),
        sa.Column("region_id", sa.Integer(), sa.ForeignKey("regions.id"), nullable=False),
        sa.Column("phase", sa.String(8), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("rank_overall", sa.Integer(), nullable=False),
        sa.Column("rank_region", sa.Integer(), nullable=False),
        sa.Column("live_minutes", sa.Integer(), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("live_sales_fen", sa.Integer(), nullable=False),
        sa.Column("online_fen", sa.Integer(), nullable=False),
        sa.Column("instore_fen", sa.Integer(), nullable=False),
        sa.Column("private_share", sa.Float(), nullable=False),
        sa.Column("execution_rate", sa.Float(), nullable=False),
        sa.Column("add_fan_rate", sa.Float(), nullable=False),
        sa.Column("reactivation_rate", sa.Float(), nullable=False),
        sa.Column("missed_slots", sa.Integer(), nullable=False),
        sa.Column("computed_at", server.model_base.UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("day", "store_id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_store_score_days_day", "store_score_days", ["day"])
    op.create_index("ix_store_score_days_store_id", "store_score_days", ["store_id"])


def downgrade() -> None:
    op.drop_table("store_score_days")
    op.drop_table("score_weights")
