"""Book owner epochs: ownership of an order book is fenced, not assumed

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 22:30:00

A process owns a book while it holds the book's advisory lock, but PostgreSQL can end the session holding the
lock (a network blip, a failover, pg_terminate_backend) without the process noticing at once. Each process
that takes a book increments the book's epoch here; every batch its writer commits first reads the epoch
FOR SHARE in the same transaction and fails unless it is still its own, so a stale owner can never commit.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "book_owners",
        sa.Column("instrument_id", sa.Integer(), primary_key=True),  # no foreign key: the coordinator fences any book id
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("owner", sa.String(100), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("epoch > 0", name=op.f("ck_book_owners_epoch")),
    )


def downgrade() -> None:
    op.drop_table("book_owners")
