"""Queries of public disclosure (Art. 24–25): where a batch comes from, the issuances list, the batches a serial
number belongs to and the blocks it went through. They read the tables of issuance, projects, filings and
methodologies as the public sees them, so they live here rather than in those areas."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.orm import Batch, Filing, Methodology, MethodologyVersion, Project, Revocation, SerialBlock
from registry.pagination import Page, paginate


@dataclass(frozen=True, slots=True)
class Origin:
    """A batch's project, filing, and the methodology (and version) the filing used, if still known."""

    project: Project
    filing: Filing
    version: MethodologyVersion | None
    methodology: Methodology | None


def origin_of(session: Session, batch: Batch) -> Origin:
    """The project, filing and methodology the batch was issued under."""
    project = session.get(Project, batch.project_id)
    filing = session.get(Filing, batch.filing_id)
    assert project is not None and filing is not None
    version = session.get(MethodologyVersion, filing.methodology_version_id)
    methodology = session.get(Methodology, version.methodology_id) if version else None
    return Origin(project, filing, version, methodology)


def issuances_page(session: Session, offset: int, limit: int, project_id: int | None) -> Page[Batch]:
    """Issued batches newest first, of one project or all."""
    query = select(Batch)
    if project_id:
        query = query.where(Batch.project_id == project_id)
    return paginate(session, query.order_by(Batch.id.desc()), offset, limit)


def revoked_batch_codes(session: Session, batch_ids: Iterable[int]) -> set[str]:
    """The codes of those of these batches that were revoked (in part or whole)."""
    ids = set(batch_ids)
    return set(session.scalars(select(Batch.code).where(
        Batch.id.in_(select(Revocation.batch_id).where(Revocation.batch_id.in_(ids))))))


def batch_of_serial(session: Session, serial: int) -> Batch | None:
    """The batch whose serial range holds this serial number."""
    return session.scalar(select(Batch).where(Batch.serial_start <= serial, Batch.serial_end >= serial))


def blocks_of_serial(session: Session, serial: int) -> list[SerialBlock]:
    """Every serial block (live or ended) that held this serial number, in the order they were made."""
    return list(session.scalars(
        select(SerialBlock).where(SerialBlock.serial_start <= serial, SerialBlock.serial_end >= serial)
        .order_by(SerialBlock.created_entry_id)))
