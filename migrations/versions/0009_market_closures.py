"""Market closures the operator records: a year's public holidays when the State Council's notice comes out

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 19:20:00

The holidays shipped with the code (registry/market_closures.csv) covered the years known when it was
written; the notice for the next year comes out each November, and the market must not wait for a release
to close on those days.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "market_closures",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("name_zh", sa.String(100), nullable=False),
        sa.Column("name_en", sa.String(100), nullable=False),
        sa.Column("source", sa.String(300), nullable=False),
        sa.Column("recorded_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("market_closures")
