"""Correction orders (责令限期改正, Art. 26), and reductions counted from 2020-09-23 (Art. 12)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 10:00:00

Art. 26 orders a participant that supplied false material to correct it within a deadline; disqualification
and taking the credits back follow only a correction that is rejected or missed (or, at once, material that
cannot be corrected because the reduction never happened). The orders get a table of their own.

Art. 12 counts reductions "after" 2020-09-22; the team reads it conservatively (Art. 28): from 2020-09-23.
The built-in rule set and the demo continuation stored by earlier versions still say 2020-09-22, so their
stored definitions are brought to the reading of the code (a successor the bureau registered is its own data
and is left alone).
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_BUILT_IN_RULE_SETS = ("JX-TRIAL-2023", "JX-DEMO-CONTINUATION")
_RULE_SETS = sa.table("rule_sets", sa.column("id", sa.Integer()), sa.column("code", sa.String()),
                      sa.column("definition", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")))


def _set_earliest(old: str, new: str) -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(_RULE_SETS.c.id, _RULE_SETS.c.definition)
                        .where(_RULE_SETS.c.code.in_(_BUILT_IN_RULE_SETS))).all()
    for row_id, definition in rows:
        data: dict[str, Any] = json.loads(definition) if isinstance(definition, str) else dict(definition)
        if data.get("earliest_reduction_date") != old:
            continue
        data["earliest_reduction_date"] = new
        bind.execute(_RULE_SETS.update().where(_RULE_SETS.c.id == row_id).values(definition=data))


def upgrade() -> None:
    op.create_table(
        "correction_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("filing_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("finding", sa.String(length=4000), nullable=False),
        sa.Column("deadline_days", sa.Integer(), nullable=False),
        sa.Column("ordered_on", sa.Date(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("ordered_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("response", sa.String(length=4000), nullable=True),
        sa.Column(
            "response_documents",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("responded_by", sa.Integer(), nullable=True),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_comment", sa.String(length=2000), nullable=True),
        sa.Column("notice", sa.String(length=4000), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revocation_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('ordered', 'responded', 'accepted', 'rejected', 'lapsed', 'superseded')",
            name=op.f("ck_correction_orders_status"),
        ),
        sa.CheckConstraint("deadline_days >= 1", name=op.f("ck_correction_orders_deadline_days")),
        sa.CheckConstraint("deadline >= ordered_on", name=op.f("ck_correction_orders_deadline")),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"], name=op.f("fk_correction_orders_batch_id_batches")),
        sa.ForeignKeyConstraint(["filing_id"], ["filings.id"], name=op.f("fk_correction_orders_filing_id_filings")),
        sa.ForeignKeyConstraint(["participant_id"], ["participants.id"],
                                name=op.f("fk_correction_orders_participant_id_participants")),
        sa.ForeignKeyConstraint(["ordered_by"], ["users.id"], name=op.f("fk_correction_orders_ordered_by_users")),
        sa.ForeignKeyConstraint(["responded_by"], ["users.id"],
                                name=op.f("fk_correction_orders_responded_by_users")),
        sa.ForeignKeyConstraint(["decided_by"], ["users.id"], name=op.f("fk_correction_orders_decided_by_users")),
        sa.ForeignKeyConstraint(["revocation_id"], ["revocations.id"],
                                name=op.f("fk_correction_orders_revocation_id_revocations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_correction_orders")),
        sa.UniqueConstraint("code", name=op.f("uq_correction_orders_code")),
    )
    with op.batch_alter_table("correction_orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_correction_orders_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_correction_orders_participant_id"), ["participant_id"], unique=False)
    _set_earliest("2020-09-22", "2020-09-23")


def downgrade() -> None:
    _set_earliest("2020-09-23", "2020-09-22")
    with op.batch_alter_table("correction_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_correction_orders_participant_id"))
        batch_op.drop_index(batch_op.f("ix_correction_orders_batch_id"))
    op.drop_table("correction_orders")
