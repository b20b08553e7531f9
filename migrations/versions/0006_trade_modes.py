"""Trade modes: an order row is a book order, a listing or pick, or a proposal or acceptance

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 11:38:49.804952
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=12), server_default="order", nullable=False))
        batch_op.add_column(
            sa.Column("parent_order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True)
        )
        batch_op.add_column(sa.Column("counterparty_participant_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("min_pick_t", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("batch_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "allowed_counterparties",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )
        batch_op.create_index(
            batch_op.f("ix_orders_counterparty_participant_id"), ["counterparty_participant_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_orders_parent_order_id"), ["parent_order_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_orders_counterparty_participant_id_participants"),
            "participants",
            ["counterparty_participant_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_orders_parent_order_id_orders"), "orders", ["parent_order_id"], ["id"]
        )
        batch_op.create_foreign_key(batch_op.f("fk_orders_batch_id_batches"), "batches", ["batch_id"], ["id"])
        batch_op.create_check_constraint(
            "kind", "kind IN ('order', 'listing', 'pick', 'proposal', 'acceptance', 'auction', 'bid')"
        )


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_orders_kind"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_orders_batch_id_batches"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_orders_parent_order_id_orders"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_orders_counterparty_participant_id_participants"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_orders_parent_order_id"))
        batch_op.drop_index(batch_op.f("ix_orders_counterparty_participant_id"))
        batch_op.drop_column("allowed_counterparties")
        batch_op.drop_column("batch_id")
        batch_op.drop_column("min_pick_t")
        batch_op.drop_column("counterparty_participant_id")
        batch_op.drop_column("parent_order_id")
        batch_op.drop_column("kind")
