"""Queries of the emission-factor catalogue (Art. 11): releases and their immutable factor versions."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from registry.orm import EmissionFactor, FactorRelease, Objection


def release(session: Session, number: int, *, for_update: bool = False) -> FactorRelease | None:
    """The release with this number."""
    query = select(FactorRelease).where(FactorRelease.number == number)
    return session.scalar(query.with_for_update() if for_update else query)


def release_by_id(session: Session, release_id: int, *, for_update: bool = False) -> FactorRelease | None:
    """The release with this key (an objection names its subject by key)."""
    return session.get(FactorRelease, release_id, with_for_update=for_update)


def releases(session: Session, *, include_rejected: bool) -> list[FactorRelease]:
    """Releases newest first (published and in notice; rejected ones too when asked)."""
    query = select(FactorRelease)
    if not include_rejected:
        query = query.where(FactorRelease.status != "rejected")
    return list(session.scalars(query.order_by(FactorRelease.number.desc())))


def last_release_number(session: Session) -> int:
    """The highest release number so far (0 before the first)."""
    return int(session.scalar(select(func.coalesce(func.max(FactorRelease.number), 0))) or 0)


def latest_published_number(session: Session) -> int | None:
    """The number of the newest published release, if any."""
    return session.scalar(select(func.max(FactorRelease.number)).where(FactorRelease.status == "published"))


def factors_of(session: Session, release_id: int) -> list[EmissionFactor]:
    """The factors a release brought, by code."""
    return list(session.scalars(select(EmissionFactor).where(EmissionFactor.release_id == release_id)
                                .order_by(EmissionFactor.code, EmissionFactor.version)))


def latest_versions(session: Session, codes: Iterable[str]) -> dict[str, EmissionFactor]:
    """For each code, its highest version in any release not rejected (what a new version supersedes)."""
    rows = session.scalars(
        select(EmissionFactor).join(FactorRelease, FactorRelease.id == EmissionFactor.release_id)
        .where(EmissionFactor.code.in_(list(codes)), FactorRelease.status != "rejected")
        .order_by(EmissionFactor.code, EmissionFactor.version))
    return {row.code: row for row in rows}


def highest_versions(session: Session, codes: Iterable[str]) -> dict[str, int]:
    """For each code, the highest version number ever given (rejected releases included: a number is never
    reused)."""
    rows = session.execute(select(EmissionFactor.code, func.max(EmissionFactor.version))
                           .where(EmissionFactor.code.in_(list(codes))).group_by(EmissionFactor.code))
    return {code: int(version) for code, version in rows}


def published_factors(session: Session) -> list[tuple[EmissionFactor, int]]:
    """Every factor of a published release, with its release number: the pool a calculation picks from."""
    rows = session.execute(
        select(EmissionFactor, FactorRelease.number).join(FactorRelease, FactorRelease.id == EmissionFactor.release_id)
        .where(FactorRelease.status == "published").order_by(EmissionFactor.code, EmissionFactor.version))
    return [(factor, int(number)) for factor, number in rows]


def open_objections(session: Session, release_id: int) -> int:
    """How many objections to this release are still open."""
    return int(session.scalar(select(func.count()).select_from(Objection).where(
        Objection.subject_type == "factor_release", Objection.subject_id == release_id,
        Objection.status == "open")) or 0)
