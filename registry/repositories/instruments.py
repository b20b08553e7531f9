"""Queries of the instruments the exchange trades and of their books' owners."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from registry.orm import BookOwner, Instrument


def instrument_by_code(session: Session, code: str) -> Instrument | None:
    return session.scalar(select(Instrument).where(Instrument.code == code))


def instrument(session: Session, instrument_id: int) -> Instrument | None:
    return session.get(Instrument, instrument_id)


def code_taken(session: Session, code: str) -> bool:
    return session.scalar(select(Instrument.id).where(Instrument.code == code)) is not None


def covering_code(session: Session, vintage: int, methodology_field: str | None) -> str | None:
    """The code of an instrument that already covers batches of this vintage (and field): a vintage-wide
    instrument overlaps every field of its vintage."""
    query = select(Instrument.code).where(Instrument.vintage == vintage)
    if methodology_field is not None:
        query = query.where(or_(Instrument.methodology_field.is_(None),
                                Instrument.methodology_field == methodology_field))
    return session.scalar(query)


def code_of(session: Session, instrument_id: int) -> str | None:
    return session.scalar(select(Instrument.code).where(Instrument.id == instrument_id))


def all_instruments(session: Session) -> list[Instrument]:
    """Every instrument, by code."""
    return list(session.scalars(select(Instrument).order_by(Instrument.code)))


def book_epoch(session: Session, instrument_id: int, *, for_share: bool = False) -> int | None:
    """The current owner epoch of an instrument's book (`for_share`: locked FOR SHARE until the transaction
    ends)."""
    query = select(BookOwner.epoch).where(BookOwner.instrument_id == instrument_id)
    return session.scalar(query.with_for_update(read=True) if for_share else query)
