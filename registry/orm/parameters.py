"""Rule sets registered as data, and the key parameters whose values are versioned through public
notice (Art. 11)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from registry.orm.base import Base, _in


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
