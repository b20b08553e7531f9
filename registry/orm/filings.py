"""Reductions: filing, verification, issuance (Art. 14–17) — filings with their documents and claimed
assets, the issuance batches and the counter that numbers their serials."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from registry.orm.base import Base, _in
from registry.orm.reviews import REVIEW_STATES

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
