"""Resale lock: the business date from which credits bought on the exchange may be sold again

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 11:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (no batch copy): on SQLite a batch copy would drop the table's guard triggers.
    op.add_column("serial_blocks", sa.Column("sellable_from", sa.Date(), nullable=True))


def downgrade() -> None:
    op.drop_column("serial_blocks", "sellable_from")
