"""Public disclosure (Art. 24–25): issuances, retirements, revocations and the life of any serial number."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from registry import serials
from registry.errors import NotFound
from registry.orm import (
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

PUBLIC_BUCKET = {"held": "available"}


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


def serial_life(uow: UnitOfWork, query: serials.SerialQuery) -> dict[str, Any]:
    """Any serial number → its batch, project, methodology, and every movement it went through. A label
    must name the batch the serial really belongs to, so a forged label never looks verified."""
    serial = query.serial
    batch = uow.session.scalar(select(Batch).where(Batch.serial_start <= serial, Batch.serial_end >= serial))
    if batch is None or (query.batch_id is not None and (query.batch_id, query.vintage) != (batch.id, batch.vintage)):
        raise NotFound(f"Serial number {serial} was never issued under that label.",
                       f"序列号 {serial} 未以该编号签发。")
    blocks = list(uow.session.scalars(
        select(SerialBlock).where(SerialBlock.serial_start <= serial, SerialBlock.serial_end >= serial)
        .order_by(SerialBlock.created_entry_id)))
    # The public sees where a tonne went, not who holds it: holders are numbered in order of appearance,
    # and a hold (for an order or a pending retirement) is no movement until it completes.
    events: list[dict[str, Any]] = []
    holders: dict[int, int] = {}
    previous: tuple[int, str] | None = None
    transfers = 0
    for block in blocks:
        bucket = PUBLIC_BUCKET.get(block.bucket, block.bucket)
        if (block.account_id, bucket) == previous:
            continue
        if previous is not None and previous[0] != block.account_id:
            transfers += 1
        previous = (block.account_id, bucket)
        holder = holders.setdefault(block.account_id, len(holders) + 1)
        entry = uow.session.get(JournalEntry, block.created_entry_id)
        assert entry is not None
        events.append({"at": entry.created_at.isoformat(), "kind": entry.kind, "status": bucket, "holder": holder,
                       "block": serials.block_label(batch.vintage, batch.id, block.serial_start, block.serial_end)})
    current = next(b for b in blocks if b.live)
    status = PUBLIC_BUCKET.get(current.bucket, current.bucket)
    retirement = None
    if status == "retired":
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
        **batch_context(uow, batch), "status": status, "transferred_times": transfers,
        "holders": len(holders), "retirement": retirement, "events": events,
    }
