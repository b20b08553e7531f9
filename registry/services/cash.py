"""Cash in fen in the same double-entry ledger as the credits: the operator records deposits and
withdrawals from bank confirmations; trading later holds and settles it.

`record` writes in the caller's transaction (set-ups record several at once); `record_confirmed` and
`statement` are the routes' use cases and commit."""

from __future__ import annotations

from registry import ledger
from registry.errors import NotFound, StateConflict
from registry.orm import CashMovement
from registry.principals import Principal
from registry.repositories import ledger as ledger_repo
from registry.repositories import participants as participant_repo
from registry.services import balances as balance_service
from registry.services import ledger_accounts
from registry.unit_of_work import UnitOfWork


def record(uow: UnitOfWork, principal: Principal, *, participant_id: int, kind: str, amount_fen: int,
           bank_reference: str) -> CashMovement:
    """A deposit (bank → participant) or a withdrawal (participant's available cash → bank)."""
    if participant_repo.participant(uow.session, participant_id) is None:
        raise NotFound(f"Participant {participant_id} not found.", f"未找到主体 {participant_id}。")
    if ledger_repo.bank_reference_recorded(uow.session, bank_reference):
        raise StateConflict(f"Bank confirmation {bank_reference} was already recorded.",
                            f"银行回单 {bank_reference} 已入账。")
    bank = ledger_accounts.bank_account(uow)
    account = ledger_accounts.main_account(uow, participant_id)
    source, target = (bank, account) if kind == "deposit" else (account, bank)
    entry = balance_service.post(uow, f"cash_{kind}",
                          ledger.move(ledger.CASH, amount_fen, (source.id, ledger.AVAILABLE),
                                      (target.id, ledger.AVAILABLE)),
                          reference=f"bank:{bank_reference}")
    movement = CashMovement(participant_id=participant_id, kind=kind, amount_fen=amount_fen,
                            bank_reference=bank_reference, entry_id=entry.id, recorded_by=principal.user_id,
                            created_at=uow.now())
    uow.session.add(movement)
    uow.session.flush()
    uow.audit(f"cash.{kind}", "participant", participant_id,
              {"amount_fen": amount_fen, "bank_reference": bank_reference, "entry_id": entry.id})
    return movement


def record_confirmed(uow: UnitOfWork, principal: Principal, *, participant_id: int, kind: str, amount_fen: int,
                     bank_reference: str) -> tuple[CashMovement, dict[str, int]]:
    """The operator records a bank-confirmed deposit or withdrawal (see `record`), and the participant's cash
    after it; commits."""
    movement = record(uow, principal, participant_id=participant_id, kind=kind, amount_fen=amount_fen,
                      bank_reference=bank_reference)
    uow.commit()
    return movement, balances(uow, movement.participant_id)


def statement(uow: UnitOfWork, participant_id: int) -> tuple[dict[str, int], list[CashMovement]]:
    """The participant's cash by bucket and its latest movements; commits, because reading the balances opens
    the participant's main account when it has none yet."""
    found = balances(uow, participant_id), movements(uow, participant_id)
    uow.commit()
    return found


def balances(uow: UnitOfWork, participant_id: int) -> dict[str, int]:
    """The participant's cash by bucket (available, held) in fen."""
    account = ledger_accounts.main_account(uow, participant_id)
    rows = ledger_repo.cash_balances(uow.session, account.id)
    result = {ledger.AVAILABLE: 0, ledger.HELD: 0}
    for row in rows:
        result[row.bucket] = row.amount
    return result


def movements(uow: UnitOfWork, participant_id: int) -> list[CashMovement]:
    """The participant's latest 200 cash movements, newest first."""
    return ledger_repo.cash_movements_of(uow.session, participant_id, 200)
