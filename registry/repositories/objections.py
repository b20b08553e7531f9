"""Objections' queries: the objections lodged during a public notice (公示), whatever their subject."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from registry.orm import Objection
from registry.pagination import Page, paginate


def objection(session: Session, objection_id: int, *, for_update: bool = False) -> Objection | None:
    """The objection, or None; locked when the bureau rules on it."""
    return session.get(Objection, objection_id, with_for_update=for_update)


def open_objection_count(session: Session, subject_type: str, subject_id: int) -> int:
    """How many objections to the subject still wait for a ruling."""
    return int(session.scalar(select(func.count()).select_from(Objection).where(
        Objection.subject_type == subject_type, Objection.subject_id == subject_id,
        Objection.status == "open")) or 0)


def objection_page(session: Session, status: str | None, offset: int, limit: int) -> Page[Objection]:
    """Objections, newest first, of one status when given."""
    query = select(Objection)
    if status:
        query = query.where(Objection.status == status)
    return paginate(session, query.order_by(Objection.id.desc()), offset, limit)
