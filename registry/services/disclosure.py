"""Public disclosure (Art. 24–25): issuances, retirements, revocations and the life of any serial number."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from registry import serials
from registry.errors import NotFound
from registry.orm import Batch, Retirement, Revocation
from registry.pagination import Page
from registry.repositories import disclosure as disclosure_repo
from registry.repositories import issuance as issuance_repo
from registry.repositories import ledger as ledger_repo
from registry.repositories import retirements as retirement_repo
from registry.repositories import revocations as revocation_repo
from registry.unit_of_work import UnitOfWork

PUBLIC_BUCKET = {"held": "available"}


def batch_context(uow: UnitOfWork, batch: Batch) -> dict[str, Any]:
    """The batch with its project and methodology, as the public sees them."""
    origin = disclosure_repo.origin_of(uow.session, batch)
    project, filing, version, methodology = origin.project, origin.filing, origin.version, origin.methodology
    revoked = revocation_repo.revoked_t(uow.session, batch.id)
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
    """Issued batches newest first, of one project or all."""
    return disclosure_repo.issuances_page(uow.session, offset, limit, project_id)


def revocations(uow: UnitOfWork, offset: int, limit: int) -> Page[Revocation]:
    """Revocations newest first."""
    return revocation_repo.revocations_page(uow.session, offset, limit)


def batch_of(uow: UnitOfWork, batch_id: int) -> Batch:
    """A batch known to exist (named by a revocation, a retirement block or a use case that just wrote it)."""
    batch = issuance_repo.batch(uow.session, batch_id)
    assert batch is not None
    return batch


def vintages_of(uow: UnitOfWork, batch_ids: Iterable[int]) -> dict[int, int]:
    """The vintage of each of these batches, which labels their serial blocks (serials.block_label)."""
    return issuance_repo.vintages_of(uow.session, batch_ids)


def retirement_flags(uow: UnitOfWork, retirement: Retirement) -> list[str]:
    """Batches of this retirement that were later revoked (Art. 26): the retirement stands but is flagged."""
    batch_ids = retirement_repo.batch_ids_of(uow.session, retirement.id)
    return sorted(disclosure_repo.revoked_batch_codes(uow.session, batch_ids))


def serial_life(uow: UnitOfWork, query: serials.SerialQuery) -> dict[str, Any]:
    """Any serial number → its batch, project, methodology, and every movement it went through. A label
    must name the batch the serial really belongs to, so a forged label never looks verified."""
    serial = query.serial
    batch = disclosure_repo.batch_of_serial(uow.session, serial)
    if batch is None or (query.batch_id is not None and (query.batch_id, query.vintage) != (batch.id, batch.vintage)):
        raise NotFound(f"Serial number {serial} was never issued under that label.",
                       f"序列号 {serial} 未以该编号签发。")
    blocks = disclosure_repo.blocks_of_serial(uow.session, serial)
    # The public sees where a tonne went, not who holds it: holders are numbered in order of appearance,
    # and a hold (for an order or a pending retirement) is no movement until it completes.
    events: list[dict[str, Any]] = []
    holders: dict[int, int] = {}
    previous: tuple[int, str] | None = None
    holder_changes = 0  # every move to another account: a trade's delivery as much as a transfer
    for block in blocks:
        bucket = PUBLIC_BUCKET.get(block.bucket, block.bucket)
        if (block.account_id, bucket) == previous:
            continue
        if previous is not None and previous[0] != block.account_id:
            holder_changes += 1
        previous = (block.account_id, bucket)
        holder = holders.setdefault(block.account_id, len(holders) + 1)
        entry = ledger_repo.journal_entry(uow.session, block.created_entry_id)
        assert entry is not None
        events.append({"at": entry.created_at.isoformat(), "kind": entry.kind, "status": bucket, "holder": holder,
                       "block": serials.block_label(batch.vintage, batch.id, block.serial_start, block.serial_end)})
    current = next(b for b in blocks if b.live)
    status = PUBLIC_BUCKET.get(current.bucket, current.bucket)
    retirement = None
    if status == "retired":
        ret = retirement_repo.executed_of_serial(uow.session, serial)
        if ret is not None:
            retirement = {"code": ret.code, "purpose": ret.purpose, "beneficiary": ret.beneficiary,
                          "details": ret.details,
                          "executed_at": ret.executed_at.isoformat() if ret.executed_at else None}
    return {
        "serial": serial, "serial_label": serials.serial_label(batch.vintage, batch.id, serial),
        **batch_context(uow, batch), "status": status, "transferred_times": holder_changes,
        "holders": len(holders), "retirement": retirement, "events": events,
    }
