"""The public disclosure's answers (Art. 24–26): a batch with its origin, a revocation with its notice, the life
of a serial number."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from registry.orm import Revocation
from registry.services import disclosure


class BatchOut(BaseModel):
    """An issued batch with its serial block, project and methodology, as the public sees it."""

    batch_id: int
    batch_code: str
    vintage: int
    quantity_t: int
    serial_block: str
    serial_start: int
    serial_end: int
    issued_at: str
    project_id: int
    project_code: str | None
    project_title: str
    county_code: str
    filing_code: str | None
    monitoring_period: list[str]
    methodology_code: str | None
    methodology_title_zh: str | None
    methodology_version: int | None
    revoked_t: int


class RevocationOut(BaseModel):
    """A revocation with its public notice and the batch it took back from."""

    id: int
    quantity_t: int
    reason: str
    notice: str
    created_at: str
    batch: BatchOut


def revocation_out(uow: Any, revocation: Revocation) -> dict[str, Any]:
    return {"id": revocation.id, "quantity_t": revocation.quantity_t, "reason": revocation.reason,
            "notice": revocation.notice, "created_at": revocation.created_at.isoformat(),
            "batch": disclosure.batch_context(uow, disclosure.batch_of(uow, revocation.batch_id))}


class SerialEventOut(BaseModel):
    at: str
    kind: str
    status: str
    holder: int
    block: str


class SerialRetirementOut(BaseModel):
    code: str
    purpose: str
    beneficiary: str
    details: dict[str, Any]
    executed_at: str | None


class SerialLifeOut(BatchOut):
    """A serial number: its batch and origin (BatchOut's fields), where it stands, and every movement it went
    through (holders numbered in order of appearance, never named)."""

    serial: int
    serial_label: str
    status: str
    # How many times the tonne changed holder (a trade's delivery as much as a transfer): the field keeps its
    # public name; in the code "transfer" means only the holder's own move to another account.
    transferred_times: int
    holders: int
    retirement: SerialRetirementOut | None
    events: list[SerialEventOut]
