"""Revocation (收回, Art. 26): the bureau takes back a batch, or part of it, issued on false material."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

from registry import ledger, serials
from registry.errors import NotFound, StateConflict
from registry.orm import (
    Balance,
    Batch,
    Participant,
    Project,
    Retirement,
    RetirementBlock,
    Revocation,
    SerialBlock,
)
from registry.principals import Principal
from registry.services import holdings, retirements
from registry.unit_of_work import UnitOfWork


def revoke(uow: UnitOfWork, principal: Principal, batch_id: int, *, quantity_t: int | None, reason: str,
           notice: str) -> Revocation:
    """Release the holds on the batch, move its unretired credits to revoked wherever they sit (for a partial
    revocation the owner's own holdings first, then the lowest serials), disqualify the owner and publish a
    notice. Retirements already made stay retired and are flagged in disclosure."""
    # FOR NO KEY UPDATE: rows that merely reference the batch (blocks, retirement blocks) can still be written.
    batch = uow.session.get(Batch, batch_id, with_for_update={"key_share": True})
    if batch is None:
        raise NotFound(f"Batch {batch_id} not found.", f"未找到批次 {batch_id}。")
    project = uow.session.get(Project, batch.project_id)
    assert project is not None
    owner_account = holdings.main_account(uow, project.owner_participant_id)
    # Lock every balance of this batch, in the one fixed order, before reading what may move: retirement
    # requests, transfers and trades of the batch now queue behind the revocation instead of racing it.
    asset = ledger.credit_asset(batch_id)
    held_by = set(uow.session.scalars(select(Balance.account_id).where(Balance.asset == asset)))
    holdings.lock_balances(uow, {(account, asset, bucket) for account in held_by
                                 for bucket in (ledger.AVAILABLE, ledger.HELD, ledger.REVOKED)})
    pending = uow.session.scalars(
        select(Retirement).where(Retirement.status == "requested",
                                 Retirement.id.in_(select(RetirementBlock.retirement_id)
                                                   .where(RetirementBlock.batch_id == batch_id)))
        .order_by(Retirement.account_id, Retirement.id).with_for_update())
    for retirement in pending:
        retirements.cancel(uow, retirement, f"batch {batch.code} revoked (Art. 26)")
    rows = list(uow.session.scalars(
        select(SerialBlock).where(SerialBlock.batch_id == batch_id, SerialBlock.live,
                                  SerialBlock.bucket == ledger.AVAILABLE)))
    unretired = sum(r.serial_end - r.serial_start + 1 for r in rows)
    wanted = unretired if quantity_t is None else quantity_t
    if wanted > unretired:
        raise StateConflict(f"Only {unretired} t of {batch.code} are unretired; {wanted} t asked.",
                            f"{batch.code} 仅有 {unretired} 吨未注销，申请收回 {wanted} 吨。")
    by_account: dict[int, list[serials.Block]] = defaultdict(list)
    need = wanted
    for row in sorted(rows, key=lambda r: (r.account_id != owner_account.id, r.serial_start)):
        if need == 0:
            break
        take = min(need, row.serial_end - row.serial_start + 1)
        by_account[row.account_id].append(serials.Block(row.serial_start, row.serial_start + take - 1, batch_id))
        need -= take
    revoked = 0
    for account_id in sorted(by_account):
        moved = holdings.move_credits(uow, "revocation", source=(account_id, ledger.AVAILABLE),
                                      target=(account_id, ledger.REVOKED), ranges=by_account[account_id],
                                      reference=f"batch:{batch_id}", memo=reason)
        revoked += moved.quantity
    owner = uow.session.get(Participant, project.owner_participant_id, with_for_update=True)
    assert owner is not None
    if owner.status != "disqualified":
        owner.status = "disqualified"
        uow.audit("participant.status_changed", "participant", owner.id,
                  {"to": "disqualified", "reason": f"Art. 26: {reason}"})
    revocation = Revocation(batch_id=batch_id, quantity_t=revoked, reason=reason, notice=notice,
                            revoked_by=principal.user_id, created_at=uow.now())
    uow.session.add(revocation)
    uow.session.flush()
    uow.audit("batch.revoked", "batch", batch_id,
              {"code": batch.code, "quantity_t": revoked, "reason": reason, "notice": notice})
    return revocation
