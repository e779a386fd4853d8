"""orders: coupons issued by coupon packs and spent by orders

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.model_base

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "coupons",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("pack_deal_id", sa.Integer(), nullable=False),
        sa.Column("pack_order_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("amount_off_fen", sa.Integer(), nullable=False),
        sa.Column("min_spend_fen", sa.Integer(), nullable=False),
        sa.Column("stackable", sa.Boolean(), nullable=False),
        sa.Column("product_ids", sa.JSON(), nullable=False),
        sa.Column("valid_from", server.model_base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_until", server.model_base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_order_id", sa.String(length=32), nullable=True),
        sa.Column("used_at", server.model_base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("issued_at", server.model_base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_coupons_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["pack_deal_id"], ["deals.id"], name=op.f("fk_coupons_pack_deal_id_deals")
        ),
        sa.ForeignKeyConstraint(
            ["pack_order_id"], ["orders.id"], name=op.f("fk_coupons_pack_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["used_order_id"], ["orders.id"], name=op.f("fk_coupons_used_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupons")),
        sa.UniqueConstraint("pack_order_id", "position", name=op.f("uq_coupons_pack_order_id")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("coupons", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_coupons_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_coupons_pack_deal_id"), ["pack_deal_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_coupons_used_order_id"), ["used_order_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("coupons")
