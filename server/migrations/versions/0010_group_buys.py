"""orders: group-buys (拼团): the groups opened on a group_buy deal and their paid members

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.model_base

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "group_buys",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("leader_customer_id", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sharer_code", sa.String(length=32), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "formed",
                "completed",
                "failed",
                name="groupstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("opened_at", server.model_base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deadline", server.model_base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", server.model_base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["deal_id"], ["deals.id"], name=op.f("fk_group_buys_deal_id_deals")
        ),
        sa.ForeignKeyConstraint(
            ["leader_customer_id"],
            ["customers.id"],
            name=op.f("fk_group_buys_leader_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_buys")),
    )
    with op.batch_alter_table("group_buys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_group_buys_deal_id"), ["deal_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_group_buys_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_group_buys_deadline"), ["deadline"], unique=False)
    op.create_table(
        "group_members",
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("paid_at", server.model_base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_group_members_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["group_buys.id"], name=op.f("fk_group_members_group_id_group_buys")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_group_members_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_group_members")),
        sa.UniqueConstraint("group_id", "customer_id", name=op.f("uq_group_members_group_id")),
    )
    with op.batch_alter_table("group_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_group_members_group_id"), ["group_id"], unique=False)


def downgrade() -> None:
    op.drop_table("group_members")
    op.drop_table("group_buys")
