"""Revocation (收回, Art. 26): the bureau takes back a batch, or part of it, issued on false material."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

from registry import ledger, serials
from registry.errors import NotFound, StateConflict
from registry.orm import Batch, Participant, Project, Retirement, RetirementBlock, Revocation, SerialBlock
from registry.principals import Principal
from registry.services import holdings, retirements
from registry.unit_of_work import UnitOfWork


def revoke(uow: UnitOfWork, principal: Principal, batch_id: int, *, quantity_t: int | None, reason: str,
           notice: str) -> Revocation:
    """Release the holds on the batch, move its unretired credits (lowest serials first, or all) to revoked
    wherever they sit, disqualify the owner and publish a notice. Retirements already made stay retired and
    are flagged in disclosure."""
    batch = uow.session.get(Batch, batch_id, with_for_update=True)
    if batch is None:
        raise NotFound(f"Batch {batch_id} not found.", f"未找到批次 {batch_id}。")
    pending = uow.session.scalars(
        select(Retirement).where(Retirement.status == "requested",
                                 Retirement.id.in_(select(RetirementBlock.retirement_id)
                                                   .where(RetirementBlock.batch_id == batch_id)))
        .order_by(Retirement.id).with_for_update())
    for retirement in pending:
        retirements.cancel(uow, retirement, f"batch {batch.code} revoked (Art. 26)")
    live = [serials.Block(b.serial_start, b.serial_end, b.batch_id) for b in uow.session.scalars(
        select(SerialBlock).where(SerialBlock.batch_id == batch_id, SerialBlock.live.is_(True),
                                  SerialBlock.bucket == ledger.AVAILABLE))]
    holder_of = {(b.serial_start, b.serial_end): b.account_id for b in uow.session.scalars(
        select(SerialBlock).where(SerialBlock.batch_id == batch_id, SerialBlock.live.is_(True),
                                  SerialBlock.bucket == ledger.AVAILABLE))}
    unretired = serials.total(live)
    wanted = unretired if quantity_t is None else quantity_t
    if wanted > unretired:
        raise StateConflict(f"Only {unretired} t of {batch.code} are unretired; {wanted} t asked.",
                            f"{batch.code} 仅有 {unretired} 吨未注销，申请收回 {wanted} 吨。")
    revoked = 0
    if wanted:
        taken, _ = serials.take_lowest(live, wanted)
        by_account: dict[int, list[serials.Block]] = defaultdict(list)
        for piece in taken:
            owner_block = next(b for b in live if b.start <= piece.start <= b.end)
            by_account[holder_of[(owner_block.start, owner_block.end)]].append(piece)
        for account_id in sorted(by_account):
            moved = holdings.move_credits(uow, "revocation", source=(account_id, ledger.AVAILABLE),
                                          target=(account_id, ledger.REVOKED), ranges=by_account[account_id],
                                          reference=f"batch:{batch_id}", memo=reason)
            revoked += moved.quantity
    project = uow.session.get(Project, batch.project_id)
    assert project is not None
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


def revoked_quantity(uow: UnitOfWork, batch_id: int) -> int:
    return sum(r.quantity_t for r in uow.session.scalars(select(Revocation).where(Revocation.batch_id == batch_id)))
