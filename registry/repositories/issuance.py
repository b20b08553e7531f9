"""Issuance's queries: batches (签发批次), the serial block each one owns, and their vintages."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.orm import Batch


def batch(session: Session, batch_id: int, *, for_update: bool = False) -> Batch | None:
    """The batch, or None. Locked, it is held FOR NO KEY UPDATE: a batch's key never changes, so rows that
    merely reference it (serial blocks, retirement blocks) can still be written while it is held."""
    if for_update:
        return session.get(Batch, batch_id, with_for_update={"key_share": True})
    return session.get(Batch, batch_id)


def vintages_of(session: Session, batch_ids: Iterable[int]) -> dict[int, int]:
    """Each batch's vintage by batch id, for labelling serial blocks (`serials.block_label`)."""
    ids = set(batch_ids)
    if not ids:
        return {}
    return {row[0]: row[1] for row in session.execute(select(Batch.id, Batch.vintage).where(Batch.id.in_(ids)))}


def batches(session: Session) -> list[Batch]:
    """Every batch, in the order issued."""
    return list(session.scalars(select(Batch).order_by(Batch.id)))
