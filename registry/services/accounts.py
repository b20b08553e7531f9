"""A holder's accounts as the API offers them: its accounts (the main one opened on first sight), a new
sub-account, and the live serial blocks of one account. The accounts themselves are kept by
registry.services.ledger_accounts and their blocks read by registry.services.holdings; these are the use cases
around them."""

from __future__ import annotations

from registry.orm import Account, SerialBlock
from registry.services import holdings, ledger_accounts
from registry.unit_of_work import UnitOfWork


def accounts(uow: UnitOfWork, participant_id: int) -> list[Account]:
    """The participant's holding accounts, its main account opened (and committed) first if it had none."""
    ledger_accounts.main_account(uow, participant_id)
    uow.commit()
    return ledger_accounts.accounts_of(uow, participant_id)


def open_sub_account(uow: UnitOfWork, participant_id: int, label: str) -> Account:
    """Open a sub-account for the participant; commits."""
    account = ledger_accounts.open_sub_account(uow, participant_id, label)
    uow.commit()
    return account


def live_blocks(uow: UnitOfWork, participant_id: int, account_id: int) -> list[SerialBlock]:
    """The live serial blocks of one of the participant's accounts, in serial order (another's is not found)."""
    ledger_accounts.own_account(uow, participant_id, account_id)
    return holdings.holdings(uow, [account_id])
