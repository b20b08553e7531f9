"""Evidence documents: checked, stored once by digest, usable by the participants granted them (each
uploader, and a verifier commissioned on a filing) and readable by the reviewers. `upload` is a use case and
commits once, at its end; the other functions are steps and never commit."""

from __future__ import annotations

from registry.documents import DocumentStore, content_problem
from registry.errors import InvalidInput, NotFound, RuleViolation
from registry.orm import Document, DocumentGrant
from registry.principals import Principal
from registry.repositories import documents as repository
from registry.unit_of_work import UnitOfWork
from rules.violations import Violation


def upload(uow: UnitOfWork, store: DocumentStore, principal: Principal, *, filename: str, media_type: str,
           data: bytes, max_bytes: int) -> tuple[Document, DocumentGrant]:
    """Store a file under its SHA-256 and grant it to the uploader under the uploader's own file name; the
    same bytes uploaded by someone else reveal nothing of the first upload."""
    if not data:
        raise InvalidInput("The file is empty.", "文件为空。")
    if len(data) > max_bytes:
        raise InvalidInput(f"The file is over {max_bytes} bytes.", f"文件超过 {max_bytes} 字节。")
    problem = content_problem(media_type, data[:16])
    if problem:
        raise InvalidInput(problem, f"不接受该文件类型或内容：{problem}")
    blob = store.put(data)
    doc = repository.document(uow.session, blob.sha256)
    if doc is None:
        doc = Document(sha256=blob.sha256, size_bytes=blob.size_bytes, media_type=media_type,
                       filename=filename[:255], uploaded_by_participant_id=principal.participant_id,
                       uploaded_at=uow.now())
        uow.session.add(doc)
        uow.session.flush()
    grant = grant_to(uow, blob.sha256, principal.participant_id, filename)
    uow.audit("document.uploaded", "document", blob.sha256,
              {"size_bytes": blob.size_bytes, "media_type": media_type, "participant_id": principal.participant_id})
    uow.commit()
    return doc, grant


def grant_to(uow: UnitOfWork, sha256: str, participant_id: int, filename: str) -> DocumentGrant:
    grant = repository.grant(uow.session, sha256, participant_id)
    if grant is None:
        grant = DocumentGrant(sha256=sha256, participant_id=participant_id, filename=filename[:255],
                              granted_at=uow.now())
        uow.session.add(grant)
        uow.session.flush()
    return grant


def get_visible(uow: UnitOfWork, viewer: Principal, sha256: str) -> tuple[Document, DocumentGrant | None]:
    """The document and the viewer's grant; reviewers read every document (without a grant of their own)."""
    doc = repository.document(uow.session, sha256)
    grant = repository.grant(uow.session, sha256, viewer.participant_id) if doc else None
    if doc is None or (grant is None and not viewer.is_reviewer):
        raise NotFound("Document not found.", "未找到文件。")
    return doc, grant


def require_usable(uow: UnitOfWork, principal: Principal, sha256: str, field: str, article: str = "JX-16") -> Document:
    """A document the caller may attach to a filing or project: refused by field when it may not."""
    doc = repository.document(uow.session, sha256)
    if doc is None or (repository.grant(uow.session, sha256, principal.participant_id) is None
                       and not principal.is_reviewer):
        number = article.removeprefix("JX-")
        raise RuleViolation([Violation(article, f"Art. {number}", field, f"未找到文件 {sha256}，请先上传。",
                                       f"Document {sha256} not found; upload it first.")])
    return doc
