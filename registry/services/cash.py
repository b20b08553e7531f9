"""Cash in fen in the same double-entry ledger as the credits: the operator records deposits and
withdrawals from bank confirmations; trading later holds and settles it."""

from __future__ import annotations

from sqlalchemy import select

from registry import ledger
from registry.errors import NotFound, StateConflict
from registry.orm import Balance, CashMovement, Participant
from registry.principals import Principal
from registry.services import holdings
from registry.unit_of_work import UnitOfWork


def record(uow: UnitOfWork, principal: Principal, *, participant_id: int, kind: str, amount_fen: int,
           bank_reference: str) -> CashMovement:
    """A deposit (bank → participant) or a withdrawal (participant's available cash → bank)."""
    if uow.session.get(Participant, participant_id) is None:
        raise NotFound(f"Participant {participant_id} not found.", f"未找到主体 {participant_id}。")
    if uow.session.scalar(select(CashMovement.id).where(CashMovement.bank_reference == bank_reference)):
        raise StateConflict(f"Bank confirmation {bank_reference} was already recorded.",
                            f"银行回单 {bank_reference} 已入账。")
    bank = holdings.bank_account(uow)
    account = holdings.main_account(uow, participant_id)
    source, target = (bank, account) if kind == "deposit" else (account, bank)
    entry = holdings.post(uow, f"cash_{kind}",
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


def balances(uow: UnitOfWork, participant_id: int) -> dict[str, int]:
    """The participant's cash by bucket (available, held) in fen."""
    account = holdings.main_account(uow, participant_id)
    rows = uow.session.scalars(select(Balance).where(Balance.account_id == account.id, Balance.asset == ledger.CASH)
                               .execution_options(populate_existing=True))
    result = {ledger.AVAILABLE: 0, ledger.HELD: 0}
    for row in rows:
        result[row.bucket] = row.amount
    return result


def movements(uow: UnitOfWork, participant_id: int) -> list[CashMovement]:
    return list(uow.session.scalars(select(CashMovement).where(CashMovement.participant_id == participant_id)
                                    .order_by(CashMovement.id.desc()).limit(200)))
