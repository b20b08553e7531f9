"""Queries of correction orders (责令限期改正, Art. 26)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from registry.orm import CorrectionOrder
from registry.pagination import Page, paginate
from rules import corrections


def correction_order(session: Session, order_id: int, *, for_update: bool = False) -> CorrectionOrder | None:
    return session.get(CorrectionOrder, order_id, with_for_update=for_update)


def batch_id_of(session: Session, order_id: int) -> int | None:
    """The batch a correction order concerns (read without locking the order)."""
    return session.scalar(select(CorrectionOrder.batch_id).where(CorrectionOrder.id == order_id))


def open_orders_count(session: Session, batch_id: int) -> int:
    """How many orders of the batch are still open (ordered or responded)."""
    return int(session.scalar(select(func.count()).select_from(CorrectionOrder).where(
        CorrectionOrder.batch_id == batch_id, CorrectionOrder.status.in_(corrections.OPEN_STATUSES))) or 0)


def open_orders_of(session: Session, batch_id: int, *, for_update: bool = False) -> list[CorrectionOrder]:
    """The batch's open orders."""
    query = select(CorrectionOrder).where(CorrectionOrder.batch_id == batch_id,
                                          CorrectionOrder.status.in_(corrections.OPEN_STATUSES))
    return list(session.scalars(query.with_for_update() if for_update else query))


def orders_page(session: Session, *, visible_to_participant: int | None, everything: bool, status: str | None,
                batch_id: int | None, offset: int, limit: int) -> Page[CorrectionOrder]:
    """Orders newest first: all of them (`everything`), else the sanctioned ones and those of
    `visible_to_participant`."""
    query = select(CorrectionOrder)
    if not everything:
        public = CorrectionOrder.status.in_(corrections.SANCTIONED)
        query = query.where(public | (CorrectionOrder.participant_id == visible_to_participant)
                            if visible_to_participant is not None else public)
    if status:
        query = query.where(CorrectionOrder.status == status)
    if batch_id:
        query = query.where(CorrectionOrder.batch_id == batch_id)
    return paginate(session, query.order_by(CorrectionOrder.id.desc()), offset, limit)
