"""Plain registry transfers between accounts (a gift, a move to a sub-account) by the holder."""

from __future__ import annotations

from registry import ledger
from registry.errors import NotFound, RuleViolation
from registry.principals import Principal
from registry.repositories import ledger as ledger_repo
from registry.services import holdings, ledger_accounts, participants, serial_blocks
from registry.unit_of_work import UnitOfWork
from rules.violations import Violation


def transfer(uow: UnitOfWork, principal: Principal, *, from_account_id: int | None, to_account_code: str,
             quantity_t: int, batch_id: int | None, memo: str) -> serial_blocks.Moved:
    """Move available credits (lowest serials first) to another holding account."""
    participants.require_active(uow, principal.participant_id, "transfer credits", "转让减排量")
    source = (ledger_accounts.own_account(uow, principal.participant_id, from_account_id) if from_account_id
              else ledger_accounts.main_account(uow, principal.participant_id))
    target = ledger_repo.account_by_code(uow.session, to_account_code)
    if target is None or target.kind != "holding":
        raise NotFound(f"No holding account {to_account_code}.", f"未找到持有账户 {to_account_code}。")
    if target.participant_id is not None:
        problems = participants.counterparty_violations(uow, target.participant_id, "to_account_code")
        if problems:
            raise RuleViolation(problems)
    if target.id == source.id:
        raise RuleViolation([Violation("LEDGER", "Art. 20", "to_account_code", "转出与转入账户相同。",
                                       "The source and target accounts are the same.")])
    moved = holdings.move_credits(uow, "transfer", source=(source.id, ledger.AVAILABLE),
                                  target=(target.id, ledger.AVAILABLE), quantity=quantity_t,
                                  batch_ids=[batch_id] if batch_id else None,
                                  reference=f"account:{target.code}", memo=memo)
    uow.audit("credits.transferred", "account", source.id,
              {"from": source.code, "to": target.code, "quantity_t": quantity_t,
               "blocks": [[b.batch_id, b.start, b.end] for b in moved.blocks], "memo": memo})
    return moved
