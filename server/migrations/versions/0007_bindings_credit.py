"""attribution: the brand's binding rule, binding history, explained credit, phone-unmask audit

Sale credits gain the broadcast bought in, the refund a reversal undoes (its own column: the rule no longer
carries it) and the reason in Chinese and English. Existing reversals take their refund id out
of the old `refund:<id>` rule and their sale's rule in its place.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.model_base

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "brand_settings",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("binding_mode", sa.String(length=16), nullable=False),
        sa.Column("protect_days", sa.Integer(), nullable=False),
        sa.Column("updated_at", server.model_base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brand_settings")),
    )
    op.create_table(
        "binding_history",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("from_guide_id", sa.Integer(), nullable=True),
        sa.Column("from_store_id", sa.Integer(), nullable=True),
        sa.Column("to_guide_id", sa.Integer(), nullable=True),
        sa.Column("to_store_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=32), nullable=False),
        sa.Column("at", server.model_base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_binding_history_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["from_guide_id"], ["guides.id"], name=op.f("fk_binding_history_from_guide_id_guides")
        ),
        sa.ForeignKeyConstraint(
            ["from_store_id"], ["stores.id"], name=op.f("fk_binding_history_from_store_id_stores")
        ),
        sa.ForeignKeyConstraint(
            ["to_guide_id"], ["guides.id"], name=op.f("fk_binding_history_to_guide_id_guides")
        ),
        sa.ForeignKeyConstraint(
            ["to_store_id"], ["stores.id"], name=op.f("fk_binding_history_to_store_id_stores")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_binding_history")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_binding_history_customer_id"), "binding_history", ["customer_id"], unique=False
    )
    op.create_table(
        "phone_unmasks",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("at", server.model_base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_phone_unmasks_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_unmasks")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_phone_unmasks_customer_id"), "phone_unmasks", ["customer_id"], unique=False
    )
    op.create_index(op.f("ix_phone_unmasks_staff_id"), "phone_unmasks", ["staff_id"], unique=False)

    # Plain ADD COLUMNs: no rebuild of the table on SQLite.
    op.add_column("sale_credits", sa.Column("broadcast_id", sa.Integer(), nullable=True))
    op.add_column("sale_credits", sa.Column("refund_id", sa.String(length=64), nullable=True))
    op.add_column(
        "sale_credits",
        sa.Column("reason_zh", sa.String(length=200), nullable=False, server_default=""),
    )
    op.add_column(
        "sale_credits",
        sa.Column("reason_en", sa.String(length=200), nullable=False, server_default=""),
    )
    op.execute(
        "UPDATE sale_credits SET refund_id = substr(rule, 8), rule = COALESCE(("
        "SELECT s.rule FROM sale_credits s WHERE s.order_id = sale_credits.order_id"
        " AND s.kind = 'sale'), rule) WHERE kind = 'reversal' AND rule LIKE 'refund:%'"
    )
    op.create_index(
        "uq_sale_credits_refund", "sale_credits", ["order_id", "refund_id"], unique=True
    )


def downgrade() -> None:
    op.drop_index("uq_sale_credits_refund", table_name="sale_credits")
    op.execute(
        "UPDATE sale_credits SET rule = substr('refund:' || refund_id, 1, 32)"
        " WHERE kind = 'reversal' AND refund_id IS NOT NULL"
    )
    with op.batch_alter_table(
        "sale_credits", table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_column("reason_en")
        batch_op.drop_column("reason_zh")
        batch_op.drop_column("refund_id")
        batch_op.drop_column("broadcast_id")
    op.drop_index(op.f("ix_phone_unmasks_staff_id"), table_name="phone_unmasks")
    op.drop_index(op.f("ix_phone_unmasks_customer_id"), table_name="phone_unmasks")
    op.drop_table("phone_unmasks")
    op.drop_index(op.f("ix_binding_history_customer_id"), table_name="binding_history")
    op.drop_table("binding_history")
    op.drop_table("brand_settings")
