"""Reduction filings' queries (Art. 14–17): filings, the assets they claim and the documents they carry."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import NamedTuple

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from registry.orm import Filing, FilingAsset, FilingDocument
from registry.pagination import Page, paginate


class FiledPeriodRow(NamedTuple):
    """A filing's monitoring period, as the double-counting check reads it."""

    id: int
    project_id: int
    monitoring_start: date
    monitoring_end: date


def filing(session: Session, filing_id: int, *, for_update: bool = False) -> Filing | None:
    """The filing, or None; locked when the caller moves it on."""
    return session.get(Filing, filing_id, with_for_update=for_update)


def periods_filed_for(session: Session, project_id: int, assets: list[str],
                      states: Sequence[str]) -> list[FiledPeriodRow]:
    """The periods of the filings in `states` of this project, or claiming one of these assets."""
    rows = session.execute(
        select(Filing.id, Filing.project_id, Filing.monitoring_start, Filing.monitoring_end)
        .where(Filing.status.in_(states),
               or_(Filing.project_id == project_id,
                   Filing.id.in_(select(FilingAsset.filing_id).where(FilingAsset.asset_identifier.in_(assets)))))
    ).all()
    return [FiledPeriodRow(*row) for row in rows]


def claimed_assets(session: Session, filing_id: int) -> tuple[str, ...]:
    """The asset identifiers a filing claims."""
    return tuple(session.scalars(select(FilingAsset.asset_identifier).where(FilingAsset.filing_id == filing_id)))


def filing_assets(session: Session, filing_id: int) -> list[FilingAsset]:
    """A filing's claims on its assets, as rows (to free them)."""
    return list(session.scalars(select(FilingAsset).where(FilingAsset.filing_id == filing_id)))


def documents_of(session: Session, filing_id: int) -> list[FilingDocument]:
    """A filing's documents, by kind."""
    return list(session.scalars(select(FilingDocument).where(FilingDocument.filing_id == filing_id)
                                .order_by(FilingDocument.kind)))


def document_kinds(session: Session, filing_id: int) -> set[str]:
    """The kinds of document a filing carries."""
    return set(session.scalars(select(FilingDocument.kind).where(FilingDocument.filing_id == filing_id)))


def filing_page(session: Session, *, states: Sequence[str] | None, of_participant: int | None, status: str | None,
                project_id: int | None, offset: int, limit: int) -> Page[Filing]:
    """Filings, newest first: in `states` when given; owned or verified by `of_participant` when given; of a
    status and a project when given."""
    query = select(Filing)
    if states is not None:
        query = query.where(Filing.status.in_(states))
    if of_participant is not None:
        query = query.where(or_(Filing.owner_participant_id == of_participant,
                                Filing.verifier_participant_id == of_participant))
    if status:
        query = query.where(Filing.status == status)
    if project_id:
        query = query.where(Filing.project_id == project_id)
    return paginate(session, query.order_by(Filing.id.desc()), offset, limit)
