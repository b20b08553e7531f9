"""Methodologies (方法学) and their versions: the executable calculation and its place in the review."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from registry.orm.base import Base, _in
from registry.orm.reviews import REVIEW_STATES

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
