"""Usable serial blocks: an index that finds a holder's live blocks free of the resale lock on a day

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 14:40:00

A seller's blocks are read without those still under the resale lock, and a trader who buys often holds
hundreds of small blocks bought that day: the old (account, batch, bucket, live) index made the database
read all of them and filter. The new index is partial (live blocks only, which is all that is ever looked up
by holder) and keys on the day a block becomes sellable, with no lock counted as the earliest day (an `IS
NULL OR <=` condition cannot be an index range, a coalesce can).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_serial_blocks_holder", table_name="serial_blocks")
    op.create_index("ix_serial_blocks_holding", "serial_blocks",
                    ["account_id", "bucket", "batch_id", sa.text("coalesce(sellable_from, '0001-01-01')")],
                    postgresql_where=sa.text("live"), sqlite_where=sa.text("live"))


def downgrade() -> None:
    op.drop_index("ix_serial_blocks_holding", table_name="serial_blocks")
    op.create_index("ix_serial_blocks_holder", "serial_blocks", ["account_id", "batch_id", "bucket", "live"])
