"""Public disclosure (Art. 24–25): issuances, retirements, revocations and the life of any serial number."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from registry import serials
from registry.errors import NotFound
from registry.orm import (
    Account,
    Batch,
    Filing,
    JournalEntry,
    Methodology,
    MethodologyVersion,
    Project,
    Retirement,
    RetirementBlock,
    Revocation,
    SerialBlock,
)
from registry.pagination import Page, paginate
from registry.unit_of_work import UnitOfWork


def batch_context(uow: UnitOfWork, batch: Batch) -> dict[str, Any]:
    """The batch with its project and methodology, as the public sees them."""
    project = uow.session.get(Project, batch.project_id)
    filing = uow.session.get(Filing, batch.filing_id)
    assert project is not None and filing is not None
    version = uow.session.get(MethodologyVersion, filing.methodology_version_id)
    methodology = uow.session.get(Methodology, version.methodology_id) if version else None
    revoked = sum(r.quantity_t for r in uow.session.scalars(select(Revocation).where(Revocation.batch_id == batch.id)))
    return {
        "batch_id": batch.id, "batch_code": batch.code, "vintage": batch.vintage, "quantity_t": batch.quantity_t,
        "serial_block": serials.block_label(batch.vintage, batch.id, batch.serial_start, batch.serial_end),
        "serial_start": batch.serial_start, "serial_end": batch.serial_end, "issued_at": batch.issued_at.isoformat(),
        "project_id": project.id, "project_code": project.code, "project_title": project.title,
        "county_code": project.county_code, "filing_code": filing.code,
        "monitoring_period": [filing.monitoring_start.isoformat(), filing.monitoring_end.isoformat()],
        "methodology_code": methodology.code if methodology else None,
        "methodology_title_zh": methodology.title_zh if methodology else None,
        "methodology_version": version.version if version else None, "revoked_t": revoked,
    }


def issuances(uow: UnitOfWork, offset: int, limit: int, project_id: int | None) -> Page[Batch]:
    query = select(Batch)
    if project_id:
        query = query.where(Batch.project_id == project_id)
    return paginate(uow.session, query.order_by(Batch.id.desc()), offset, limit)


def revocations(uow: UnitOfWork, offset: int, limit: int) -> Page[Revocation]:
    return paginate(uow.session, select(Revocation).order_by(Revocation.id.desc()), offset, limit)


def retirement_flags(uow: UnitOfWork, retirement: Retirement) -> list[str]:
    """Batches of this retirement that were later revoked (Art. 26): the retirement stands but is flagged."""
    batch_ids = set(uow.session.scalars(
        select(RetirementBlock.batch_id).where(RetirementBlock.retirement_id == retirement.id)))
    revoked = uow.session.scalars(select(Batch.code).where(
        Batch.id.in_(select(Revocation.batch_id).where(Revocation.batch_id.in_(batch_ids)))))
    return sorted(set(revoked))


def serial_life(uow: UnitOfWork, serial: int) -> dict[str, Any]:
    """Any serial number → its batch, project, methodology, and every movement it went through."""
    batch = uow.session.scalar(select(Batch).where(Batch.serial_start <= serial, Batch.serial_end >= serial))
    if batch is None:
        raise NotFound(f"Serial number {serial} was never issued.", f"序列号 {serial} 未签发。")
    blocks = list(uow.session.scalars(
        select(SerialBlock).where(SerialBlock.serial_start <= serial, SerialBlock.serial_end >= serial)
        .order_by(SerialBlock.created_entry_id)))
    events: list[dict[str, Any]] = []
    transfers = 0
    previous: tuple[int, str] | None = None
    for block in blocks:
        # A split that leaves this serial where it was is no event in its life.
        if (block.account_id, block.bucket) == previous:
            continue
        if previous is not None and block.account_id != previous[0]:
            transfers += 1
        previous = (block.account_id, block.bucket)
        entry = uow.session.get(JournalEntry, block.created_entry_id)
        account = uow.session.get(Account, block.account_id)
        assert entry is not None and account is not None
        events.append({"at": entry.created_at.isoformat(), "kind": entry.kind, "bucket": block.bucket,
                       "account": account.code,
                       "block": serials.block_label(batch.vintage, batch.id, block.serial_start, block.serial_end)})
    current = next(b for b in blocks if b.live)
    holders = [e["account"] for e in events]
    retirement = None
    if current.bucket == "retired":
        ret = uow.session.scalar(select(Retirement)
                                 .join(RetirementBlock, RetirementBlock.retirement_id == Retirement.id)
                                 .where(RetirementBlock.serial_start <= serial, RetirementBlock.serial_end >= serial,
                                        Retirement.status == "executed"))
        if ret is not None:
            retirement = {"code": ret.code, "purpose": ret.purpose, "beneficiary": ret.beneficiary,
                          "details": ret.details,
                          "executed_at": ret.executed_at.isoformat() if ret.executed_at else None}
    return {
        "serial": serial, "serial_label": serials.serial_label(batch.vintage, batch.id, serial),
        **batch_context(uow, batch), "status": current.bucket, "transferred_times": transfers,
        "holders": len(dict.fromkeys(holders)), "retirement": retirement, "events": events,
    }
