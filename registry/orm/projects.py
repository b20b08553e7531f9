"""Carbon-inclusive projects (碳普惠项目), their asset identifiers and documents, and the projects of
other mechanisms imported so uniqueness can be checked (Art. 13(3))."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from registry.orm.base import Base, JSONType, _in

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
