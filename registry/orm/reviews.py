"""The review every subject goes through (Art. 10, 14–17): its states, the append-only history of
review steps, and the objections the public lodges during a public notice (公示)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from registry.orm.base import Base, _in

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
