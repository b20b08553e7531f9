"""Emission factors (Art. 11) and event carbon neutrality (Art. 21, 24, 26, 28): factor releases and
factors, events with their inventories and offsets."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from registry.orm.base import Base, JSONType, _in

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
