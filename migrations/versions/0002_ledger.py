"""Reductions and the ledger: filings, batches, accounts, journal, serial blocks, retirement, revocation, reports.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 10:26:46.141842
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "counters",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_counters")),
    )
    op.create_table(
        "violation_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("receipt_hash", sa.String(length=64), nullable=False),
        sa.Column("reporter_name", sa.String(length=100), nullable=False),
        sa.Column("reporter_contact", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("details", sa.String(length=8000), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("feedback", sa.String(length=4000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('received', 'investigating', 'closed')", name=op.f("ck_violation_reports_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_violation_reports")),
        sa.UniqueConstraint("receipt_hash", name=op.f("uq_violation_reports_receipt_hash")),
    )
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('issuance', 'holding', 'cash', 'fee')", name=op.f("ck_accounts_kind")),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participants.id"], name=op.f("fk_accounts_participant_id_participants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("code", name=op.f("uq_accounts_code")),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_accounts_participant_id"), ["participant_id"], unique=False)

    op.create_table(
        "balances",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("asset", sa.String(length=40), nullable=False),
        sa.Column("bucket", sa.String(length=20), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("may_go_negative", sa.Boolean(), nullable=False),
        sa.CheckConstraint("bucket IN ('available', 'held', 'retired', 'revoked')", name=op.f("ck_balances_bucket")),
        sa.CheckConstraint("amount >= 0 OR may_go_negative", name=op.f("ck_balances_non_negative")),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_balances_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", "asset", "bucket", name=op.f("pk_balances")),
    )
    op.create_table(
        "journal_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("reference", sa.String(length=80), nullable=False),
        sa.Column("memo", sa.String(length=500), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["actor_user_id"], ["users.id"], name=op.f("fk_journal_entries_actor_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_entries")),
    )
    op.create_table(
        "postings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("asset", sa.String(length=40), nullable=False),
        sa.Column("bucket", sa.String(length=20), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("bucket IN ('available', 'held', 'retired', 'revoked')", name=op.f("ck_postings_bucket")),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_postings_amount")),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_postings_account_id_accounts")),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["journal_entries.id"], name=op.f("fk_postings_entry_id_journal_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_postings")),
    )
    with op.batch_alter_table("postings", schema=None) as batch_op:
        batch_op.create_index("ix_postings_account_asset", ["account_id", "asset"], unique=False)
        batch_op.create_index("ix_postings_entry", ["entry_id"], unique=False)

    op.create_table(
        "filings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=True),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("owner_participant_id", sa.Integer(), nullable=False),
        sa.Column("methodology_version_id", sa.Integer(), nullable=False),
        sa.Column("monitoring_start", sa.Date(), nullable=False),
        sa.Column("monitoring_end", sa.Date(), nullable=False),
        sa.Column(
            "inputs", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column(
            "calculation", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("calculated_tco2e", sa.String(length=48), nullable=False),
        sa.Column("report_sha256", sa.String(length=64), nullable=False),
        sa.Column("report_preparer_participant_id", sa.Integer(), nullable=False),
        sa.Column("verifier_participant_id", sa.Integer(), nullable=True),
        sa.Column("verified_tco2e", sa.String(length=48), nullable=True),
        sa.Column("verification_statement_sha256", sa.String(length=64), nullable=True),
        sa.Column("verification_reason", sa.String(length=2000), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("application_date", sa.Date(), nullable=True),
        sa.Column("notice_start", sa.Date(), nullable=True),
        sa.Column("notice_end", sa.Date(), nullable=True),
        sa.Column("rejection_reason", sa.String(length=2000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('draft', 'commissioned', 'verified', 'submitted', 'center_approved', 'expert_review', 'expert_approved', 'public_notice', 'registered', 'rejected', 'issued')",
            name=op.f("ck_filings_status"),
        ),
        sa.CheckConstraint("monitoring_end >= monitoring_start", name=op.f("ck_filings_monitoring_period")),
        sa.ForeignKeyConstraint(
            ["methodology_version_id"],
            ["methodology_versions.id"],
            name=op.f("fk_filings_methodology_version_id_methodology_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_participant_id"], ["participants.id"], name=op.f("fk_filings_owner_participant_id_participants")
        ),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name=op.f("fk_filings_project_id_projects")),
        sa.ForeignKeyConstraint(
            ["report_preparer_participant_id"],
            ["participants.id"],
            name=op.f("fk_filings_report_preparer_participant_id_participants"),
        ),
        sa.ForeignKeyConstraint(
            ["report_sha256"], ["documents.sha256"], name=op.f("fk_filings_report_sha256_documents")
        ),
        sa.ForeignKeyConstraint(
            ["verification_statement_sha256"],
            ["documents.sha256"],
            name=op.f("fk_filings_verification_statement_sha256_documents"),
        ),
        sa.ForeignKeyConstraint(
            ["verifier_participant_id"],
            ["participants.id"],
            name=op.f("fk_filings_verifier_participant_id_participants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_filings")),
        sa.UniqueConstraint("code", name=op.f("uq_filings_code")),
    )
    with op.batch_alter_table("filings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_filings_owner_participant_id"), ["owner_participant_id"], unique=False)
        batch_op.create_index("ix_filings_project", ["project_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_filings_verifier_participant_id"), ["verifier_participant_id"], unique=False
        )

    op.create_table(
        "batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("filing_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("vintage", sa.Integer(), nullable=False),
        sa.Column("quantity_t", sa.BigInteger(), nullable=False),
        sa.Column("serial_start", sa.BigInteger(), nullable=False),
        sa.Column("serial_end", sa.BigInteger(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("quantity_t > 0", name=op.f("ck_batches_quantity")),
        sa.CheckConstraint("serial_end - serial_start + 1 = quantity_t", name=op.f("ck_batches_serial_range")),
        sa.ForeignKeyConstraint(["filing_id"], ["filings.id"], name=op.f("fk_batches_filing_id_filings")),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name=op.f("fk_batches_project_id_projects")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batches")),
        sa.UniqueConstraint("code", name=op.f("uq_batches_code")),
        sa.UniqueConstraint("filing_id", name=op.f("uq_batches_filing_id")),
        sa.UniqueConstraint("serial_end", name=op.f("uq_batches_serial_end")),
        sa.UniqueConstraint("serial_start", name=op.f("uq_batches_serial_start")),
    )
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_batches_project_id"), ["project_id"], unique=False)

    op.create_table(
        "filing_assets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filing_id", sa.Integer(), nullable=False),
        sa.Column("asset_identifier", sa.String(length=120), nullable=False),
        sa.Column("monitoring_start", sa.Date(), nullable=False),
        sa.Column("monitoring_end", sa.Date(), nullable=False),
        sa.Column("live", sa.Boolean(), nullable=False),
        sa.CheckConstraint("monitoring_end >= monitoring_start", name=op.f("ck_filing_assets_monitoring_period")),
        sa.ForeignKeyConstraint(["filing_id"], ["filings.id"], name=op.f("fk_filing_assets_filing_id_filings")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_filing_assets")),
        sa.UniqueConstraint("filing_id", "asset_identifier", name=op.f("uq_filing_assets_filing_id")),
    )
    with op.batch_alter_table("filing_assets", schema=None) as batch_op:
        batch_op.create_index("ix_filing_assets_identifier", ["asset_identifier"], unique=False)

    op.create_table(
        "filing_documents",
        sa.Column("filing_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["filing_id"], ["filings.id"], name=op.f("fk_filing_documents_filing_id_filings")),
        sa.ForeignKeyConstraint(["sha256"], ["documents.sha256"], name=op.f("fk_filing_documents_sha256_documents")),
        sa.PrimaryKeyConstraint("filing_id", "kind", "sha256", name=op.f("pk_filing_documents")),
    )
    op.create_table(
        "retirements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("quantity_t", sa.BigInteger(), nullable=False),
        sa.Column("purpose", sa.String(length=30), nullable=False),
        sa.Column("beneficiary", sa.String(length=200), nullable=False),
        sa.Column(
            "details", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("executed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("executed_by", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "purpose IN ('event_neutrality', 'pilot_unit', 'ecological_restoration', 'voluntary')",
            name=op.f("ck_retirements_purpose"),
        ),
        sa.CheckConstraint("status IN ('requested', 'executed', 'cancelled')", name=op.f("ck_retirements_status")),
        sa.CheckConstraint("quantity_t > 0", name=op.f("ck_retirements_quantity")),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_retirements_account_id_accounts")),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"], name=op.f("fk_retirements_batch_id_batches")),
        sa.ForeignKeyConstraint(["executed_by"], ["users.id"], name=op.f("fk_retirements_executed_by_users")),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participants.id"], name=op.f("fk_retirements_participant_id_participants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retirements")),
        sa.UniqueConstraint("code", name=op.f("uq_retirements_code")),
    )
    with op.batch_alter_table("retirements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_retirements_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_retirements_participant_id"), ["participant_id"], unique=False)

    op.create_table(
        "revocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("quantity_t", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=2000), nullable=False),
        sa.Column("notice", sa.String(length=4000), nullable=False),
        sa.Column("revoked_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("quantity_t >= 0", name=op.f("ck_revocations_quantity")),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"], name=op.f("fk_revocations_batch_id_batches")),
        sa.ForeignKeyConstraint(["revoked_by"], ["users.id"], name=op.f("fk_revocations_revoked_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revocations")),
    )
    with op.batch_alter_table("revocations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_revocations_batch_id"), ["batch_id"], unique=False)

    op.create_table(
        "serial_blocks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("serial_start", sa.BigInteger(), nullable=False),
        sa.Column("serial_end", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.String(length=20), nullable=False),
        sa.Column("live", sa.Boolean(), nullable=False),
        sa.Column("created_entry_id", sa.Integer(), nullable=False),
        sa.Column("ended_entry_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "bucket IN ('available', 'held', 'retired', 'revoked')", name=op.f("ck_serial_blocks_bucket")
        ),
        sa.CheckConstraint("serial_end >= serial_start", name=op.f("ck_serial_blocks_range")),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_serial_blocks_account_id_accounts")),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"], name=op.f("fk_serial_blocks_batch_id_batches")),
        sa.ForeignKeyConstraint(
            ["created_entry_id"], ["journal_entries.id"], name=op.f("fk_serial_blocks_created_entry_id_journal_entries")
        ),
        sa.ForeignKeyConstraint(
            ["ended_entry_id"], ["journal_entries.id"], name=op.f("fk_serial_blocks_ended_entry_id_journal_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_serial_blocks")),
    )
    with op.batch_alter_table("serial_blocks", schema=None) as batch_op:
        batch_op.create_index("ix_serial_blocks_holder", ["account_id", "batch_id", "bucket", "live"], unique=False)
        batch_op.create_index("ix_serial_blocks_start", ["serial_start"], unique=False)

    op.create_table(
        "retirement_blocks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("retirement_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("serial_start", sa.BigInteger(), nullable=False),
        sa.Column("serial_end", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"], name=op.f("fk_retirement_blocks_batch_id_batches")),
        sa.ForeignKeyConstraint(
            ["retirement_id"], ["retirements.id"], name=op.f("fk_retirement_blocks_retirement_id_retirements")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retirement_blocks")),
    )
    with op.batch_alter_table("retirement_blocks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_retirement_blocks_retirement_id"), ["retirement_id"], unique=False)

    _guards(postgres)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS serial_blocks_guard ON serial_blocks")
        op.execute("DROP FUNCTION IF EXISTS guard_serial_block()")
    with op.batch_alter_table("retirement_blocks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_retirement_blocks_retirement_id"))

    op.drop_table("retirement_blocks")
    with op.batch_alter_table("serial_blocks", schema=None) as batch_op:
        batch_op.drop_index("ix_serial_blocks_start")
        batch_op.drop_index("ix_serial_blocks_holder")

    op.drop_table("serial_blocks")
    with op.batch_alter_table("revocations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_revocations_batch_id"))

    op.drop_table("revocations")
    with op.batch_alter_table("retirements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_retirements_participant_id"))
        batch_op.drop_index(batch_op.f("ix_retirements_account_id"))

    op.drop_table("retirements")
    op.drop_table("filing_documents")
    with op.batch_alter_table("filing_assets", schema=None) as batch_op:
        batch_op.drop_index("ix_filing_assets_identifier")

    op.drop_table("filing_assets")
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_batches_project_id"))

    op.drop_table("batches")
    with op.batch_alter_table("filings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_filings_verifier_participant_id"))
        batch_op.drop_index("ix_filings_project")
        batch_op.drop_index(batch_op.f("ix_filings_owner_participant_id"))

    op.drop_table("filings")
    with op.batch_alter_table("postings", schema=None) as batch_op:
        batch_op.drop_index("ix_postings_entry")
        batch_op.drop_index("ix_postings_account_asset")

    op.drop_table("postings")
    op.drop_table("journal_entries")
    op.drop_table("balances")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accounts_participant_id"))

    op.drop_table("accounts")
    op.drop_table("violation_reports")
    op.drop_table("counters")


def _guards(postgres: bool) -> None:
    """What must never happen in the ledger, enforced by the database itself."""
    if postgres:
        # No serial number in two live blocks: the heart of "no double counting" for issued credits.
        op.execute(
            "ALTER TABLE serial_blocks ADD CONSTRAINT ex_serial_blocks_no_overlap "
            "EXCLUDE USING gist (int8range(serial_start, serial_end, '[]') WITH &&) WHERE (live)"
        )
        # Art. 13(3): no two live filings claim the same asset for overlapping monitoring periods.
        op.execute(
            "ALTER TABLE filing_assets ADD CONSTRAINT ex_filing_assets_no_double_counting "
            "EXCLUDE USING gist (asset_identifier WITH =, "
            "daterange(monitoring_start, monitoring_end, '[]') WITH &&) WHERE (live)"
        )
        for table in ("journal_entries", "postings"):
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION refuse_audit_change()"
            )
        op.execute(
            """
            CREATE FUNCTION guard_serial_block() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'DELETE' THEN
                    RAISE EXCEPTION 'serial_blocks are never deleted' USING ERRCODE = 'check_violation';
                END IF;
                IF OLD.bucket IN ('retired', 'revoked') THEN
                    RAISE EXCEPTION 'a % serial block never moves again', OLD.bucket
                        USING ERRCODE = 'check_violation';
                END IF;
                IF NOT OLD.live OR NEW.live OR NEW.ended_entry_id IS NULL
                   OR (NEW.batch_id, NEW.serial_start, NEW.serial_end, NEW.account_id, NEW.bucket)
                      IS DISTINCT FROM (OLD.batch_id, OLD.serial_start, OLD.serial_end, OLD.account_id, OLD.bucket)
                THEN
                    RAISE EXCEPTION 'a serial block may only be ended, once' USING ERRCODE = 'check_violation';
                END IF;
                RETURN NEW;
            END
            $$
            """
        )
        op.execute(
            "CREATE TRIGGER serial_blocks_guard BEFORE UPDATE OR DELETE ON serial_blocks "
            "FOR EACH ROW EXECUTE FUNCTION guard_serial_block()"
        )
    else:
        for table in ("journal_entries", "postings"):
            for event in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only ({event} refused)'); END"
                )
        op.execute(
            "CREATE TRIGGER serial_blocks_no_delete BEFORE DELETE ON serial_blocks "
            "BEGIN SELECT RAISE(ABORT, 'serial_blocks are never deleted'); END"
        )
        op.execute(
            "CREATE TRIGGER serial_blocks_terminal BEFORE UPDATE ON serial_blocks "
            "WHEN OLD.bucket IN ('retired', 'revoked') "
            "BEGIN SELECT RAISE(ABORT, 'a retired or revoked serial block never moves again'); END"
        )
        op.execute(
            "CREATE TRIGGER serial_blocks_end_once BEFORE UPDATE ON serial_blocks "
            "WHEN NOT OLD.live OR NEW.live OR NEW.ended_entry_id IS NULL "
            "OR NEW.batch_id IS NOT OLD.batch_id OR NEW.serial_start IS NOT OLD.serial_start "
            "OR NEW.serial_end IS NOT OLD.serial_end OR NEW.account_id IS NOT OLD.account_id "
            "OR NEW.bucket IS NOT OLD.bucket "
            "BEGIN SELECT RAISE(ABORT, 'a serial block may only be ended, once'); END"
        )
