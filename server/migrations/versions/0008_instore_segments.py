"""attribution: in-store till sales (the store's first line) and customer segments (RFML,
classes, tiers, sleeping), and an index on customers' phones for linking till sales

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.model_base

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "instore_sales",
        sa.Column("id", sa.Integer(), sa.Identity(), nullable=False),
        sa.Column("receipt_id", sa.String(length=64), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("sold_at", server.model_base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("imported_at", server.model_base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_instore_sales_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_instore_sales_store_id_stores")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instore_sales")),
        sa.UniqueConstraint("receipt_id", name=op.f("uq_instore_sales_receipt_id")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("instore_sales") as batch_op:
        batch_op.create_index(batch_op.f("ix_instore_sales_customer_id"), ["customer_id"])
        batch_op.create_index(batch_op.f("ix_instore_sales_sold_at"), ["sold_at"])
        batch_op.create_index(batch_op.f("ix_instore_sales_store_id"), ["store_id"])

    op.create_table(
        "customer_segments",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("recency_days", sa.Integer(), nullable=False),
        sa.Column("frequency", sa.Integer(), nullable=False),
        sa.Column("monetary_fen", sa.Integer(), nullable=False),
        sa.Column("length_days", sa.Integer(), nullable=False),
        sa.Column("rfm_class", sa.String(length=32), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=False),
        sa.Column("sleeping", sa.Boolean(), nullable=False),
        sa.Column("last_purchase_at", server.model_base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("computed_at", server.model_base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_segments_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_segments")),
    )
    with op.batch_alter_table("customer_segments") as batch_op:
        batch_op.create_index(batch_op.f("ix_customer_segments_rfm_class"), ["rfm_class"])
        batch_op.create_index(batch_op.f("ix_customer_segments_sleeping"), ["sleeping"])
        batch_op.create_index(batch_op.f("ix_customer_segments_tier"), ["tier"])

    op.create_index("ix_customers_phone", "customers", ["phone"])


def downgrade() -> None:
    op.drop_index("ix_customers_phone", table_name="customers")
    op.drop_table("customer_segments")
    op.drop_table("instore_sales")
