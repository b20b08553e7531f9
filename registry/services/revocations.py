"""Revocation (收回, Art. 26): the bureau takes back a batch, or part of it, issued on false material.

The batch is frozen first, in a transaction of its own (`freeze_batch`): no hold, transfer or retirement
request takes its credits from then on. The caller has the exchange withdraw whatever holds them, and only then
takes back (`revoke_batch`, or a correction order's sanction), which refuses while any is still held."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from registry import ledger, serials
from registry.errors import NotFound, RuleViolation, Unavailable
from registry.orm import Batch, Revocation
from registry.principals import Principal
from registry.repositories import corrections as correction_repo
from registry.repositories import issuance as issuance_repo
from registry.repositories import ledger as ledger_repo
from registry.repositories import participants as participant_repo
from registry.repositories import retirements as retirement_repo
from registry.repositories import revocations as revocation_repo
from registry.services import balances, holdings, ledger_accounts, retirements
from registry.unit_of_work import UnitOfWork
from rules import corrections, duties


def revoke(uow: UnitOfWork, principal: Principal, batch_id: int, *, quantity_t: int | None, reason: str,
           notice: str) -> Revocation:
    """Take credits back at once (Art. 26), for material that cannot be corrected because the reduction
    never happened; the public notice says so. Where material can be corrected, the bureau orders the
    correction first (registry.services.corrections), and only a rejected or missed correction takes back.
    An open correction order of the batch is superseded."""
    batch = lock_batch(uow, batch_id)
    require_independent(uow, principal, batch)
    revocation = take_back(uow, principal, batch, quantity_t=quantity_t, reason=reason,
                           notice=corrections.with_line(notice, corrections.uncorrectable_notice_line()))
    assert revocation is not None
    supersede_open_orders(uow, batch.id, revocation)
    return revocation


def lock_batch(uow: UnitOfWork, batch_id: int) -> Batch:
    """The batch, locked against other revocations (FOR NO KEY UPDATE: rows that merely reference it, blocks
    and retirement blocks, can still be written)."""
    batch = revocation_repo.batch_locked(uow.session, batch_id)
    if batch is None:
        raise NotFound(f"Batch {batch_id} not found.", f"未找到批次 {batch_id}。")
    return batch


def freeze(uow: UnitOfWork, principal: Principal, batch_id: int) -> Batch:
    """Shut the batch out of the exchange before taking it back: from the commit on, no hold, transfer or
    retirement request takes its credits (serial_blocks.plan_credits refuses them, JX-26). The caller then has the
    exchange withdraw what holds them, and only then takes back (`take_back` refuses while any is still held).
    Freezing a frozen batch again changes nothing, so a retried revocation passes here again."""
    batch = lock_batch(uow, batch_id)
    require_independent(uow, principal, batch)
    if batch.frozen_at is None:
        batch.frozen_at = uow.now()
        uow.audit("batch.frozen", "batch", batch.id, {"code": batch.code})
    return batch


def owner_of(uow: UnitOfWork, batch: Batch) -> int:
    """The participant that owns the batch's project."""
    return revocation_repo.owner_of(uow.session, batch)


def require_independent(uow: UnitOfWork, principal: Principal, batch: Batch) -> None:
    """Separation of duties: the bureau's staff take back nothing their own organisation owns."""
    problems = duties.check_own_interest(duties.REVOKE, principal.participant_id, {owner_of(uow, batch)})
    if problems:
        raise RuleViolation(problems)


def supersede_open_orders(uow: UnitOfWork, batch_id: int, revocation: Revocation) -> None:
    """Close the batch's open correction order: the credits were taken back at once instead."""
    for order in correction_repo.open_orders_of(uow.session, batch_id, for_update=True):
        order.status = corrections.SUPERSEDED
        order.revocation_id = revocation.id
        order.decided_by = revocation.revoked_by
        order.decided_at = revocation.created_at
        uow.audit("correction.superseded", "correction_order", order.id,
                  {"code": order.code, "revocation_id": revocation.id})


def disqualify(uow: UnitOfWork, participant_id: int, reason: str) -> None:
    """Art. 26: the participant loses its place in the carbon-inclusive market."""
    owner = participant_repo.participant(uow.session, participant_id, for_update=True)
    assert owner is not None
    if owner.status != "disqualified":
        previous, owner.status = owner.status, "disqualified"
        uow.audit("participant.status_changed", "participant", owner.id,
                  {"from": previous, "to": "disqualified", "reason": f"Art. 26: {reason}"})


def take_back(uow: UnitOfWork, principal: Principal, batch: Batch, *, quantity_t: int | None, reason: str,
              notice: str, nothing_left_ok: bool = False) -> Revocation | None:
    """Release the retirement holds on the batch, move its unretired credits to revoked wherever they sit (for a partial
    revocation the owner's own holdings first, then the lowest serials), disqualify the owner and publish a
    notice. Retirements already made stay retired and are flagged in disclosure. A batch with nothing left
    to take back is refused (JX-26): no notice for 0 t; with `nothing_left_ok` (a correction order's sanction,
    whose own notice is public) the owner is still disqualified and None is returned. Credits still held on
    the exchange (the batch is frozen first and the books withdraw what holds it: `freeze`) refuse it with
    Unavailable, to be retried; a partial take back lifts the freeze, a full one leaves it."""
    batch_id = batch.id
    owner_participant_id = owner_of(uow, batch)
    owner_account = ledger_accounts.main_account(uow, owner_participant_id)
    # Lock every balance of this batch, in the one fixed order, before reading what may move: retirement
    # requests, transfers and trades of the batch now queue behind the revocation instead of racing it.
    asset = ledger.credit_asset(batch_id)
    held_by = ledger_repo.holders_of(uow.session, asset)
    balances.lock_balances(uow, {(account, asset, bucket) for account in held_by
                                 for bucket in (ledger.AVAILABLE, ledger.HELD, ledger.REVOKED)})
    for retirement in retirement_repo.requested_of_batch(uow.session, batch_id):
        retirements.cancel(uow, retirement, f"batch {batch.code} revoked (Art. 26)")
    if ledger_repo.live_blocks_in(uow.session, batch_id, ledger.HELD):
        # The exchange still holds some (a book out of reach when it was told to withdraw them): nothing is
        # taken back, the freeze stays, and the same request completes once the books have let go.
        raise Unavailable(f"Credits of batch {batch.code} are still held on the exchange; nothing was taken back. "
                          "Retry shortly.", f"批次 {batch.code} 的部分减排量仍在交易系统中冻结，未作收回，请稍后重试。")
    rows = ledger_repo.live_blocks_in(uow.session, batch_id, ledger.AVAILABLE)
    unretired = sum(r.serial_end - r.serial_start + 1 for r in rows)
    if unretired == 0 and nothing_left_ok:
        disqualify(uow, owner_participant_id, reason)
        return None
    problems = corrections.check_take_back(unretired, quantity_t)
    if problems:
        raise RuleViolation(problems)
    wanted = unretired if quantity_t is None else quantity_t
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
    if revoked < unretired and batch.frozen_at is not None:  # a partial take back: the rest trades again
        batch.frozen_at = None
        uow.audit("batch.unfrozen", "batch", batch_id, {"code": batch.code, "left_t": unretired - revoked})
    disqualify(uow, owner_participant_id, reason)
    revocation = Revocation(batch_id=batch_id, quantity_t=revoked, reason=reason, notice=notice,
                            revoked_by=principal.user_id, created_at=uow.now())
    uow.session.add(revocation)
    uow.session.flush()
    uow.audit("batch.revoked", "batch", batch_id,
              {"code": batch.code, "quantity_t": revoked, "reason": reason, "notice": notice})
    return revocation


def freeze_batch(uow: UnitOfWork, principal: Principal, batch_id: int) -> Batch:
    """Freeze the batch (see `freeze`) and commit."""
    batch = freeze(uow, principal, batch_id)
    uow.commit()
    return batch


def held_on_exchange(uow: UnitOfWork, batch_id: int, instrument_id: int) -> set[int]:
    """The open orders, listings, proposals, auction lots and bids of one book that hold credits of the batch:
    what its writer withdraws before the batch is taken back."""
    return {o.id for o in revocation_repo.open_orders_holding(uow.session, batch_id, instrument_id)}


def books_holding(uow: UnitOfWork, batch_id: int) -> list[int]:
    """The instruments whose books hold credits of the batch in something open."""
    return sorted({o.instrument_id for o in revocation_repo.open_orders_holding(uow.session, batch_id)})


@dataclass(frozen=True, slots=True)
class Revoked:
    """A revocation the bureau made, its batch, and the batch's owner (who must then leave the exchange)."""

    revocation: Revocation
    batch: Batch
    owner_participant_id: int


def revoke_batch(uow: UnitOfWork, principal: Principal, batch_id: int, *, quantity_t: int | None, reason: str,
                 notice: str) -> Revoked:
    """Revoke (see `revoke`) and commit."""
    revocation = revoke(uow, principal, batch_id, quantity_t=quantity_t, reason=reason, notice=notice)
    uow.commit()
    batch = issuance_repo.batch(uow.session, batch_id)
    assert batch is not None
    return Revoked(revocation, batch, owner_of(uow, batch))
