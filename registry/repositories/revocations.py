"""Queries of revocations (Art. 26)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.orm import Batch, Order, Project, Revocation
from registry.pagination import Page, paginate


def revoked_t(session: Session, batch_id: int) -> int:
    """The tonnes of the batch revoked so far."""
    return sum(r.quantity_t for r in session.scalars(select(Revocation).where(Revocation.batch_id == batch_id)))


def revocations_page(session: Session, offset: int, limit: int) -> Page[Revocation]:
    """Revocations newest first."""
    return paginate(session, select(Revocation).order_by(Revocation.id.desc()), offset, limit)


def batch_locked(session: Session, batch_id: int) -> Batch | None:
    """The batch, locked against other revocations and correction decisions with FOR NO KEY UPDATE (not the
    FOR UPDATE of `issuance.batch`): rows that merely reference it, serial blocks and retirement blocks, can
    still be written while it is held."""
    return session.get(Batch, batch_id, with_for_update={"key_share": True})


def owner_of(session: Session, batch: Batch) -> int:
    """The participant owning the batch's project, whom a revocation disqualifies. (A read of the projects table;
    it belongs with the projects' queries once those have a module.)"""
    project = session.get(Project, batch.project_id)
    assert project is not None
    return project.owner_participant_id


def open_orders_holding(session: Session, batch_id: int, instrument_id: int | None = None) -> list[Order]:
    """The open orders, listings, proposals and auction lots (of one instrument, or of all) whose held serial
    blocks include the batch's credits: what the exchange withdraws before the batch is taken back. (Held
    blocks are a JSON list, so the sells are read and filtered here; only sells hold credits.)"""
    query = select(Order).where(Order.status == "open", Order.side == "sell")
    if instrument_id is not None:
        query = query.where(Order.instrument_id == instrument_id)
    return [o for o in session.scalars(query.order_by(Order.id))
            if any(held_batch == batch_id for held_batch, _, _ in o.held_blocks or [])]
