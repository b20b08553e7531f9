"""Retirement answers (注销, Art. 21): a retirement with its serial blocks, and its certificate."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from api.answers.disclosure import BatchOut
from registry import serials
from registry.clock import SHANGHAI
from registry.orm import Retirement
from registry.services import disclosure, retirements

REGISTRY_NAME = "嘉兴市碳普惠登记簿 · Jiaxing carbon-inclusive registry"


class RetirementOut(BaseModel):
    """A retirement request or an executed retirement, with the serial blocks it holds or retired."""

    id: int
    code: str
    status: str
    quantity_t: int
    purpose: str
    beneficiary: str
    details: dict[str, Any]
    requested_at: str
    executed_at: str | None
    serial_blocks: list[str]
    revoked_batches: list[str]
    verification_url: str


def retirement_out(uow: Any, r: Retirement, base_url: str) -> dict[str, Any]:
    """The retirement as JSON (kept as such under an Idempotency-Key, and a row of the CSV export)."""
    blocks = retirements.blocks_of(uow, r.id)
    vintages = disclosure.vintages_of(uow, {x.batch_id for x in blocks})
    return {
        "id": r.id, "code": r.code, "status": r.status, "quantity_t": r.quantity_t, "purpose": r.purpose,
        "beneficiary": r.beneficiary, "details": r.details, "requested_at": r.requested_at.isoformat(),
        "executed_at": r.executed_at.isoformat() if r.executed_at else None,
        "serial_blocks": [serials.block_label(vintages[b.batch_id], b.batch_id, b.start, b.end) for b in blocks],
        "revoked_batches": disclosure.retirement_flags(uow, r),
        # The human page of the web portal, which shows the JSON certificate below as verified.
        "verification_url": f"{base_url}/portal/#/certificates/{r.id}",
    }


class CertificateOut(BaseModel):
    """A retirement certificate: what was retired, for whom, why, which serials, from which projects."""

    certificate: str
    registry: str
    retirement: RetirementOut
    sources: list[BatchOut]
    issued_on: str


def certificate_of(uow: Any, retirement_id: int, base_url: str) -> dict[str, Any]:
    """The certificate of an executed retirement (anyone may see it): what was retired, for whom, why, which
    serials, from which projects and methodologies. The JSON and the PDF certificate are both made from it."""
    retirement = retirements.get_visible(uow, None, retirement_id)
    body = retirement_out(uow, retirement, base_url)
    batch_ids = sorted({b.batch_id for b in retirements.blocks_of(uow, retirement.id)})
    sources = [disclosure.batch_context(uow, disclosure.batch_of(uow, batch_id)) for batch_id in batch_ids]
    return {"certificate": retirement.code, "registry": REGISTRY_NAME, "retirement": body, "sources": sources,
            "issued_on": (retirement.executed_at or retirement.requested_at).astimezone(SHANGHAI).date().isoformat()}
