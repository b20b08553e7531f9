"""Exchange reference data: trading admission, instruments, cash movements

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 10:46:11.237325
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "instruments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("vintage", sa.Integer(), nullable=False),
        sa.Column("methodology_field", sa.String(length=40), nullable=True),
        sa.Column(
            "config", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "methodology_field IS NULL OR methodology_field IN ('renewable_energy', 'energy_efficiency', 'transport', 'buildings', 'forestry_agriculture_sinks', 'low_carbon_products', 'waste', 'pollution_carbon_co_reduction', 'other')",
            name=op.f("ck_instruments_methodology_field"),
        ),
        sa.CheckConstraint("status IN ('active', 'halted')", name=op.f("ck_instruments_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instruments")),
        sa.UniqueConstraint("code", name=op.f("uq_instruments_code")),
        sa.UniqueConstraint("vintage", "methodology_field", name=op.f("uq_instruments_vintage")),
    )
    op.create_table(
        "cash_movements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("bank_reference", sa.String(length=64), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('deposit', 'withdrawal')", name=op.f("ck_cash_movements_kind")),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_cash_movements_amount")),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["journal_entries.id"], name=op.f("fk_cash_movements_entry_id_journal_entries")
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participants.id"], name=op.f("fk_cash_movements_participant_id_participants")
        ),
        sa.ForeignKeyConstraint(["recorded_by"], ["users.id"], name=op.f("fk_cash_movements_recorded_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cash_movements")),
        sa.UniqueConstraint("bank_reference", name=op.f("uq_cash_movements_bank_reference")),
    )
    with op.batch_alter_table("cash_movements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cash_movements_participant_id"), ["participant_id"], unique=False)

    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("trading_status", sa.String(length=20), server_default="not_admitted", nullable=False)
        )
        batch_op.create_check_constraint(
            "trading_status", "trading_status IN ('not_admitted', 'admitted', 'suspended')"
        )


def downgrade() -> None:
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_participants_trading_status"), type_="check")
        batch_op.drop_column("trading_status")

    with op.batch_alter_table("cash_movements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cash_movements_participant_id"))

    op.drop_table("cash_movements")
    op.drop_table("instruments")
