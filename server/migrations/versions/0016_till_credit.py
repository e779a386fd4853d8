"""attribution: till sales and returns are credit rows (rule `instore`) with their reasons;
a till return names the sale it gives money back on

Revision ID: 0016
Revises: 0015
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Rebuilds on SQLite: keep the AUTOINCREMENT both tables were created with.
    with op.batch_alter_table(
        "instore_sales", table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(sa.Column("return_of_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_instore_sales_return_of_id_instore_sales"),
            "instore_sales",
            ["return_of_id"],
            ["id"],
        )
        batch_op.create_index(batch_op.f("ix_instore_sales_return_of_id"), ["return_of_id"])
    with op.batch_alter_table(
        "sale_credits", table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.alter_column("order_id", existing_type=sa.String(32), nullable=True)
        batch_op.alter_column("customer_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("instore_sale_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_sale_credits_instore_sale_id_instore_sales"),
            "instore_sales",
            ["instore_sale_id"],
            ["id"],
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_sale_credits_instore_sale_id"), ["instore_sale_id"]
        )
    _credit_imported_till_sales()


def _credit_imported_till_sales() -> None:
    """Till sales imported before this revision get their credit row, as an import writes it
    now (attribution/instore_credit.py), so a store's credits include its first line."""
    bind = op.get_bind()
    names: dict[int, str] = dict(bind.execute(sa.text("SELECT id, name FROM stores")).all())
    sales = bind.execute(
        sa.text(
            "SELECT id, receipt_id, store_id, customer_id, amount_fen, sold_at"
            " FROM instore_sales WHERE id NOT IN"
            " (SELECT instore_sale_id FROM sale_credits WHERE instore_sale_id IS NOT NULL)"
        )
    ).all()
    rows = []
    for sale_id, receipt, store_id, customer_id, amount, sold_at in sales:
        day = str(sold_at)[:10]
        store = names.get(store_id, "")
        rows.append(
            {
                "kind": "sale",
                "customer_id": customer_id,
                "store_id": store_id,
                "rule": "instore",
                "reason_zh": f"门店收银 {store} 小票 {receipt}, {day}"[:200],
                "reason_en": f"till sale at {store}, receipt {receipt}, {day}"[:200],
                "amount_fen": amount,
                "created_at": sold_at,
                "instore_sale_id": sale_id,
            }
        )
    if rows:
        bind.execute(
            sa.text(
                "INSERT INTO sale_credits (kind, customer_id, store_id, rule,"
                " reason_zh, reason_en, amount_fen, created_at, instore_sale_id) VALUES (:kind,"
                " :customer_id, :store_id, :rule, :reason_zh, :reason_en,"
                " :amount_fen, :created_at, :instore_sale_id)"
            ),
            rows,
        )


def downgrade() -> None:
    op.execute("DELETE FROM sale_credits WHERE instore_sale_id IS NOT NULL")
    op.execute("DELETE FROM instore_sales WHERE return_of_id IS NOT NULL")
    with op.batch_alter_table(
        "sale_credits", table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_sale_credits_instore_sale_id"), type_="unique")
        batch_op.drop_constraint(
            batch_op.f("fk_sale_credits_instore_sale_id_instore_sales"), type_="foreignkey"
        )
        batch_op.drop_column("instore_sale_id")
        batch_op.alter_column("customer_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("order_id", existing_type=sa.String(32), nullable=False)
    with op.batch_alter_table(
        "instore_sales", table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_index(batch_op.f("ix_instore_sales_return_of_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_instore_sales_return_of_id_instore_sales"), type_="foreignkey"
        )
        batch_op.drop_column("return_of_id")
