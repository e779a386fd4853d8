"""live + attribution: per-item taps of viewer stays, on-air changes, the items of a follow-up
task, and the brand's 45-day cadence setting

Revision ID: 0017
Revises: 0016
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.model_base

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMNs (nullable, or with a default): no table rebuild on SQLite.
    op.add_column("viewer_sessions", sa.Column("tapped_items", sa.JSON(), nullable=True))
    op.add_column("followup_tasks", sa.Column("items", sa.JSON(), nullable=True))
    op.add_column(
        "followup_rules",
        sa.Column("cadence", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "on_air_changes",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("broadcast_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("at", server.model_base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["broadcast_id"],
            ["broadcasts.id"],
            name=op.f("fk_on_air_changes_broadcast_id_broadcasts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_on_air_changes")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_on_air_changes_broadcast_id"), "on_air_changes", ["broadcast_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_on_air_changes_broadcast_id"), table_name="on_air_changes")
    op.drop_table("on_air_changes")
    with op.batch_alter_table("followup_rules") as batch_op:
        batch_op.drop_column("cadence")
    with op.batch_alter_table("followup_tasks", table_kwargs={"sqlite_autoincrement": True}) as b:
        b.drop_column("items")
    with op.batch_alter_table("viewer_sessions", table_kwargs={"sqlite_autoincrement": True}) as b:
        b.drop_column("tapped_items")
