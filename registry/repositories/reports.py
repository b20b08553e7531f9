"""Violation reports' queries (举报, Art. 27)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.orm import ViolationReport
from registry.pagination import Page, paginate


def report(session: Session, report_id: int, *, for_update: bool = False) -> ViolationReport | None:
    """The report, or None; locked when the bureau moves it on."""
    return session.get(ViolationReport, report_id, with_for_update=for_update)


def report_with_receipt(session: Session, receipt_hash: str) -> ViolationReport | None:
    """The report whose receipt token has this SHA-256, or None."""
    return session.scalars(select(ViolationReport).where(ViolationReport.receipt_hash == receipt_hash)).one_or_none()


def report_page(session: Session, status: str | None, offset: int, limit: int) -> Page[ViolationReport]:
    """Reports, newest first, of one status when given."""
    query = select(ViolationReport)
    if status:
        query = query.where(ViolationReport.status == status)
    return paginate(session, query.order_by(ViolationReport.id.desc()), offset, limit)
