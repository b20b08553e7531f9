"""Queries of the market closures the operator recorded."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.orm import MarketClosure


def recorded_closures(session: Session) -> list[MarketClosure]:
    """Every recorded closure, by day."""
    return list(session.scalars(select(MarketClosure).order_by(MarketClosure.day)))


def closure(session: Session, day: date) -> MarketClosure | None:
    return session.get(MarketClosure, day)
