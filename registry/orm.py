"""Table mappings (SQLAlchemy 2, typed). The schema itself is made only by the Alembic migrations;
a test compares the two so they never drift apart."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ROLES = ("admin", "owner", "verifier", "center", "expert", "bureau", "operator", "trader", "resident")
PARTICIPANT_KINDS = ("enterprise", "institution", "agency", "association", "individual")
PARTICIPANT_STATUSES = ("active", "suspended", "disqualified")
TRADING_STATUSES = ("not_admitted", "admitted", "suspended")

JSONType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no zone, so it is restored on the way out)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: the registry stores UTC instants only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class DecimalText(TypeDecorator[Decimal]):
    """Exact decimals stored as text, so no backend ever turns an emission factor into a float."""

    impl = String(48)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError("DecimalText takes Decimal only (never float)")
        return format(value, "f")

    def process_result_value(self, value: str | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(), dict[str, Any]: JSONType, Decimal: DecimalText()
    }


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Participant(Base):
    """An organisation or individual known to the registry; users act on its behalf."""

    __tablename__ = "participants"
    __table_args__ = (
        CheckConstraint(_in("kind", PARTICIPANT_KINDS), name="kind"),
        CheckConstraint(_in("status", PARTICIPANT_STATUSES), name="status"),
        CheckConstraint(_in("trading_status", TRADING_STATUSES), name="trading_status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="active")
    # Admission to the trading platform (Art. 19) by the operations center, apart from registry status.
    trading_status: Mapped[str] = mapped_column(String(20), default="not_admitted", server_default="not_admitted")
    created_at: Mapped[datetime]


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class UserRole(Base):
    __tablename__ = "user_roles"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)


class RuleSetRecord(Base):
    """A registered rule set (the Jiaxing trial measures, or a successor the bureau registers as data)."""

    __tablename__ = "rule_sets"
    __table_args__ = (CheckConstraint("effective_to IS NULL OR effective_to >= effective_from", name="period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    definition: Mapped[dict[str, Any]]
    registered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    registered_at: Mapped[datetime]


class Parameter(Base):
    """A key parameter (an emission factor and the like) whose values are versioned (Art. 11)."""

    __tablename__ = "parameters"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime]


PARAMETER_VERSION_STATUSES = ("public_notice", "published", "rejected")


class ParameterVersion(Base):
    """One value of a parameter with its source and effective period; a new value is a new row."""

    __tablename__ = "parameter_versions"
    __table_args__ = (
        UniqueConstraint("parameter_code", "version"),
        CheckConstraint(_in("status", PARAMETER_VERSION_STATUSES), name="status"),
        CheckConstraint("effective_to IS NULL OR effective_to >= effective_from", name="period"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parameter_code: Mapped[str] = mapped_column(ForeignKey("parameters.code"))
    version: Mapped[int] = mapped_column(Integer)
    value: Mapped[Decimal]
    source: Mapped[str] = mapped_column(String(1000))
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))
    notice_end: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


METHODOLOGY_FIELDS = (
    "renewable_energy",
    "energy_efficiency",
    "transport",
    "buildings",
    "forestry_agriculture_sinks",
    "low_carbon_products",
    "waste",
    "pollution_carbon_co_reduction",
    "other",
)


class Methodology(Base):
    __tablename__ = "methodologies"
    __table_args__ = (CheckConstraint(_in("field", METHODOLOGY_FIELDS), name="field"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    field: Mapped[str] = mapped_column(String(40))
    proposer_participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    created_at: Mapped[datetime]


REVIEW_STATES = (
    "submitted",
    "center_approved",
    "expert_review",
    "expert_approved",
    "public_notice",
    "registered",
    "rejected",
    "issued",
)


class MethodologyVersion(Base):
    """One version of a methodology: its executable calculation and its place in the Art. 10 review."""

    __tablename__ = "methodology_versions"
    __table_args__ = (
        UniqueConstraint("methodology_id", "version"),
        CheckConstraint(_in("status", REVIEW_STATES), name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    methodology_id: Mapped[int] = mapped_column(ForeignKey("methodologies.id"))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    definition: Mapped[dict[str, Any]]
    submitted_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime]
    notice_start: Mapped[date | None] = mapped_column(Date)
    notice_end: Mapped[date | None] = mapped_column(Date)
    registered_at: Mapped[datetime | None]
    rejection_reason: Mapped[str | None] = mapped_column(String(2000))


class ReviewAction(Base):
    """Append-only history of every review step (who, which role, what, from which state to which)."""

    __tablename__ = "review_actions"
    __table_args__ = (Index("ix_review_actions_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    actor_role: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str] = mapped_column(String(2000), default="")
    at: Mapped[datetime]


OBJECTION_STATUSES = ("open", "upheld", "dismissed")


class Objection(Base):
    """An objection the public lodged during a public notice (公示); the bureau rules on it."""

    __tablename__ = "objections"
    __table_args__ = (
        CheckConstraint(_in("status", OBJECTION_STATUSES), name="status"),
        Index("ix_objections_subject", "subject_type", "subject_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int] = mapped_column(Integer)
    objector_name: Mapped[str] = mapped_column(String(100))
    objector_contact: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(String(4000))
    lodged_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="open")
    ruling: Mapped[str | None] = mapped_column(String(2000))
    ruled_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ruled_at: Mapped[datetime | None]


class Document(Base):
    """Evidence in content-addressed storage: the database keeps the SHA-256 digest, the bytes live on disk."""

    __tablename__ = "documents"
    __table_args__ = (CheckConstraint("size_bytes > 0", name="size"),)

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(255))
    uploaded_by_participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"))
    uploaded_at: Mapped[datetime]


PROJECT_STATUSES = ("draft", "registered", "suspended", "revoked")
OWNER_KINDS = ("individual", "household", "community", "micro", "small", "medium", "large", "institution")


class Project(Base):
    """A carbon-inclusive project (碳普惠项目) of one owner under one methodology version."""

    __tablename__ = "projects"
    __table_args__ = (
        CheckConstraint(_in("status", PROJECT_STATUSES), name="status"),
        CheckConstraint(_in("owner_kind", OWNER_KINDS), name="owner_kind"),
        CheckConstraint("crediting_end >= crediting_start", name="crediting_period"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str | None] = mapped_column(String(40), unique=True)
    owner_participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    methodology_version_id: Mapped[int] = mapped_column(ForeignKey("methodology_versions.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(4000), default="")
    county_code: Mapped[str] = mapped_column(String(6))
    address: Mapped[str] = mapped_column(String(300), default="")
    industry_code: Mapped[str] = mapped_column(String(4))
    owner_kind: Mapped[str] = mapped_column(String(20))
    crediting_start: Mapped[date] = mapped_column(Date)
    crediting_end: Mapped[date] = mapped_column(Date)
    legal_reduction_obligation: Mapped[bool] = mapped_column(Boolean)
    declared_other_mechanisms: Mapped[list[str]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(20))
    rule_set_code: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime]
    registered_at: Mapped[datetime | None]


class ProjectAsset(Base):
    """An asset identifier (meter, plate, parcel, address) of a project. On PostgreSQL an exclusion
    constraint (migration 0001) refuses the same identifier in two live projects with overlapping
    crediting periods, so a race between two registrations cannot double count (Art. 13(3))."""

    __tablename__ = "project_assets"
    __table_args__ = (
        UniqueConstraint("project_id", "asset_identifier"),
        CheckConstraint("crediting_end >= crediting_start", name="crediting_period"),
        Index("ix_project_assets_identifier", "asset_identifier"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    asset_identifier: Mapped[str] = mapped_column(String(120))
    crediting_start: Mapped[date] = mapped_column(Date)
    crediting_end: Mapped[date] = mapped_column(Date)
    live: Mapped[bool] = mapped_column(Boolean)


class ProjectDocument(Base):
    __tablename__ = "project_documents"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), primary_key=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("documents.sha256"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))


class ExternalRegistration(Base):
    """A project registered in another mechanism (CCER, CDM, VCS, GS, another region's scheme), imported
    from a CSV list so uniqueness (Art. 13(3)) can be checked by asset identifier and credit code."""

    __tablename__ = "external_registrations"
    __table_args__ = (
        UniqueConstraint("mechanism", "external_id"),
        Index("ix_external_registrations_asset", "asset_identifier"),
        Index("ix_external_registrations_credit_code", "credit_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mechanism: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(100))
    asset_identifier: Mapped[str | None] = mapped_column(String(120))
    credit_code: Mapped[str | None] = mapped_column(String(18))
    project_name: Mapped[str] = mapped_column(String(300), default="")
    imported_at: Mapped[datetime]


class AuditEntry(Base):
    """The hash-chained audit log. Each entry holds the previous entry's hash and its own; the unique
    prev_hash forbids a fork, and on PostgreSQL a trigger refuses UPDATE and DELETE."""

    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                     autoincrement=False)
    occurred_at: Mapped[datetime]
    actor_user_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(60))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)


# ---------------------------------------------------------------------------------------------------------
# Reductions: filing, verification, issuance (Art. 14–17)

FILING_STATUSES = ("draft", "commissioned", "verified", *REVIEW_STATES)


class Filing(Base):
    """A filing of one monitoring period's reductions (备案申请) for a registered project."""

    __tablename__ = "filings"
    __table_args__ = (
        CheckConstraint(_in("status", FILING_STATUSES), name="status"),
        CheckConstraint("monitoring_end >= monitoring_start", name="monitoring_period"),
        Index("ix_filings_project", "project_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str | None] = mapped_column(String(40), unique=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    owner_participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    methodology_version_id: Mapped[int] = mapped_column(ForeignKey("methodology_versions.id"))
    monitoring_start: Mapped[date] = mapped_column(Date)
    monitoring_end: Mapped[date] = mapped_column(Date)
    inputs: Mapped[dict[str, Any]]
    calculation: Mapped[dict[str, Any]]
    calculated_tco2e: Mapped[Decimal]
    report_sha256: Mapped[str] = mapped_column(ForeignKey("documents.sha256"))
    report_preparer_participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"))
    verifier_participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id"), index=True)
    verified_tco2e: Mapped[Decimal | None]
    verification_statement_sha256: Mapped[str | None] = mapped_column(ForeignKey("documents.sha256"))
    verification_reason: Mapped[str | None] = mapped_column(String(2000))
    verified_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20))
    application_date: Mapped[date | None] = mapped_column(Date)
    notice_start: Mapped[date | None] = mapped_column(Date)
    notice_end: Mapped[date | None] = mapped_column(Date)
    rejection_reason: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    issued_at: Mapped[datetime | None]


class FilingDocument(Base):
    __tablename__ = "filing_documents"

    filing_id: Mapped[int] = mapped_column(ForeignKey("filings.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("documents.sha256"), primary_key=True)


class FilingAsset(Base):
    """The asset identifiers a filing claims for its monitoring period. Live from application until a
    rejection; on PostgreSQL an exclusion constraint (migration 0002) refuses two live claims on the same
    asset for overlapping periods — no double counting (Art. 13(3))."""

    __tablename__ = "filing_assets"
    __table_args__ = (
        UniqueConstraint("filing_id", "asset_identifier"),
        CheckConstraint("monitoring_end >= monitoring_start", name="monitoring_period"),
        Index("ix_filing_assets_identifier", "asset_identifier"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    filing_id: Mapped[int] = mapped_column(ForeignKey("filings.id"))
    asset_identifier: Mapped[str] = mapped_column(String(120))
    monitoring_start: Mapped[date] = mapped_column(Date)
    monitoring_end: Mapped[date] = mapped_column(Date)
    live: Mapped[bool] = mapped_column(Boolean)


class Counter(Base):
    """Registry-wide counters (the next serial number) taken under a row lock."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class Batch(Base):
    """An issuance batch (签发批次): one filing's certified reductions, owning one contiguous serial block."""

    __tablename__ = "batches"
    __table_args__ = (
        CheckConstraint("quantity_t > 0", name="quantity"),
        CheckConstraint("serial_end - serial_start + 1 = quantity_t", name="serial_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    filing_id: Mapped[int] = mapped_column(ForeignKey("filings.id"), unique=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    vintage: Mapped[int] = mapped_column(Integer)
    quantity_t: Mapped[int] = mapped_column(BigInteger)
    serial_start: Mapped[int] = mapped_column(BigInteger, unique=True)
    serial_end: Mapped[int] = mapped_column(BigInteger, unique=True)
    issued_at: Mapped[datetime]
    # Set when the bureau starts taking the batch back (Art. 26): no hold, transfer or retirement request takes
    # its credits from then on (registry.services.revocations.freeze_batch).
    frozen_at: Mapped[datetime | None] = mapped_column(default=None)


# ---------------------------------------------------------------------------------------------------------
# The double-entry ledger

ACCOUNT_KINDS = ("issuance", "holding", "cash", "fee")
BUCKETS = ("available", "held", "retired", "revoked")


class Account(Base):
    """A ledger account. `issuance` is the registry's source account, the only one that may go negative."""

    __tablename__ = "accounts"
    __table_args__ = (CheckConstraint(_in("kind", ACCOUNT_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime]


class JournalEntry(Base):
    """One movement: its postings sum to zero per asset. Inserted, never changed: the ledger writes entries and
    postings as plain rows, ahead of anything else a flush writes (registry.statements.Statements.append)."""

    __tablename__ = "journal_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    reference: Mapped[str] = mapped_column(String(80), default="")
    memo: Mapped[str] = mapped_column(String(500), default="")
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class Posting(Base):
    __tablename__ = "postings"
    __table_args__ = (
        CheckConstraint(_in("bucket", BUCKETS), name="bucket"),
        CheckConstraint("amount <> 0", name="amount"),
        Index("ix_postings_entry", "entry_id"),
        Index("ix_postings_account_asset", "account_id", "asset"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    asset: Mapped[str] = mapped_column(String(40))
    bucket: Mapped[str] = mapped_column(String(20))
    amount: Mapped[int] = mapped_column(BigInteger)


class Balance(Base):
    """The running sum of postings per account, asset and bucket (checkable against the postings);
    the check constraint keeps every balance but the issuance source's from going negative."""

    __tablename__ = "balances"
    __table_args__ = (
        CheckConstraint(_in("bucket", BUCKETS), name="bucket"),
        CheckConstraint("amount >= 0 OR may_go_negative", name="non_negative"),
    )

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    asset: Mapped[str] = mapped_column(String(40), primary_key=True)
    bucket: Mapped[str] = mapped_column(String(20), primary_key=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    may_go_negative: Mapped[bool] = mapped_column(Boolean)


class SerialBlock(Base):
    """A contiguous range of serial numbers sitting in one account and bucket. A movement ends blocks
    (live → false) and inserts their pieces. On PostgreSQL an exclusion constraint keeps any serial out of
    two live blocks; on both backends a trigger refuses to end a retired or revoked block (Art. 21)."""

    __tablename__ = "serial_blocks"
    __table_args__ = (
        CheckConstraint(_in("bucket", BUCKETS), name="bucket"),
        CheckConstraint("serial_end >= serial_start", name="range"),
        # A holder's live blocks, by the day they may be sold (see serial_blocks.USABLE_FROM).
        Index("ix_serial_blocks_holding", "account_id", "bucket", "batch_id",
              text("coalesce(sellable_from, '0001-01-01')"), postgresql_where=text("live"),
              sqlite_where=text("live")),
        Index("ix_serial_blocks_start", "serial_start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    serial_start: Mapped[int] = mapped_column(BigInteger)
    serial_end: Mapped[int] = mapped_column(BigInteger)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    bucket: Mapped[str] = mapped_column(String(20))
    live: Mapped[bool] = mapped_column(Boolean)
    created_entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"))
    ended_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))
    # The resale lock: credits bought on the exchange may be sold again from this business date on. Pieces
    # split off a block keep its date.
    sellable_from: Mapped[date | None] = mapped_column(Date)


# ---------------------------------------------------------------------------------------------------------
# Retirement (Art. 21), revocation (Art. 26), reports (Art. 27)

RETIREMENT_PURPOSES = ("event_neutrality", "pilot_unit", "ecological_restoration", "voluntary")
RETIREMENT_STATUSES = ("requested", "executed", "cancelled")


class Retirement(Base):
    """A request to retire (注销) credits for a purpose, executed by the operations center."""

    __tablename__ = "retirements"
    __table_args__ = (
        CheckConstraint(_in("purpose", RETIREMENT_PURPOSES), name="purpose"),
        CheckConstraint(_in("status", RETIREMENT_STATUSES), name="status"),
        CheckConstraint("quantity_t > 0", name="quantity"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"))
    quantity_t: Mapped[int] = mapped_column(BigInteger)
    purpose: Mapped[str] = mapped_column(String(30))
    beneficiary: Mapped[str] = mapped_column(String(200))
    details: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(20))
    requested_at: Mapped[datetime]
    executed_at: Mapped[datetime | None]
    executed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class RetirementBlock(Base):
    """The serial ranges a retirement holds, then retires: the certificate lists them."""

    __tablename__ = "retirement_blocks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    retirement_id: Mapped[int] = mapped_column(ForeignKey("retirements.id"), index=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    serial_start: Mapped[int] = mapped_column(BigInteger)
    serial_end: Mapped[int] = mapped_column(BigInteger)


class Revocation(Base):
    """The bureau takes back a batch, or part of it, for false material (Art. 26)."""

    __tablename__ = "revocations"
    __table_args__ = (CheckConstraint("quantity_t >= 0", name="quantity"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    quantity_t: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(2000))
    notice: Mapped[str] = mapped_column(String(4000))
    revoked_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


REPORT_STATUSES = ("received", "investigating", "closed")


class ViolationReport(Base):
    """A report of a violation (Art. 27). The reporter's identity is for the bureau alone; the reporter
    follows the case with a receipt token of which only the SHA-256 is stored."""

    __tablename__ = "violation_reports"
    __table_args__ = (CheckConstraint(_in("status", REPORT_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    receipt_hash: Mapped[str] = mapped_column(String(64), unique=True)
    reporter_name: Mapped[str] = mapped_column(String(100))
    reporter_contact: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(300))
    details: Mapped[str] = mapped_column(String(8000))
    status: Mapped[str] = mapped_column(String(20))
    feedback: Mapped[str] = mapped_column(String(4000), default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


# ---------------------------------------------------------------------------------------------------------
# The exchange's reference data: instruments and cash movements (bank confirmations)

INSTRUMENT_STATUSES = ("active", "halted")


class Instrument(Base):
    """A tradable instrument: the certified reductions of one vintage (and optionally one methodology field).
    Its engine settings (tick, lot, bands) are kept as the engine's own configuration data."""

    __tablename__ = "instruments"
    __table_args__ = (
        CheckConstraint(_in("status", INSTRUMENT_STATUSES), name="status"),
        CheckConstraint("methodology_field IS NULL OR " + _in("methodology_field", METHODOLOGY_FIELDS),
                        name="methodology_field"),
        UniqueConstraint("vintage", "methodology_field"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    vintage: Mapped[int] = mapped_column(Integer)
    methodology_field: Mapped[str | None] = mapped_column(String(40))
    config: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]


class MarketClosure(Base):
    """A weekday the market is closed, recorded by the operator: a year's public holidays from the State
    Council's notice when it comes out (the ones shipped with the code are in registry/market_closures.csv),
    or a closure announced ahead for another reason. Only a day not yet begun may be recorded or withdrawn."""

    __tablename__ = "market_closures"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(300))
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime]


CASH_MOVEMENT_KINDS = ("deposit", "withdrawal")


class CashMovement(Base):
    """A deposit or withdrawal the operator records from a bank confirmation; the bank reference is unique,
    so recording the same confirmation twice is refused."""

    __tablename__ = "cash_movements"
    __table_args__ = (
        CheckConstraint(_in("kind", CASH_MOVEMENT_KINDS), name="kind"),
        CheckConstraint("amount_fen > 0", name="amount"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    bank_reference: Mapped[str] = mapped_column(String(64), unique=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"))
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


# ---------------------------------------------------------------------------------------------------------
# Continuous trading (竞价交易): orders, trades, the engine's session counters, idempotency keys

ORDER_SIDES = ("buy", "sell")
ORDER_STATUSES = ("open", "filled", "cancelled", "expired", "rejected")
# What an order row is in each trade mode (Art. 20): a book order (竞价交易), a listing and a pick of it
# (挂牌点选), a proposal and its acceptance (协议转让), a one-sided auction and a bid in it (单向竞价).
# Every kind holds and settles the same way.
ORDER_KINDS = ("order", "listing", "pick", "proposal", "acceptance", "auction", "bid")


class Order(Base):
    """An order as the exchange acknowledged it, with what it still holds: cash for a buy, exact serial
    ranges for a sell (so settlement moves precisely what this order reserved)."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(_in("side", ORDER_SIDES), name="side"),
        CheckConstraint(_in("status", ORDER_STATUSES), name="status"),
        CheckConstraint("quantity_t > 0 AND remaining_t >= 0 AND filled_t >= 0 AND filled_t <= quantity_t",
                        name="quantities"),
        CheckConstraint("cash_held_fen >= 0", name="cash_held"),
        CheckConstraint(_in("kind", ORDER_KINDS), name="kind"),
        UniqueConstraint("participant_id", "client_order_id"),
        Index("ix_orders_instrument_status", "instrument_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    client_order_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(12), default="order", server_default="order")
    parent_order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    counterparty_participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id"), index=True)
    min_pick_t: Mapped[int | None] = mapped_column(BigInteger)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"))
    allowed_counterparties: Mapped[list[int] | None] = mapped_column(JSONType)
    side: Mapped[str] = mapped_column(String(4))
    order_type: Mapped[str] = mapped_column(String(10))
    tif: Mapped[str] = mapped_column(String(4))
    price_fen: Mapped[int | None] = mapped_column(BigInteger)
    hold_price_fen: Mapped[int | None] = mapped_column(BigInteger)
    quantity_t: Mapped[int] = mapped_column(BigInteger)
    remaining_t: Mapped[int] = mapped_column(BigInteger)
    filled_t: Mapped[int] = mapped_column(BigInteger, default=0)
    expires_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str | None] = mapped_column(String(40))
    cash_held_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    held_blocks: Mapped[list[Any]] = mapped_column(JSONType)
    priority: Mapped[int | None] = mapped_column(BigInteger)
    request_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Trade(Base):
    """A trade, settled delivery-versus-payment in the same transaction that recorded it; the unique
    (instrument, engine trade id) makes settling one twice impossible."""

    __tablename__ = "trades"
    __table_args__ = (
        UniqueConstraint("instrument_id", "engine_trade_id"),
        CheckConstraint("quantity_t > 0 AND price_fen > 0 AND fee_fen >= 0", name="amounts"),
        Index("ix_trades_instrument_id", "instrument_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id"))
    engine_trade_id: Mapped[int] = mapped_column(BigInteger)
    mode: Mapped[str] = mapped_column(String(20))
    price_fen: Mapped[int] = mapped_column(BigInteger)
    quantity_t: Mapped[int] = mapped_column(BigInteger)
    buy_order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    sell_order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    # Declared so that a flush writes new orders before the trades that name them: the exchange writes an order
    # with its preallocated id in the same flush as its first trades (never loaded, never assigned).
    buy_order: Mapped[Order] = relationship(foreign_keys=[buy_order_id], lazy="raise")
    sell_order: Mapped[Order] = relationship(foreign_keys=[sell_order_id], lazy="raise")
    aggressor: Mapped[str | None] = mapped_column(String(4))
    fee_fen: Mapped[int] = mapped_column(BigInteger)
    cash_entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"))
    credit_entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"))
    trading_day: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime]


class EngineState(Base):
    """An instrument engine's event sequence and market state as of its last committed batch (what the database
    keeps of the engine's floor), so a restart continues the same numbering (trade ids continue from the trades
    table)."""

    __tablename__ = "engine_states"

    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id"), primary_key=True)
    next_seq: Mapped[int] = mapped_column(BigInteger)
    trading_day: Mapped[str] = mapped_column(String(10))
    reference_price_fen: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime]


class BookOwner(Base):
    """Which process owns an instrument's book, fenced by an epoch: the process that takes the book's advisory
    lock increments it, and its writer's every commit checks in the same transaction that it is still its own
    (api/exchange/ownership.py). Only the cluster set-up (PostgreSQL + Redis) writes it."""

    __tablename__ = "book_owners"
    __table_args__ = (CheckConstraint("epoch > 0", name="epoch"),)

    instrument_id: Mapped[int] = mapped_column(primary_key=True)
    epoch: Mapped[int] = mapped_column(BigInteger)
    owner: Mapped[str] = mapped_column(String(100))
    taken_at: Mapped[datetime]


class IdempotencyKey(Base):
    """The first answer to a request carrying an Idempotency-Key, written in the same transaction as its
    effect; a retry gets the same answer, a reuse with another body is refused."""

    __tablename__ = "idempotency_keys"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class DocumentGrant(Base):
    """Who may use a stored document: each uploader of the same bytes (under its own file name), and a
    verifier commissioned on a filing for that filing's documents."""

    __tablename__ = "document_grants"

    sha256: Mapped[str] = mapped_column(ForeignKey("documents.sha256"), primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    granted_at: Mapped[datetime]


class SignInFailure(Base):
    """A username's failed logins in a row and the lockout they earned. Kept in the database, not only in
    Redis, so that a restarted cache does not lift a lockout; keyed by the username typed (existing or not),
    so that a lockout tells nothing about which usernames exist."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (CheckConstraint("failures >= 0", name="failures"),)

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[datetime | None] = mapped_column(index=True)
    locked_until: Mapped[datetime | None]


class RevokedToken(Base):
    """An access token revoked before its expiry (logout). The book of record for revocations: Redis holds a
    copy for the hot path and may come back empty. A row is pruned once its token has expired."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime]


# ---------------------------------------------------------------------------------------------------------
# Correction orders (责令限期改正, Art. 26)

CORRECTION_STATUSES = ("ordered", "responded", "accepted", "rejected", "lapsed", "superseded")


class CorrectionOrder(Base):
    """The bureau orders the owner of a batch to correct false material by a deadline (Art. 26). The owner
    answers with corrected material; the bureau accepts it, or rejects it, or finds the deadline passed
    unanswered: then the owner is disqualified and the credits are taken back (`revocation_id`). An open
    order is superseded when the bureau takes the credits back at once (material that cannot be corrected)."""

    __tablename__ = "correction_orders"
    __table_args__ = (
        CheckConstraint(_in("status", CORRECTION_STATUSES), name="status"),
        CheckConstraint("deadline_days >= 1", name="deadline_days"),
        CheckConstraint("deadline >= ordered_on", name="deadline"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    filing_id: Mapped[int] = mapped_column(ForeignKey("filings.id"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    finding: Mapped[str] = mapped_column(String(4000))
    deadline_days: Mapped[int] = mapped_column(Integer)
    ordered_on: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))
    ordered_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    response: Mapped[str | None] = mapped_column(String(4000))
    response_documents: Mapped[list[str]] = mapped_column(JSONType)
    responded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    responded_at: Mapped[datetime | None]
    decision_comment: Mapped[str | None] = mapped_column(String(2000))
    notice: Mapped[str | None] = mapped_column(String(4000))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    revocation_id: Mapped[int | None] = mapped_column(ForeignKey("revocations.id"))


# ---------------------------------------------------------------------------------------------------------
# Residents' carbon accounts and green-behaviour points (个人碳账户 / 碳积分), through reduction scenarios
# (减排场景) run by operators (Art. 4, 12–13, 22, 28). The pure rules are rules/points.py.

SCENARIO_STATUSES = ("active", "suspended")
RESIDENT_ACCOUNT_STATUSES = ("open", "closed")
RECORD_OUTCOMES = ("accepted", "capped", "refused", "held")
POINTS_BUCKETS = ("available", "redeemed", "donated", "expired")
POINTS_ENTRY_KINDS = ("earned", "redeemed", "donated", "expired")


class ReductionScenario(Base):
    """A reduction scenario: a registered project of its operator, bound to a per-behaviour formula taken
    from a methodology version (with the parameter versions it used) and to the limits residents earn under."""

    __tablename__ = "reduction_scenarios"
    __table_args__ = (
        CheckConstraint(_in("status", SCENARIO_STATUSES), name="status"),
        CheckConstraint("max_grams_per_record > 0 AND daily_grams > 0 AND yearly_points > 0 AND late_days >= 0 "
                        "AND points_per_kg > 0 AND duplicate_window_s >= 0 AND max_accounts_per_device > 0",
                        name="limits"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), unique=True)
    operator_participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    methodology_version_id: Mapped[int] = mapped_column(ForeignKey("methodology_versions.id"))
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    behaviour: Mapped[str] = mapped_column(String(40))
    formula: Mapped[dict[str, Any]]
    max_grams_per_record: Mapped[int] = mapped_column(BigInteger)
    daily_grams: Mapped[int] = mapped_column(BigInteger)
    yearly_points: Mapped[int] = mapped_column(BigInteger)
    late_days: Mapped[int] = mapped_column(Integer)
    points_per_kg: Mapped[int] = mapped_column(Integer)
    duplicate_window_s: Mapped[int] = mapped_column(Integer)
    max_accounts_per_device: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]


class ResidentAccount(Base):
    """A resident's personal carbon account (个人碳账户). `reference` is what the resident gives an operator;
    a closed account keeps its ledger under a pseudonym and loses its user and name."""

    __tablename__ = "resident_accounts"
    __table_args__ = (CheckConstraint(_in("status", RESIDENT_ACCOUNT_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class ResidentConsent(Base):
    """A resident's consent to one scenario, from granted until revoked; a new grant after a revocation is a
    new row, so what was counted under the earlier one keeps its ground."""

    __tablename__ = "resident_consents"
    __table_args__ = (
        CheckConstraint("revoked_at IS NULL OR revoked_at >= granted_at", name="period"),
        Index("ix_resident_consents_account_scenario", "account_id", "scenario_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("resident_accounts.id"))
    scenario_id: Mapped[int] = mapped_column(ForeignKey("reduction_scenarios.id"))
    granted_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class BehaviourRecord(Base):
    """One behaviour record as judged at ingest (append-only). Partitioned by `started_at` month on
    PostgreSQL (migration 0030): old months are detached and archived whole. The primary key includes the
    partition key, as PostgreSQL requires; `behaviour_record_refs` holds the operator's record id unique."""

    __tablename__ = "behaviour_records"
    __table_args__ = (
        CheckConstraint(_in("outcome", RECORD_OUTCOMES), name="outcome"),
        CheckConstraint("grams >= 0 AND points >= 0", name="amounts"),
        Index("ix_behaviour_records_account", "account_id", "started_at"),
        Index("ix_behaviour_records_scenario", "scenario_id", "started_at"),
        {"postgresql_partition_by": "RANGE (started_at)"},
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=False)
    started_at: Mapped[datetime] = mapped_column(primary_key=True)
    ended_at: Mapped[datetime]
    scenario_id: Mapped[int] = mapped_column(Integer)
    account_id: Mapped[int | None] = mapped_column(Integer)
    record_ref: Mapped[str] = mapped_column(String(64))
    activity: Mapped[dict[str, Any]]
    device_hash: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(10))
    code: Mapped[str | None] = mapped_column(String(20))
    grams: Mapped[int] = mapped_column(BigInteger)
    points: Mapped[int] = mapped_column(BigInteger)


class BehaviourRecordRef(Base):
    """An operator's record id, once: a re-posted record is answered from its first judgement and creates
    nothing (append-only)."""

    __tablename__ = "behaviour_record_refs"

    operator_participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), primary_key=True)
    record_ref: Mapped[str] = mapped_column(String(64), primary_key=True)
    record_id: Mapped[int] = mapped_column(BigInteger)
    started_at: Mapped[datetime]


class ResidentTotal(Base):
    """What a resident has counted in a scenario per Jiaxing day ('YYYY-MM-DD', grams) and per year ('YYYY',
    points): the truth of the caps. An ingest locks these rows (in key order) before it judges, so two
    batches for one resident at once never exceed a cap."""

    __tablename__ = "resident_totals"
    __table_args__ = (CheckConstraint("grams >= 0 AND points >= 0", name="amounts"),)

    account_id: Mapped[int] = mapped_column(ForeignKey("resident_accounts.id"), primary_key=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("reduction_scenarios.id"), primary_key=True)
    period: Mapped[str] = mapped_column(String(10), primary_key=True)
    grams: Mapped[int] = mapped_column(BigInteger, default=0)
    points: Mapped[int] = mapped_column(BigInteger, default=0)


class DeviceSighting(Base):
    """A device hash seen with an account on a Jiaxing day in a scenario (append-only)."""

    __tablename__ = "device_sightings"

    scenario_id: Mapped[int] = mapped_column(ForeignKey("reduction_scenarios.id"), primary_key=True)
    device_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("resident_accounts.id"), primary_key=True)


class ScenarioFiling(Base):
    """A month of a scenario aggregated into one draft filing; unique per (scenario, month), and a record's
    scenario and month never change, so a record enters one filing only."""

    __tablename__ = "scenario_filings"
    __table_args__ = (UniqueConstraint("scenario_id", "month"), CheckConstraint("grams >= 0", name="grams"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("reduction_scenarios.id"))
    month: Mapped[str] = mapped_column(String(7))
    filing_id: Mapped[int] = mapped_column(ForeignKey("filings.id"), unique=True)
    record_count: Mapped[int] = mapped_column(BigInteger)
    grams: Mapped[int] = mapped_column(BigInteger)
    records_sha256: Mapped[str] = mapped_column(ForeignKey("documents.sha256"))
    created_at: Mapped[datetime]


class PointsEntry(Base):
    """One movement of points (append-only), its postings summing to zero."""

    __tablename__ = "points_entries"
    __table_args__ = (CheckConstraint(_in("kind", POINTS_ENTRY_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    memo: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class PointsPosting(Base):
    """A leg of a points entry (append-only): on a resident's bucket of one earning year, or on a
    scenario's issuing side (`account_id` None), which goes negative as residents are credited."""

    __tablename__ = "points_postings"
    __table_args__ = (
        CheckConstraint(_in("bucket", (*POINTS_BUCKETS, "issued")), name="bucket"),
        CheckConstraint("(account_id IS NULL) = (bucket = 'issued')", name="side"),
        Index("ix_points_postings_account", "account_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("points_entries.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("resident_accounts.id"))
    scenario_id: Mapped[int | None] = mapped_column(ForeignKey("reduction_scenarios.id"))
    bucket: Mapped[str] = mapped_column(String(12))
    earned_year: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)


class PointsBalance(Base):
    """A resident's points per bucket and earning year: the sum of its postings, cached and locked to spend."""

    __tablename__ = "points_balances"
    __table_args__ = (
        CheckConstraint(_in("bucket", POINTS_BUCKETS), name="bucket"),
        CheckConstraint("amount >= 0", name="amount"),
    )

    account_id: Mapped[int] = mapped_column(ForeignKey("resident_accounts.id"), primary_key=True)
    bucket: Mapped[str] = mapped_column(String(12), primary_key=True)
    earned_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    amount: Mapped[int] = mapped_column(BigInteger, default=0)


class RewardOffer(Base):
    """An offer on the reward shelf (权益兑换) from an operator or the bureau; its stock never goes below 0."""

    __tablename__ = "reward_offers"
    __table_args__ = (CheckConstraint("stock >= 0 AND points_cost > 0", name="stock"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider_participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"))
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    points_cost: Mapped[int] = mapped_column(BigInteger)
    stock: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class Redemption(Base):
    """A resident's redemption of one offer (append-only)."""

    __tablename__ = "redemptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("reward_offers.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("resident_accounts.id"), index=True)
    points: Mapped[int] = mapped_column(BigInteger)
    entry_id: Mapped[int] = mapped_column(ForeignKey("points_entries.id"))
    created_at: Mapped[datetime]


# ---------------------------------------------------------------------------------------------------------
# Emission factors (Art. 11) and event carbon neutrality (Art. 21, 24, 26, 28)

FACTOR_RELEASE_STATUSES = ("public_notice", "published", "rejected")


class FactorRelease(Base):
    """A numbered release of the emission-factor catalogue (因子库版本): its factors never change; it goes
    through public notice like any parameter (Art. 11) unless it records values already published."""

    __tablename__ = "factor_releases"
    __table_args__ = (CheckConstraint(_in("status", FACTOR_RELEASE_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    title: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(String(4000))
    status: Mapped[str] = mapped_column(String(20))
    notice_end: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    published_at: Mapped[datetime | None]


class EmissionFactor(Base):
    """One version of a factor (排放因子), in the release that brought it; inserted once, never changed."""

    __tablename__ = "emission_factors"
    __table_args__ = (
        UniqueConstraint("code", "version"),
        CheckConstraint("version >= 1", name="version"),
        CheckConstraint("effective_to IS NULL OR effective_to >= effective_from", name="period"),
        CheckConstraint(_in("gwp_basis", ("AR4", "AR5", "AR6")), name="gwp_basis"),
        Index("ix_emission_factors_activity_region", "activity", "region"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("factor_releases.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    activity: Mapped[str] = mapped_column(String(60))
    sector: Mapped[str] = mapped_column(String(40))
    unit: Mapped[str] = mapped_column(String(30))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(10))
    data_year: Mapped[int] = mapped_column(Integer)
    value_kg: Mapped[Decimal]  # kg CO2e per unit
    gases: Mapped[dict[str, Any]]  # kg of each gas per unit, as decimal strings
    gwp_basis: Mapped[str] = mapped_column(String(4))
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    publisher: Mapped[str] = mapped_column(String(200))
    dataset: Mapped[str] = mapped_column(String(200))
    document_number: Mapped[str | None] = mapped_column(String(100))
    link: Mapped[str | None] = mapped_column(String(500))
    uncertainty_pct: Mapped[Decimal | None]
    quality_flags: Mapped[list[str]] = mapped_column(JSONType)
    demo: Mapped[bool] = mapped_column(Boolean)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("emission_factors.id"))
    created_at: Mapped[datetime]


EVENT_TYPES = ("performance", "match", "conference", "forum", "exhibition")
EVENT_STATUSES = ("planned", "inventoried", "neutral")  # held and overdue are read off the calendar
ASSESSMENT_KINDS = ("declaration", "third_party")
EVENT_OFFSET_KINDS = ("retirement", "external")


class Event(Base):
    """A large event or meeting whose organiser makes it carbon-neutral (大型活动碳中和, Art. 21, 24)."""

    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint(_in("event_type", EVENT_TYPES), name="event_type"),
        CheckConstraint(_in("status", EVENT_STATUSES), name="status"),
        CheckConstraint("assessment_kind IS NULL OR " + _in("assessment_kind", ASSESSMENT_KINDS),
                        name="assessment_kind"),
        CheckConstraint("ends_on >= starts_on", name="dates"),
        CheckConstraint("deadline >= ends_on", name="deadline"),
        CheckConstraint("attendees >= 0", name="attendees"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    event_type: Mapped[str] = mapped_column(String(20))
    organiser_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    venue: Mapped[str] = mapped_column(String(200))
    venue_county: Mapped[str] = mapped_column(String(6))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    attendees: Mapped[int] = mapped_column(Integer)
    deadline: Mapped[date] = mapped_column(Date)
    reduction_measures: Mapped[str] = mapped_column(String(4000))
    status: Mapped[str] = mapped_column(String(20))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    assessment_kind: Mapped[str | None] = mapped_column(String(20))
    assessor_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id"))
    assessed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    conclusion: Mapped[str | None] = mapped_column(String(2000))
    statement_code: Mapped[str | None] = mapped_column(String(40), unique=True)
    declared_at: Mapped[datetime | None]


class EventInventory(Base):
    """One version of an event's emission inventory (排放清单): lines citing factor@version, exclusions with
    reasons, the total in grams and in whole tonnes (rounded up), and the trace hash. Inserted, never changed."""

    __tablename__ = "event_inventories"
    __table_args__ = (
        UniqueConstraint("event_id", "version"),
        CheckConstraint("total_g >= 0", name="total_g"),
        CheckConstraint("total_t >= 0", name="total_t"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    exclusions: Mapped[dict[str, Any]]
    total_g: Mapped[int] = mapped_column(BigInteger)
    total_t: Mapped[int] = mapped_column(BigInteger)
    trace_hash: Mapped[str] = mapped_column(String(64))
    prepared_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    preparer_id: Mapped[int] = mapped_column(ForeignKey("participants.id"))
    created_at: Mapped[datetime]


class EventOffset(Base):
    """A retirement (or an external offset, shown as external) backing an event. A retirement backs one event
    only: the unique key on retirement_id says so in the database. Inserted, never changed."""

    __tablename__ = "event_offsets"
    __table_args__ = (
        CheckConstraint(_in("kind", EVENT_OFFSET_KINDS), name="kind"),
        CheckConstraint("(kind = 'retirement' AND retirement_id IS NOT NULL AND external_registry IS NULL) OR "
                        "(kind = 'external' AND retirement_id IS NULL AND external_registry IS NOT NULL "
                        "AND external_quantity_t > 0)", name="shape"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    retirement_id: Mapped[int | None] = mapped_column(ForeignKey("retirements.id"), unique=True)
    external_registry: Mapped[str | None] = mapped_column(String(200))
    external_serials: Mapped[str | None] = mapped_column(String(500))
    external_quantity_t: Mapped[int | None] = mapped_column(BigInteger)
    proof_sha256: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
