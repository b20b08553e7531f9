"""Content-addressed evidence storage: a document is named by the SHA-256 of its bytes."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

# Media types an evidence file may have, each with the leading bytes its content must start with,
# so a renamed executable cannot pass as a PDF. CSV and plain text have no signature.
ALLOWED_MEDIA_TYPES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "text/csv": (),
    "text/plain": (),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (b"PK\x03\x04",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (b"PK\x03\x04",),
}

SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class StoredBlob:
    sha256: str
    size_bytes: int


def content_problem(media_type: str, head: bytes) -> str | None:
    """Why this content may not be stored under this media type, or None when it may."""
    if media_type not in ALLOWED_MEDIA_TYPES:
        return f"media type {media_type!r} is not accepted; allowed: {', '.join(sorted(ALLOWED_MEDIA_TYPES))}"
    signatures = ALLOWED_MEDIA_TYPES[media_type]
    if signatures and not any(head.startswith(sig) for sig in signatures):
        return f"the content does not look like {media_type}"
    if not signatures and b"\x00" in head:
        return f"binary content is not valid {media_type}"
    return None


class DocumentStore:
    """Files under root/ab/cdef…; writes are atomic (temp file + rename) and idempotent by digest."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str) -> Path:
        if not SHA256_PATTERN.match(sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / sha256[:2] / sha256[2:]

    def put(self, data: bytes) -> StoredBlob:
        digest = hashlib.sha256(data).hexdigest()
        target = self.path_for(digest)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)
        return StoredBlob(digest, len(data))

    def get(self, sha256: str) -> bytes:
        return self.path_for(sha256).read_bytes()
