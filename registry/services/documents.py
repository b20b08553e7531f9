"""Evidence documents: checked, stored by digest, visible to their uploader and the reviewers."""

from __future__ import annotations

from registry.documents import DocumentStore, content_problem
from registry.errors import InvalidInput, NotFound
from registry.orm import Document
from registry.principals import Principal
from registry.unit_of_work import UnitOfWork


def upload(uow: UnitOfWork, store: DocumentStore, principal: Principal, *, filename: str, media_type: str,
           data: bytes, max_bytes: int) -> Document:
    """Store a file under its SHA-256; the same bytes uploaded twice are one document."""
    if not data:
        raise InvalidInput("The file is empty.", "文件为空。")
    if len(data) > max_bytes:
        raise InvalidInput(f"The file is over {max_bytes} bytes.", f"文件超过 {max_bytes} 字节。")
    problem = content_problem(media_type, data[:16])
    if problem:
        raise InvalidInput(problem, f"不接受该文件类型或内容：{problem}")
    blob = store.put(data)
    existing = uow.session.get(Document, blob.sha256)
    if existing is not None:
        return existing
    doc = Document(sha256=blob.sha256, size_bytes=blob.size_bytes, media_type=media_type,
                   filename=filename[:255], uploaded_by_participant_id=principal.participant_id,
                   uploaded_at=uow.now())
    uow.session.add(doc)
    uow.audit("document.uploaded", "document", blob.sha256,
              {"size_bytes": blob.size_bytes, "media_type": media_type, "filename": filename[:255]})
    return doc


def get_visible(uow: UnitOfWork, viewer: Principal, sha256: str) -> Document:
    doc = uow.session.get(Document, sha256)
    if doc is None or not (viewer.is_reviewer or viewer.participant_id == doc.uploaded_by_participant_id):
        raise NotFound("Document not found.", "未找到文件。")
    return doc
