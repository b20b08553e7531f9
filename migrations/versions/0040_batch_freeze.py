"""Batch freeze: a batch being taken back (Art. 26) is shut out of the exchange first

Revision ID: 0040_batch_freeze
Revises: 0012
Create Date: 2026-12-05 02:30:00

A revocation used to take back only the credits sitting available; those a resting sell, a listing, a
proposal or an auction lot held on the exchange escaped it. The bureau now freezes the batch in a transaction
of its own before anything else: from then on no hold, transfer or retirement request takes its credits
(registry.services.holdings.plan_credits), the exchange withdraws whatever holds them, and only then are they
taken back. The mark is durable because the books are kept by writer threads, perhaps in other processes,
that read it with every hold they plan.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0040_batch_freeze"
down_revision = "0030_residents_and_points"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("batches", sa.Column("frozen_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("batches") as batch:
        batch.drop_column("frozen_at")
