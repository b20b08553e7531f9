"""Retirement (注销, Art. 21): a holder asks, the credits are held, the operations center retires them on
the platform; a retired tonne never moves again. Certificates name the serial blocks."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from registry import ledger, numbering, serials
from registry.errors import NotFound, RuleViolation
from registry.orm import Balance, Batch, Retirement, RetirementBlock
from registry.pagination import Page, paginate
from registry.principals import Principal
from registry.services import events, holdings, participants
from registry.unit_of_work import UnitOfWork
from rules import retirement as retirement_rules


def request(uow: UnitOfWork, principal: Principal, *, account_id: int | None, quantity_t: int,
            batch_id: int | None, purpose: str, beneficiary: str, details: dict[str, Any],
            auto_execute: bool) -> Retirement:
    """Hold `quantity_t` (lowest serials first) for retirement; executed at once when configured so."""
    participants.require_active(uow, principal.participant_id, "retire credits", "注销减排量")
    account = (holdings.own_account(uow, principal.participant_id, account_id) if account_id
               else holdings.main_account(uow, principal.participant_id))
    batch_code = None
    if batch_id is not None:
        batch = uow.session.get(Batch, batch_id)
        batch_code = batch.code if batch is not None else str(batch_id)
    problems = retirement_rules.check_quantity(quantity_t, _available_t(uow, account.id, batch_id),
                                               batch_code=batch_code)
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


def _available_t(uow: UnitOfWork, account_id: int, batch_id: int | None) -> int:
    """The credits available in the account (of one batch, or of all), as the balances have them."""
    query = select(func.coalesce(func.sum(Balance.amount), 0)).where(
        Balance.account_id == account_id, Balance.bucket == ledger.AVAILABLE)
    query = query.where(Balance.asset == ledger.credit_asset(batch_id)) if batch_id is not None \
        else query.where(Balance.asset.like("CREDIT:%"))
    return int(uow.session.scalar(query) or 0)


def blocks_of(uow: UnitOfWork, retirement_id: int) -> list[serials.Block]:
    return [serials.Block(r.serial_start, r.serial_end, r.batch_id) for r in uow.session.scalars(
        select(RetirementBlock).where(RetirementBlock.retirement_id == retirement_id)
        .order_by(RetirementBlock.serial_start))]


def get(uow: UnitOfWork, retirement_id: int, for_update: bool = False) -> Retirement:
    retirement = uow.session.get(Retirement, retirement_id, with_for_update=for_update)
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
    query = select(Retirement)
    if mine and viewer is not None:
        query = query.where(Retirement.participant_id == viewer.participant_id)
    elif viewer is None or not viewer.has("operator", "bureau"):
        query = query.where(Retirement.status == "executed")
    if status:
        query = query.where(Retirement.status == status)
    if purpose:
        query = query.where(Retirement.purpose == purpose)
    return paginate(uow.session, query.order_by(Retirement.id.desc()), offset, limit)
