"""Methodologies' queries: methodologies, their versions, and who submitted a version."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from registry.orm import Methodology, MethodologyVersion, User
from registry.pagination import MAX_PAGE_SIZE, Page


def methodology(session: Session, methodology_id: int) -> Methodology | None:
    """The methodology, or None."""
    return session.get(Methodology, methodology_id)


def methodology_by_code(session: Session, code: str) -> Methodology | None:
    """The methodology with that code, or None."""
    return session.scalar(select(Methodology).where(Methodology.code == code))


def version(session: Session, version_id: int, *, for_update: bool = False) -> MethodologyVersion | None:
    """The methodology version, or None; locked when the caller moves it along its review flow."""
    return session.get(MethodologyVersion, version_id, with_for_update=for_update)


def versions_of(session: Session, methodology_id: int) -> list[MethodologyVersion]:
    """A methodology's versions, oldest first."""
    return list(session.scalars(
        select(MethodologyVersion).where(MethodologyVersion.methodology_id == methodology_id)
        .order_by(MethodologyVersion.version)))


def last_version_number(session: Session, methodology_id: int) -> int:
    """The highest version number a methodology has (0 before its first)."""
    return session.scalar(select(func.max(MethodologyVersion.version))
                          .where(MethodologyVersion.methodology_id == methodology_id)) or 0


def submitting_organisation(session: Session, version: MethodologyVersion) -> int | None:
    """The participant of the user who submitted the version (None if that user is gone)."""
    return session.scalar(select(User.participant_id).where(User.id == version.submitted_by))


def version_page(session: Session, *, states: Sequence[str] | None, or_proposer: int | None, status: str | None,
                 field: str | None, offset: int, limit: int) -> Page[tuple[MethodologyVersion, Methodology]]:
    """Versions with their methodology, newest first: those in `states` (all when None), or else proposed by
    `or_proposer`; narrowed to a status and a field when given."""
    query = select(MethodologyVersion, Methodology).join(
        Methodology, Methodology.id == MethodologyVersion.methodology_id)
    if states is not None:
        in_states = MethodologyVersion.status.in_(states)
        query = query.where(in_states if or_proposer is None
                            else in_states | (Methodology.proposer_participant_id == or_proposer))
    if status:
        query = query.where(MethodologyVersion.status == status)
    if field:
        query = query.where(Methodology.field == field)
    query = query.order_by(MethodologyVersion.id.desc())
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = [(row[0], row[1]) for row in session.execute(query.offset(offset).limit(limit))]
    return Page(rows, int(total), offset, limit)
