"""Evidence documents as the API answers them: a document's metadata in the caller's view, and the file
itself, whose media type is the one it was uploaded with."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from registry.documents import ALLOWED_MEDIA_TYPES
from registry.orm import Document, DocumentGrant


class DocumentOut(BaseModel):
    sha256: str
    size_bytes: int
    media_type: str
    filename: str
    uploaded_at: str


# The download's OpenAPI description: the bytes, in whichever accepted media type the file was uploaded as.
DOCUMENT_FILE: dict[int | str, dict[str, Any]] = {
    200: {"content": {media_type: {"schema": {"type": "string", "format": "binary"}}
                      for media_type in sorted(ALLOWED_MEDIA_TYPES)},
          "description": "The document's bytes, in the media type it was uploaded with."}}


def document_out(doc: Document, grant: DocumentGrant | None) -> DocumentOut:
    """The caller's view: its own file name and time for the document (a reviewer sees the first one)."""
    return DocumentOut(sha256=doc.sha256, size_bytes=doc.size_bytes, media_type=doc.media_type,
                       filename=grant.filename if grant else doc.filename,
                       uploaded_at=(grant.granted_at if grant else doc.uploaded_at).isoformat())
