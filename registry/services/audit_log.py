"""Reading and verifying the audit chain."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select

from registry.audit import ChainLink, ChainReport, verify_chain
from registry.orm import AuditEntry
from registry.pagination import Page, paginate
from registry.unit_of_work import UnitOfWork

BATCH = 5000


def _links(uow: UnitOfWork) -> Iterator[ChainLink]:
    after = 0
    while True:
        rows = list(uow.session.scalars(
            select(AuditEntry).where(AuditEntry.seq > after).order_by(AuditEntry.seq).limit(BATCH)))
        if not rows:
            return
        for r in rows:
            yield ChainLink(r.seq, r.occurred_at, r.actor_user_id, r.action, r.subject_type, r.subject_id,
                            r.payload, r.prev_hash, r.entry_hash)
        after = rows[-1].seq
        uow.session.expunge_all()


def verify(uow: UnitOfWork) -> ChainReport:
    """Walk the whole chain and name the first broken entry, if any."""
    return verify_chain(_links(uow))


def entries(uow: UnitOfWork, subject_type: str | None, subject_id: str | None, offset: int,
            limit: int) -> Page[AuditEntry]:
    query = select(AuditEntry)
    if subject_type:
        query = query.where(AuditEntry.subject_type == subject_type)
    if subject_id:
        query = query.where(AuditEntry.subject_id == subject_id)
    return paginate(uow.session, query.order_by(AuditEntry.seq.desc()), offset, limit)
