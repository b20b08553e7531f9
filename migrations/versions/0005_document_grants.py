"""Document grants: each participant that may use a stored document, under its own file name

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 11:19:43.819983
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "document_grants",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participants.id"], name=op.f("fk_document_grants_participant_id_participants")
        ),
        sa.ForeignKeyConstraint(["sha256"], ["documents.sha256"], name=op.f("fk_document_grants_sha256_documents")),
        sa.PrimaryKeyConstraint("sha256", "participant_id", name=op.f("pk_document_grants")),
    )
    # Every document already stored is usable by the participant that uploaded it.
    op.execute(
        "INSERT INTO document_grants (sha256, participant_id, filename, granted_at) "
        "SELECT sha256, uploaded_by_participant_id, filename, uploaded_at FROM documents"
    )


def downgrade() -> None:
    op.drop_table("document_grants")
