"""Retirement (注销, Art. 21): a holder asks, the credits are held, the operations center retires them on
the platform; a retired tonne never moves again. Certificates name the serial blocks."""

from __future__ import annotations

from typing import Any

from registry import ledger, numbering, serials
from registry.errors import NotFound, RuleViolation
from registry.orm import Retirement, RetirementBlock
from registry.pagination import Page
from registry.principals import Principal
from registry.repositories import issuance as issuance_repo
from registry.repositories import retirements as retirement_repo
from registry.services import events, holdings, ledger_accounts, participants
from registry.unit_of_work import UnitOfWork
from rules import retirement as retirement_rules


def request(uow: UnitOfWork, principal: Principal, *, account_id: int | None, quantity_t: int,
            batch_id: int | None, purpose: str, beneficiary: str, details: dict[str, Any],
            auto_execute: bool) -> Retirement:
    """Hold `quantity_t` (lowest serials first) for retirement; executed at once when configured so."""
    participants.require_active(uow, principal.participant_id, "retire credits", "注销减排量")
    account = (ledger_accounts.own_account(uow, principal.participant_id, account_id) if account_id
               else ledger_accounts.main_account(uow, principal.participant_id))
    batch_code = None
    if batch_id is not None:
        batch = issuance_repo.batch(uow.session, batch_id)
        batch_code = batch.code if batch is not None else str(batch_id)
    available_t = retirement_repo.available_t(uow.session, account.id, batch_id)
    problems = retirement_rules.check_quantity(quantity_t, available_t, batch_code=batch_code)
    if problems:
        raise RuleViolation(problems)
    moved = holdings.move_credits(uow, "retirement_hold", source=(account.id, ledger.AVAILABLE),
                                  target=(account.id, ledger.HELD), quantity=quantity_t,
                                  batch_ids=[batch_id] if batch_id else None, memo=f"retirement for {beneficiary}")
    retirement = Retirement(code=f"JXR-{uow.today().year}-{numbering.take(uow, 'retirement'):06d}",
                            account_id=account.id,
                            participant_id=principal.participant_id, batch_id=batch_id, quantity_t=quantity_t,
                            purpose=purpose, beneficiary=beneficiary, details=details, status="requested",
                            requested_at=uow.now())
    uow.session.add(retirement)
    uow.session.flush()
    for block in moved.blocks:
        uow.session.add(RetirementBlock(retirement_id=retirement.id, batch_id=block.batch_id,
                                        serial_start=block.start, serial_end=block.end))
    if purpose == "event_neutrality" and details.get("event_id") is not None:
        # The registered event this retirement backs: one event only (a unique key in the database too).
        events.back_with(uow, principal, int(details["event_id"]), retirement)
    uow.audit("retirement.requested", "retirement", retirement.id,
              {"code": retirement.code, "quantity_t": quantity_t, "purpose": purpose, "beneficiary": beneficiary,
               "details": details, "blocks": [[b.batch_id, b.start, b.end] for b in moved.blocks]})
    if auto_execute:
        execute(uow, retirement)
    return retirement


def blocks_of(uow: UnitOfWork, retirement_id: int) -> list[serials.Block]:
    """The retirement's serial blocks in serial order."""
    return [serials.Block(r.serial_start, r.serial_end, r.batch_id)
            for r in retirement_repo.blocks_of(uow.session, retirement_id)]


def get(uow: UnitOfWork, retirement_id: int, for_update: bool = False) -> Retirement:
    retirement = retirement_repo.retirement(uow.session, retirement_id, for_update=for_update)
    if retirement is None:
        raise NotFound(f"Retirement {retirement_id} not found.", f"未找到注销 {retirement_id}。")
    return retirement


def get_visible(uow: UnitOfWork, viewer: Principal | None, retirement_id: int, for_update: bool = False) -> Retirement:
    """Executed retirements are public; a request is seen by its holder and the operations center."""
    retirement = get(uow, retirement_id, for_update)
    if retirement.status == "executed":
        return retirement
    if viewer is not None and (viewer.participant_id == retirement.participant_id or viewer.has("operator", "bureau")):
        return retirement
    raise NotFound(f"Retirement {retirement_id} not found.", f"未找到注销 {retirement_id}。")


def execute(uow: UnitOfWork, retirement: Retirement) -> Retirement:
    """The operations center retires exactly the held serial blocks of this request."""
    problems = retirement_rules.check_execute(retirement.status)
    if problems:
        raise RuleViolation(problems)
    participants.require_active(uow, retirement.participant_id, "retire credits", "注销减排量")
    holdings.move_credits(uow, "retirement", source=(retirement.account_id, ledger.HELD),
                          target=(retirement.account_id, ledger.RETIRED), ranges=blocks_of(uow, retirement.id),
                          reference=f"retirement:{retirement.id}", memo=retirement.code)
    retirement.status = "executed"
    retirement.executed_at = uow.now()
    retirement.executed_by = uow.actor.user_id if uow.actor else None
    uow.audit("retirement.executed", "retirement", retirement.id, {"code": retirement.code})
    return retirement


def cancel(uow: UnitOfWork, retirement: Retirement, reason: str) -> Retirement:
    """Release the hold of a request not yet executed."""
    problems = retirement_rules.check_cancel(retirement.status)
    if problems:
        raise RuleViolation(problems)
    holdings.move_credits(uow, "retirement_release", source=(retirement.account_id, ledger.HELD),
                          target=(retirement.account_id, ledger.AVAILABLE), ranges=blocks_of(uow, retirement.id),
                          reference=f"retirement:{retirement.id}", memo=reason)
    retirement.status = "cancelled"
    uow.audit("retirement.cancelled", "retirement", retirement.id, {"reason": reason})
    return retirement


def list_retirements(uow: UnitOfWork, viewer: Principal | None, *, status: str | None, mine: bool,
                     purpose: str | None, offset: int, limit: int) -> Page[Retirement]:
    """A viewer's own requests (`mine`); else every retirement for the operations center and the bureau, the
    executed ones for anyone else."""
    return retirement_repo.retirements_page(
        uow.session, participant_id=viewer.participant_id if mine and viewer is not None else None,
        executed_only=viewer is None or not viewer.has("operator", "bureau"), status=status, purpose=purpose,
        offset=offset, limit=limit)


# The use cases of the API that are not under an Idempotency-Key (a request is: idempotency.replay_or_act
# commits it): each commits once.

def execute_request(uow: UnitOfWork, retirement_id: int) -> Retirement:
    """The operations center executes a request (see `execute`); commits."""
    retirement = execute(uow, get(uow, retirement_id, for_update=True))
    uow.commit()
    return retirement


def cancel_request(uow: UnitOfWork, viewer: Principal, retirement_id: int, reason: str) -> Retirement:
    """Its holder or the operations center withdraws a request not yet executed (see `cancel`); commits."""
    # Visible means: the holder's own request, or any request to the operations center.
    retirement = cancel(uow, get_visible(uow, viewer, retirement_id, for_update=True), reason)
    uow.commit()
    return retirement
