"""The ledger's answers: accounts with their balances, live serial blocks, transfers, revocations and the
ledger check."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from api.answers.disclosure import BatchOut
from registry import serials
from registry.orm import Account, SerialBlock
from registry.services import disclosure, holdings, revocations, serial_blocks


class BalanceOut(BaseModel):
    asset: str
    bucket: str
    amount: int


class AccountOut(BaseModel):
    id: int
    code: str
    kind: str
    label: str
    balances: list[BalanceOut]


def account_out(uow: Any, account: Account) -> AccountOut:
    return AccountOut(id=account.id, code=account.code, kind=account.kind, label=account.label,
                      balances=[BalanceOut(asset=b.asset, bucket=b.bucket, amount=b.amount)
                                for b in holdings.balances_of(uow, [account.id])])


class BlockOut(BaseModel):
    block_id: str
    batch_id: int
    serial_start: int
    serial_end: int
    quantity_t: int
    bucket: str


def blocks_out(uow: Any, blocks: list[SerialBlock]) -> list[BlockOut]:
    """Live serial blocks, each labelled with its batch's vintage."""
    vintages = disclosure.vintages_of(uow, {b.batch_id for b in blocks})
    return [BlockOut(block_id=serials.block_label(vintages[b.batch_id], b.batch_id, b.serial_start, b.serial_end),
                     batch_id=b.batch_id, serial_start=b.serial_start, serial_end=b.serial_end,
                     quantity_t=b.serial_end - b.serial_start + 1, bucket=b.bucket) for b in blocks]


class MovedBlockOut(BaseModel):
    batch_id: int
    serial_start: int
    serial_end: int


class TransferOut(BaseModel):
    """A transfer: its journal entry and the serial blocks that moved."""

    entry_id: int
    quantity_t: int
    blocks: list[MovedBlockOut]


def transfer_out(moved: serial_blocks.Moved) -> dict[str, Any]:
    """The transfer's answer as the JSON an Idempotency-Key keeps."""
    return {"entry_id": moved.entry.id, "quantity_t": moved.quantity,
            "blocks": [{"batch_id": b.batch_id, "serial_start": b.start, "serial_end": b.end} for b in moved.blocks]}


class RevokedOut(BaseModel):
    """A revocation just made, with its batch."""

    id: int
    quantity_t: int
    reason: str
    notice: str
    batch: BatchOut


def revoked_out(uow: Any, revoked: revocations.Revoked) -> dict[str, Any]:
    revocation = revoked.revocation
    return {"id": revocation.id, "quantity_t": revocation.quantity_t, "reason": revocation.reason,
            "notice": revocation.notice, "batch": disclosure.batch_context(uow, revoked.batch)}


class BatchCheckOut(BaseModel):
    batch: str
    issued_t: int
    available_t: int
    held_t: int
    retired_t: int
    revoked_t: int


class LedgerCheckOut(BaseModel):
    """The ledger check: whether every conservation rule holds, the first problems found, and per batch where
    its tonnes are."""

    ok: bool
    entries_checked: int
    batches_checked: int
    problems: list[str]
    batches: list[BatchCheckOut]
