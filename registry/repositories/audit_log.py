"""Queries of the audit chain."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.orm import AuditEntry
from registry.pagination import Page, paginate


def entries_after(session: Session, seq: int, limit: int) -> list[AuditEntry]:
    """Up to `limit` entries after `seq`, in chain order."""
    return list(session.scalars(select(AuditEntry).where(AuditEntry.seq > seq).order_by(AuditEntry.seq).limit(limit)))


def entries_page(session: Session, subject_type: str | None, subject_id: str | None, offset: int,
                 limit: int) -> Page[AuditEntry]:
    """Entries newest first, of one subject type (and id) or all."""
    query = select(AuditEntry)
    if subject_type:
        query = query.where(AuditEntry.subject_type == subject_type)
    if subject_id:
        query = query.where(AuditEntry.subject_id == subject_id)
    return paginate(session, query.order_by(AuditEntry.seq.desc()), offset, limit)
