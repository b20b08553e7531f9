"""Reading and verifying the audit chain."""

from __future__ import annotations

from collections.abc import Iterator

from registry.audit import ChainLink, ChainReport, verify_chain
from registry.orm import AuditEntry
from registry.pagination import Page
from registry.repositories import audit_log as audit_repo
from registry.unit_of_work import UnitOfWork

BATCH = 5000


def _links(uow: UnitOfWork) -> Iterator[ChainLink]:
    after = 0
    while True:
        rows = audit_repo.entries_after(uow.session, after, BATCH)
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
    return audit_repo.entries_page(uow.session, subject_type, subject_id, offset, limit)
