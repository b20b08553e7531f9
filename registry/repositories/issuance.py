"""Queries of issuance batches (the `batches` table): a batch, and the vintage of many batches at once (to label
their serial blocks)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.orm import Batch


def vintages_of(session: Session, batch_ids: Iterable[int]) -> dict[int, int]:
    """The vintage of each of these batches, by batch id (one query)."""
    ids = set(batch_ids)
    if not ids:
        return {}
    return {batch_id: vintage for batch_id, vintage in session.execute(
        select(Batch.id, Batch.vintage).where(Batch.id.in_(ids)))}


def batch(session: Session, batch_id: int, *, for_update: bool = False) -> Batch | None:
    """The batch, or None; with `for_update` its row locked until the transaction ends."""
    return session.get(Batch, batch_id, with_for_update=for_update)
