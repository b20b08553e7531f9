"""Residents' carbon accounts and green-behaviour points through reduction scenarios (issue 18)

Revision ID: 0030_residents_and_points
Revises: 0012_correction_orders
Create Date: 2026-12-05 02:00:00

A new role, resident; scenarios (a registered project of an operator with a per-behaviour formula and limits);
residents' accounts and consents; behaviour records (partitioned by month on PostgreSQL, the partitions in
their own schema `points_partitions` so that they can be detached and archived whole, and so that they are no
tables of the model); the operator's record ids; the residents' per-day and per-year totals the caps lock;
device sightings; monthly scenario filings; the points ledger (entries, postings, balances); the reward shelf.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0030_residents_and_points"
down_revision = "0014"
branch_labels = None
depends_on = None

OLD_ROLES = "role IN ('admin', 'owner', 'verifier', 'center', 'expert', 'bureau', 'operator', 'trader')"
NEW_ROLES = "role IN ('admin', 'owner', 'verifier', 'center', 'expert', 'bureau', 'operator', 'trader', 'resident')"
PARTITIONS = "points_partitions"
FIRST_MONTH, LAST_MONTH = date(2025, 1, 1), date(2027, 12, 1)

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
BIG = sa.BigInteger()
INSTANT = sa.DateTime(timezone=True)


def _months(first: date, last: date) -> list[date]:
    months, day = [], first
    while day <= last:
        months.append(day)
        day = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return months


def month_partition_sql(month: date) -> str:
    """The DDL of one month's partition of behaviour_records (Jiaxing months, bounds in +08:00)."""
    following = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return (f"CREATE TABLE IF NOT EXISTS {PARTITIONS}.behaviour_records_{month:%Y_%m} PARTITION OF "
            f"behaviour_records FOR VALUES FROM ('{month:%Y-%m-%d} 00:00:00+08') "
            f"TO ('{following:%Y-%m-%d} 00:00:00+08')")


def upgrade() -> None:
    with op.batch_alter_table("user_roles", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_user_roles_role"), type_="check")
        batch_op.create_check_constraint("role", NEW_ROLES)

    op.create_table(
        "reduction_scenarios",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("operator_participant_id", sa.Integer(), nullable=False),
        sa.Column("methodology_version_id", sa.Integer(), nullable=False),
        sa.Column("title_zh", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=False),
        sa.Column("behaviour", sa.String(length=40), nullable=False),
        sa.Column("formula", JSON, nullable=False),
        sa.Column("max_grams_per_record", BIG, nullable=False),
        sa.Column("daily_grams", BIG, nullable=False),
        sa.Column("yearly_points", BIG, nullable=False),
        sa.Column("late_days", sa.Integer(), nullable=False),
        sa.Column("points_per_kg", sa.Integer(), nullable=False),
        sa.Column("duplicate_window_s", sa.Integer(), nullable=False),
        sa.Column("max_accounts_per_device", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.CheckConstraint("status IN ('active', 'suspended')", name=op.f("ck_reduction_scenarios_status")),
        sa.CheckConstraint(
            "max_grams_per_record > 0 AND daily_grams > 0 AND yearly_points > 0 AND late_days >= 0 "
            "AND points_per_kg > 0 AND duplicate_window_s >= 0 AND max_accounts_per_device > 0",
            name=op.f("ck_reduction_scenarios_limits")),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name=op.f("fk_reduction_scenarios_project_id_projects")),
        sa.ForeignKeyConstraint(["operator_participant_id"], ["participants.id"],
                                name=op.f("fk_reduction_scenarios_operator_participant_id_participants")),
        sa.ForeignKeyConstraint(["methodology_version_id"], ["methodology_versions.id"],
                                name=op.f("fk_reduction_scenarios_methodology_version_id_methodology_versions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reduction_scenarios")),
        sa.UniqueConstraint("code", name=op.f("uq_reduction_scenarios_code")),
        sa.UniqueConstraint("project_id", name=op.f("uq_reduction_scenarios_project_id")),
    )
    op.create_index(op.f("ix_reduction_scenarios_operator_participant_id"), "reduction_scenarios",
                    ["operator_participant_id"])

    op.create_table(
        "resident_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.Column("closed_at", INSTANT, nullable=True),
        sa.CheckConstraint("status IN ('open', 'closed')", name=op.f("ck_resident_accounts_status")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_resident_accounts_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resident_accounts")),
        sa.UniqueConstraint("reference", name=op.f("uq_resident_accounts_reference")),
        sa.UniqueConstraint("user_id", name=op.f("uq_resident_accounts_user_id")),
    )

    op.create_table(
        "resident_consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("granted_at", INSTANT, nullable=False),
        sa.Column("revoked_at", INSTANT, nullable=True),
        sa.CheckConstraint("revoked_at IS NULL OR revoked_at >= granted_at", name=op.f("ck_resident_consents_period")),
        sa.ForeignKeyConstraint(["account_id"], ["resident_accounts.id"],
                                name=op.f("fk_resident_consents_account_id_resident_accounts")),
        sa.ForeignKeyConstraint(["scenario_id"], ["reduction_scenarios.id"],
                                name=op.f("fk_resident_consents_scenario_id_reduction_scenarios")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resident_consents")),
    )
    op.create_index("ix_resident_consents_account_scenario", "resident_consents", ["account_id", "scenario_id"])

    op.create_table(
        "behaviour_records",
        sa.Column("id", BIG.with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("started_at", INSTANT, nullable=False),
        sa.Column("ended_at", INSTANT, nullable=False),
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("record_ref", sa.String(length=64), nullable=False),
        sa.Column("activity", JSON, nullable=False),
        sa.Column("device_hash", sa.String(length=64), nullable=True),
        sa.Column("received_at", INSTANT, nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=True),
        sa.Column("grams", BIG, nullable=False),
        sa.Column("points", BIG, nullable=False),
        sa.CheckConstraint("outcome IN ('accepted', 'capped', 'refused', 'held')",
                           name=op.f("ck_behaviour_records_outcome")),
        sa.CheckConstraint("grams >= 0 AND points >= 0", name=op.f("ck_behaviour_records_amounts")),
        sa.PrimaryKeyConstraint("id", "started_at", name=op.f("pk_behaviour_records")),
        postgresql_partition_by="RANGE (started_at)",
    )
    op.create_index("ix_behaviour_records_account", "behaviour_records", ["account_id", "started_at"])
    op.create_index("ix_behaviour_records_scenario", "behaviour_records", ["scenario_id", "started_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE SCHEMA IF NOT EXISTS {PARTITIONS}")
        op.execute("CREATE SEQUENCE behaviour_records_id_seq OWNED BY behaviour_records.id")
        op.execute("ALTER TABLE behaviour_records ALTER COLUMN id SET DEFAULT nextval('behaviour_records_id_seq')")
        for month in _months(FIRST_MONTH, LAST_MONTH):
            op.execute(month_partition_sql(month))
        op.execute(f"CREATE TABLE {PARTITIONS}.behaviour_records_default PARTITION OF behaviour_records DEFAULT")
        # Rows are only ever inserted (a correction is a new record): refuse UPDATE and DELETE as the ledger does.
        op.execute("""
            CREATE FUNCTION behaviour_records_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'behaviour_records is append-only'; END $$""")
        op.execute("CREATE TRIGGER behaviour_records_append_only BEFORE UPDATE OR DELETE ON behaviour_records "
                   "FOR EACH ROW EXECUTE FUNCTION behaviour_records_refuse_change()")

    op.create_table(
        "behaviour_record_refs",
        sa.Column("operator_participant_id", sa.Integer(), nullable=False),
        sa.Column("record_ref", sa.String(length=64), nullable=False),
        sa.Column("record_id", BIG, nullable=False),
        sa.Column("started_at", INSTANT, nullable=False),
        sa.ForeignKeyConstraint(["operator_participant_id"], ["participants.id"],
                                name=op.f("fk_behaviour_record_refs_operator_participant_id_participants")),
        sa.PrimaryKeyConstraint("operator_participant_id", "record_ref", name=op.f("pk_behaviour_record_refs")),
    )

    op.create_table(
        "resident_totals",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("grams", BIG, nullable=False),
        sa.Column("points", BIG, nullable=False),
        sa.CheckConstraint("grams >= 0 AND points >= 0", name=op.f("ck_resident_totals_amounts")),
        sa.ForeignKeyConstraint(["account_id"], ["resident_accounts.id"],
                                name=op.f("fk_resident_totals_account_id_resident_accounts")),
        sa.ForeignKeyConstraint(["scenario_id"], ["reduction_scenarios.id"],
                                name=op.f("fk_resident_totals_scenario_id_reduction_scenarios")),
        sa.PrimaryKeyConstraint("account_id", "scenario_id", "period", name=op.f("pk_resident_totals")),
    )

    op.create_table(
        "device_sightings",
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("device_hash", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["scenario_id"], ["reduction_scenarios.id"],
                                name=op.f("fk_device_sightings_scenario_id_reduction_scenarios")),
        sa.ForeignKeyConstraint(["account_id"], ["resident_accounts.id"],
                                name=op.f("fk_device_sightings_account_id_resident_accounts")),
        sa.PrimaryKeyConstraint("scenario_id", "device_hash", "day", "account_id", name=op.f("pk_device_sightings")),
    )

    op.create_table(
        "scenario_filings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("filing_id", sa.Integer(), nullable=False),
        sa.Column("record_count", BIG, nullable=False),
        sa.Column("grams", BIG, nullable=False),
        sa.Column("records_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.CheckConstraint("grams >= 0", name=op.f("ck_scenario_filings_grams")),
        sa.ForeignKeyConstraint(["scenario_id"], ["reduction_scenarios.id"],
                                name=op.f("fk_scenario_filings_scenario_id_reduction_scenarios")),
        sa.ForeignKeyConstraint(["filing_id"], ["filings.id"], name=op.f("fk_scenario_filings_filing_id_filings")),
        sa.ForeignKeyConstraint(["records_sha256"], ["documents.sha256"],
                                name=op.f("fk_scenario_filings_records_sha256_documents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scenario_filings")),
        sa.UniqueConstraint("scenario_id", "month", name=op.f("uq_scenario_filings_scenario_id")),
        sa.UniqueConstraint("filing_id", name=op.f("uq_scenario_filings_filing_id")),
    )

    op.create_table(
        "points_entries",
        sa.Column("id", BIG.with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("memo", sa.String(length=200), nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.CheckConstraint("kind IN ('earned', 'redeemed', 'donated', 'expired')", name=op.f("ck_points_entries_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_entries")),
    )
    op.create_table(
        "points_postings",
        sa.Column("id", BIG.with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("entry_id", BIG.with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("scenario_id", sa.Integer(), nullable=True),
        sa.Column("bucket", sa.String(length=12), nullable=False),
        sa.Column("earned_year", sa.Integer(), nullable=False),
        sa.Column("amount", BIG, nullable=False),
        sa.CheckConstraint("bucket IN ('available', 'redeemed', 'donated', 'expired', 'issued')",
                           name=op.f("ck_points_postings_bucket")),
        sa.CheckConstraint("(account_id IS NULL) = (bucket = 'issued')", name=op.f("ck_points_postings_side")),
        sa.ForeignKeyConstraint(["entry_id"], ["points_entries.id"], name=op.f("fk_points_postings_entry_id_points_entries")),
        sa.ForeignKeyConstraint(["account_id"], ["resident_accounts.id"],
                                name=op.f("fk_points_postings_account_id_resident_accounts")),
        sa.ForeignKeyConstraint(["scenario_id"], ["reduction_scenarios.id"],
                                name=op.f("fk_points_postings_scenario_id_reduction_scenarios")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_postings")),
    )
    op.create_index("ix_points_postings_account", "points_postings", ["account_id"])
    op.create_index(op.f("ix_points_postings_entry_id"), "points_postings", ["entry_id"])
    op.create_table(
        "points_balances",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.String(length=12), nullable=False),
        sa.Column("earned_year", sa.Integer(), nullable=False),
        sa.Column("amount", BIG, nullable=False),
        sa.CheckConstraint("bucket IN ('available', 'redeemed', 'donated', 'expired')",
                           name=op.f("ck_points_balances_bucket")),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_points_balances_amount")),
        sa.ForeignKeyConstraint(["account_id"], ["resident_accounts.id"],
                                name=op.f("fk_points_balances_account_id_resident_accounts")),
        sa.PrimaryKeyConstraint("account_id", "bucket", "earned_year", name=op.f("pk_points_balances")),
    )
    op.create_table(
        "reward_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_participant_id", sa.Integer(), nullable=False),
        sa.Column("title_zh", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=False),
        sa.Column("points_cost", BIG, nullable=False),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.CheckConstraint("stock >= 0 AND points_cost > 0", name=op.f("ck_reward_offers_stock")),
        sa.ForeignKeyConstraint(["provider_participant_id"], ["participants.id"],
                                name=op.f("fk_reward_offers_provider_participant_id_participants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reward_offers")),
    )
    op.create_table(
        "redemptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("points", BIG, nullable=False),
        sa.Column("entry_id", BIG.with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.ForeignKeyConstraint(["offer_id"], ["reward_offers.id"], name=op.f("fk_redemptions_offer_id_reward_offers")),
        sa.ForeignKeyConstraint(["account_id"], ["resident_accounts.id"],
                                name=op.f("fk_redemptions_account_id_resident_accounts")),
        sa.ForeignKeyConstraint(["entry_id"], ["points_entries.id"], name=op.f("fk_redemptions_entry_id_points_entries")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redemptions")),
    )
    op.create_index(op.f("ix_redemptions_offer_id"), "redemptions", ["offer_id"])
    op.create_index(op.f("ix_redemptions_account_id"), "redemptions", ["account_id"])
    if op.get_bind().dialect.name == "postgresql":
        for table in ("points_entries", "points_postings"):
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION behaviour_records_refuse_change()")


def downgrade() -> None:
    for table in ("redemptions", "reward_offers", "points_balances", "points_postings", "points_entries",
                  "scenario_filings", "device_sightings", "resident_totals", "behaviour_record_refs",
                  "behaviour_records", "resident_consents", "resident_accounts", "reduction_scenarios"):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS behaviour_records_refuse_change()")
        op.execute(f"DROP SCHEMA IF EXISTS {PARTITIONS} CASCADE")
    with op.batch_alter_table("user_roles", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_user_roles_role"), type_="check")
        batch_op.create_check_constraint("role", OLD_ROLES)
