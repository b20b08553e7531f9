"""Key parameters' queries (Art. 11): parameters and their versions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from registry.orm import Parameter, ParameterVersion


def parameter(session: Session, code: str) -> Parameter | None:
    """The parameter, or None."""
    return session.get(Parameter, code)


def parameters(session: Session) -> list[Parameter]:
    """Every parameter, by code."""
    return list(session.scalars(select(Parameter).order_by(Parameter.code)))


def registered_codes(session: Session, codes: Iterable[str]) -> set[str]:
    """Which of these parameter codes exist."""
    return set(session.scalars(select(Parameter.code).where(Parameter.code.in_(list(codes)))))


def version(session: Session, version_id: int, *, for_update: bool = False) -> ParameterVersion | None:
    """The parameter version, or None; locked when the caller publishes, rejects or objects to it."""
    return session.get(ParameterVersion, version_id, with_for_update=for_update)


def version_id_of(session: Session, code: str, number: int) -> int | None:
    """The key of version `number` of parameter `code`, if it exists."""
    return session.scalar(select(ParameterVersion.id).where(ParameterVersion.parameter_code == code,
                                                            ParameterVersion.version == number))


def last_version_number(session: Session, code: str) -> int:
    """The highest version number a parameter has (0 before its first)."""
    return session.scalar(select(func.max(ParameterVersion.version))
                          .where(ParameterVersion.parameter_code == code)) or 0


def published_versions_on(session: Session, codes: Iterable[str], on: date) -> list[ParameterVersion]:
    """The published versions of these parameters whose effective period covers `on`, by code then version."""
    return list(session.scalars(
        select(ParameterVersion)
        .where(ParameterVersion.parameter_code.in_(list(codes)), ParameterVersion.status == "published",
               ParameterVersion.effective_from <= on,
               or_(ParameterVersion.effective_to.is_(None), ParameterVersion.effective_to >= on))
        .order_by(ParameterVersion.parameter_code, ParameterVersion.version)))


def versions_of(session: Session, code: str, *, states: tuple[str, ...] | None = None) -> list[ParameterVersion]:
    """A parameter's versions, oldest first; only those in `states` when given."""
    query = select(ParameterVersion).where(ParameterVersion.parameter_code == code)
    if states is not None:
        query = query.where(ParameterVersion.status.in_(states))
    return list(session.scalars(query.order_by(ParameterVersion.version)))
