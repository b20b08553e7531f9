"""Queries of the registrations imported from other mechanisms (CCER, CDM, VCS, ...), for Art. 13(3)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from registry.orm import ExternalRegistration
from registry.pagination import Page, paginate


def registration(session: Session, mechanism: str, external_id: str) -> ExternalRegistration | None:
    """The imported registration with this key, or None."""
    return session.scalar(select(ExternalRegistration).where(ExternalRegistration.mechanism == mechanism,
                                                             ExternalRegistration.external_id == external_id))


def registrations_naming(session: Session, asset_identifiers: list[str],
                         credit_code: str | None) -> list[ExternalRegistration]:
    """The registrations naming one of these assets, or the organisation with this credit code."""
    match: list[ColumnElement[bool]] = [ExternalRegistration.asset_identifier.in_(asset_identifiers)]
    if credit_code:
        match.append(ExternalRegistration.credit_code == credit_code)
    return list(session.scalars(select(ExternalRegistration).where(or_(*match))
                                .order_by(ExternalRegistration.mechanism, ExternalRegistration.external_id)))


def registration_page(session: Session, offset: int, limit: int) -> Page[ExternalRegistration]:
    """Imported registrations, by mechanism and id."""
    query = select(ExternalRegistration).order_by(ExternalRegistration.mechanism, ExternalRegistration.external_id)
    return paginate(session, query, offset, limit)
