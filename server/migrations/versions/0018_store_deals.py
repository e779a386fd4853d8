"""orders: store stock and HQ's limits on the deals store hosts create

Revision ID: 0018
Revises: 0017
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.model_base

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "store_stock",
        sa.Column("store_id", sa.Integer(), sa.ForeignKey("stores.id"), primary_key=True),
        sa.Column("product_id", sa.Integer(), sa.ForeignKey("products.id"), primary_key=True),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("updated_at", server.model_base.UTCDateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "store_deal_limits",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("floor_pct", sa.Integer(), nullable=False),
        sa.Column("floor_fen", sa.Integer(), nullable=False),
        sa.Column("stock_pct", sa.Integer(), nullable=False),
        sa.Column("updated_at", server.model_base.UTCDateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "store_deals",
        sa.Column("deal_id", sa.Integer(), sa.ForeignKey("deals.id"), primary_key=True),
        sa.Column("store_id", sa.Integer(), sa.ForeignKey("stores.id"), nullable=False),
        sa.Column("product_id", sa.Integer(), sa.ForeignKey("products.id"), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", server.model_base.UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_store_deals_store_id", "store_deals", ["store_id"])


def downgrade() -> None:
    op.drop_table("store_deals")
    op.drop_table("store_deal_limits")
    op.drop_table("store_stock")
