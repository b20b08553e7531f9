"""Evidence in content-addressed storage (the digest here, the bytes on disk) and who may use it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from registry.orm.base import Base


class Document(Base):
    """Evidence in content-addressed storage: the database keeps the SHA-256 digest, the bytes live on disk."""

    __tablename__ = "documents"
    __table_args__ = (CheckConstraint("size_bytes > 0", name="size"),)

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(255))
    uploaded_by_participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"))
    uploaded_at: Mapped[datetime]


class DocumentGrant(Base):
    """Who may use a stored document: each uploader of the same bytes (under its own file name), and a
    verifier commissioned on a filing for that filing's documents."""

    __tablename__ = "document_grants"

    sha256: Mapped[str] = mapped_column(ForeignKey("documents.sha256"), primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    granted_at: Mapped[datetime]
