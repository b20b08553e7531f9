"""The bureau's supervision: revocation (Art. 26), correction orders (责令限期改正, Art. 26) and
violation reports (Art. 27)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from registry.orm.base import Base, JSONType, _in


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
