"""Evidence documents' queries: the documents stored by digest and the grants that let a participant use one."""

from __future__ import annotations

from sqlalchemy.orm import Session

from registry.orm import Document, DocumentGrant


def document(session: Session, sha256: str) -> Document | None:
    """The document with this digest, or None."""
    return session.get(Document, sha256)


def grant(session: Session, sha256: str, participant_id: int) -> DocumentGrant | None:
    """The participant's grant of the document, or None."""
    return session.get(DocumentGrant, (sha256, participant_id))
