"""foundation

Revision ID: 0001
Revises:
Create Date: 2026-11-23 09:57:02.786224
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table(
        "audit_entries",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False
        ),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("subject_type", sa.String(length=40), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_entries")),
        sa.UniqueConstraint("entry_hash", name=op.f("uq_audit_entries_entry_hash")),
        sa.UniqueConstraint("prev_hash", name=op.f("uq_audit_entries_prev_hash")),
    )
    op.create_table(
        "external_registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mechanism", sa.String(length=20), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("asset_identifier", sa.String(length=120), nullable=True),
        sa.Column("credit_code", sa.String(length=18), nullable=True),
        sa.Column("project_name", sa.String(length=300), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_external_registrations")),
        sa.UniqueConstraint("mechanism", "external_id", name=op.f("uq_external_registrations_mechanism")),
    )
    with op.batch_alter_table("external_registrations", schema=None) as batch_op:
        batch_op.create_index("ix_external_registrations_asset", ["asset_identifier"], unique=False)
        batch_op.create_index("ix_external_registrations_credit_code", ["credit_code"], unique=False)

    op.create_table(
        "parameters",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("unit", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_parameters")),
    )
    op.create_table(
        "participants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('enterprise', 'institution', 'agency', 'association', 'individual')",
            name=op.f("ck_participants_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('active', 'suspended', 'disqualified')", name=op.f("ck_participants_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participants")),
        sa.UniqueConstraint("credit_code", name=op.f("uq_participants_credit_code")),
    )
    op.create_table(
        "documents",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("uploaded_by_participant_id", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("size_bytes > 0", name=op.f("ck_documents_size")),
        sa.ForeignKeyConstraint(
            ["uploaded_by_participant_id"],
            ["participants.id"],
            name=op.f("fk_documents_uploaded_by_participant_id_participants"),
        ),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_documents")),
    )
    op.create_table(
        "methodologies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("title_zh", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("proposer_participant_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "field IN ('renewable_energy', 'energy_efficiency', 'transport', 'buildings', 'forestry_agriculture_sinks', 'low_carbon_products', 'waste', 'pollution_carbon_co_reduction', 'other')",
            name=op.f("ck_methodologies_field"),
        ),
        sa.ForeignKeyConstraint(
            ["proposer_participant_id"],
            ["participants.id"],
            name=op.f("fk_methodologies_proposer_participant_id_participants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_methodologies")),
        sa.UniqueConstraint("code", name=op.f("uq_methodologies_code")),
    )
    with op.batch_alter_table("methodologies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_methodologies_proposer_participant_id"), ["proposer_participant_id"], unique=False
        )

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participants.id"], name=op.f("fk_users_participant_id_participants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_participant_id"), ["participant_id"], unique=False)

    op.create_table(
        "methodology_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("methodology_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column(
            "definition",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("submitted_by", sa.Integer(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notice_start", sa.Date(), nullable=True),
        sa.Column("notice_end", sa.Date(), nullable=True),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rejection_reason", sa.String(length=2000), nullable=True),
        sa.CheckConstraint(
            "status IN ('submitted', 'center_approved', 'expert_review', 'expert_approved', 'public_notice', 'registered', 'rejected', 'issued')",
            name=op.f("ck_methodology_versions_status"),
        ),
        sa.ForeignKeyConstraint(
            ["methodology_id"],
            ["methodologies.id"],
            name=op.f("fk_methodology_versions_methodology_id_methodologies"),
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by"], ["users.id"], name=op.f("fk_methodology_versions_submitted_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_methodology_versions")),
        sa.UniqueConstraint("methodology_id", "version", name=op.f("uq_methodology_versions_methodology_id")),
    )
    op.create_table(
        "objections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_type", sa.String(length=40), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("objector_name", sa.String(length=100), nullable=False),
        sa.Column("objector_contact", sa.String(length=200), nullable=False),
        sa.Column("text", sa.String(length=4000), nullable=False),
        sa.Column("lodged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("ruling", sa.String(length=2000), nullable=True),
        sa.Column("ruled_by", sa.Integer(), nullable=True),
        sa.Column("ruled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('open', 'upheld', 'dismissed')", name=op.f("ck_objections_status")),
        sa.ForeignKeyConstraint(["ruled_by"], ["users.id"], name=op.f("fk_objections_ruled_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_objections")),
    )
    with op.batch_alter_table("objections", schema=None) as batch_op:
        batch_op.create_index("ix_objections_subject", ["subject_type", "subject_id"], unique=False)

    op.create_table(
        "parameter_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parameter_code", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("value", sa.String(length=48), nullable=False),
        sa.Column("source", sa.String(length=1000), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_to", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("notice_end", sa.Date(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('public_notice', 'published', 'rejected')", name=op.f("ck_parameter_versions_status")
        ),
        sa.CheckConstraint(
            "effective_to IS NULL OR effective_to >= effective_from",
            name=op.f("ck_parameter_versions_period"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_parameter_versions_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["parameter_code"],
            ["parameters.code"],
            name=op.f("fk_parameter_versions_parameter_code_parameters"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parameter_versions")),
        sa.UniqueConstraint("parameter_code", "version", name=op.f("uq_parameter_versions_parameter_code")),
    )
    op.create_table(
        "review_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_type", sa.String(length=40), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=False),
        sa.Column("to_state", sa.String(length=20), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=False),
        sa.Column("actor_role", sa.String(length=20), nullable=False),
        sa.Column("comment", sa.String(length=2000), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_user_id"], ["users.id"], name=op.f("fk_review_actions_actor_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_actions")),
    )
    with op.batch_alter_table("review_actions", schema=None) as batch_op:
        batch_op.create_index("ix_review_actions_subject", ["subject_type", "subject_id"], unique=False)

    op.create_table(
        "rule_sets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_to", sa.Date(), nullable=True),
        sa.Column(
            "definition",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("registered_by", sa.Integer(), nullable=True),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "effective_to IS NULL OR effective_to >= effective_from", name=op.f("ck_rule_sets_period")
        ),
        sa.ForeignKeyConstraint(
            ["registered_by"], ["users.id"], name=op.f("fk_rule_sets_registered_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_sets")),
        sa.UniqueConstraint("code", name=op.f("uq_rule_sets_code")),
    )
    op.create_table(
        "user_roles",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.CheckConstraint(
            "role IN ('admin', 'owner', 'verifier', 'center', 'expert', 'bureau', 'operator', 'trader')",
            name=op.f("ck_user_roles_role"),
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_user_roles_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", "role", name=op.f("pk_user_roles")),
    )
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=True),
        sa.Column("owner_participant_id", sa.Integer(), nullable=False),
        sa.Column("methodology_version_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=4000), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("industry_code", sa.String(length=4), nullable=False),
        sa.Column("owner_kind", sa.String(length=20), nullable=False),
        sa.Column("crediting_start", sa.Date(), nullable=False),
        sa.Column("crediting_end", sa.Date(), nullable=False),
        sa.Column("legal_reduction_obligation", sa.Boolean(), nullable=False),
        sa.Column(
            "declared_other_mechanisms",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("rule_set_code", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "owner_kind IN ('individual', 'household', 'community', 'micro', 'small', 'medium', 'large', 'institution')",
            name=op.f("ck_projects_owner_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'registered', 'suspended', 'revoked')", name=op.f("ck_projects_status")
        ),
        sa.CheckConstraint("crediting_end >= crediting_start", name=op.f("ck_projects_crediting_period")),
        sa.ForeignKeyConstraint(
            ["methodology_version_id"],
            ["methodology_versions.id"],
            name=op.f("fk_projects_methodology_version_id_methodology_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_participant_id"],
            ["participants.id"],
            name=op.f("fk_projects_owner_participant_id_participants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
        sa.UniqueConstraint("code", name=op.f("uq_projects_code")),
    )
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_projects_owner_participant_id"), ["owner_participant_id"], unique=False
        )

    op.create_table(
        "project_assets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("asset_identifier", sa.String(length=120), nullable=False),
        sa.Column("crediting_start", sa.Date(), nullable=False),
        sa.Column("crediting_end", sa.Date(), nullable=False),
        sa.Column("live", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "crediting_end >= crediting_start", name=op.f("ck_project_assets_crediting_period")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_project_assets_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_assets")),
        sa.UniqueConstraint("project_id", "asset_identifier", name=op.f("uq_project_assets_project_id")),
    )
    with op.batch_alter_table("project_assets", schema=None) as batch_op:
        batch_op.create_index("ix_project_assets_identifier", ["asset_identifier"], unique=False)

    op.create_table(
        "project_documents",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_project_documents_project_id_projects")
        ),
        sa.ForeignKeyConstraint(
            ["sha256"], ["documents.sha256"], name=op.f("fk_project_documents_sha256_documents")
        ),
        sa.PrimaryKeyConstraint("project_id", "sha256", name=op.f("pk_project_documents")),
    )

    if postgres:
        _postgres_guards()
    else:
        # SQLite: the same append-only guard on the audit log (SQLite has no TRUNCATE).
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_entries_no_{event.lower()} BEFORE {event} ON audit_entries "
                f"BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only ({event} refused)'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_truncate ON audit_entries")
        op.execute("DROP TRIGGER IF EXISTS audit_entries_append_only ON audit_entries")
        op.execute("DROP FUNCTION IF EXISTS refuse_audit_change()")
    op.drop_table("project_documents")
    with op.batch_alter_table("project_assets", schema=None) as batch_op:
        batch_op.drop_index("ix_project_assets_identifier")

    op.drop_table("project_assets")
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_projects_owner_participant_id"))

    op.drop_table("projects")
    op.drop_table("user_roles")
    op.drop_table("rule_sets")
    with op.batch_alter_table("review_actions", schema=None) as batch_op:
        batch_op.drop_index("ix_review_actions_subject")

    op.drop_table("review_actions")
    op.drop_table("parameter_versions")
    with op.batch_alter_table("objections", schema=None) as batch_op:
        batch_op.drop_index("ix_objections_subject")

    op.drop_table("objections")
    op.drop_table("methodology_versions")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_participant_id"))

    op.drop_table("users")
    with op.batch_alter_table("methodologies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_methodologies_proposer_participant_id"))

    op.drop_table("methodologies")
    op.drop_table("documents")
    op.drop_table("participants")
    op.drop_table("parameters")
    with op.batch_alter_table("external_registrations", schema=None) as batch_op:
        batch_op.drop_index("ix_external_registrations_credit_code")
        batch_op.drop_index("ix_external_registrations_asset")

    op.drop_table("external_registrations")
    op.drop_table("audit_entries")


def _postgres_guards() -> None:
    """What must never happen, enforced by PostgreSQL itself."""
    # Art. 13(3): the same asset identifier may not sit in two live projects with overlapping crediting
    # periods. The service checks first and explains; this catches a race between two registrations.
    op.execute(
        """
        ALTER TABLE project_assets ADD CONSTRAINT ex_project_assets_no_double_counting
        EXCLUDE USING gist (
            asset_identifier WITH =,
            daterange(crediting_start, crediting_end, '[]') WITH &&
        ) WHERE (live)
        """
    )
    # The audit log is append-only: no UPDATE, DELETE or TRUNCATE, ever.
    op.execute(
        """
        CREATE FUNCTION refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_entries is append-only (% refused)', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries "
        "FOR EACH ROW EXECUTE FUNCTION refuse_audit_change()"
    )
    op.execute(
        "CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries "
        "FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change()"
    )
