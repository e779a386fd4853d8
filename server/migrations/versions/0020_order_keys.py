"""orders: an idempotency key names one order while Redis remembers it; SQL only looks it up

The unique (customer_id, idempotency_key) goes: Redis keeps a key's answer while its deal can
take or answer an order (orders/intake.py), and a key reused after that is a new order that
must land, not a unique violation in the persister. A plain index on (customer_id, deal_id,
idempotency_key) answers a reuse on an ended deal from SQL.

Revision ID: 0020
Revises: 0019
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_orders_customer_deal_key"


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch_op:
        batch_op.drop_constraint("uq_orders_customer_id", type_="unique")
        batch_op.create_index(INDEX, ["customer_id", "deal_id", "idempotency_key"])


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch_op:
        batch_op.drop_index(INDEX)
        batch_op.create_unique_constraint(
            "uq_orders_customer_id", ["customer_id", "idempotency_key"]
        )
