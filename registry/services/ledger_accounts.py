"""The ledger's accounts: the registry's own (the issuance source, the settlement bank, the fee income), opened
on first use, and a participant's holding accounts (its main account, opened on first use, and sub-accounts),
found by code or by owner. Use cases around them that commit are in registry.services.accounts."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from registry import numbering
from registry.errors import NotFound
from registry.orm import Account
from registry.unit_of_work import UnitOfWork

ISSUANCE_ACCOUNT = "JX-ISSUANCE"
BANK_ACCOUNT = "JX-BANK"
FEE_ACCOUNT = "JX-FEE"


def _system_account(uow: UnitOfWork, code: str, kind: str, label: str) -> Account:
    account = uow.session.scalar(select(Account).where(Account.code == code))
    if account is None:
        account = Account(code=code, participant_id=None, kind=kind, label=label, created_at=uow.now())
        uow.session.add(account)
        uow.session.flush()
    return account


def issuance_account(uow: UnitOfWork) -> Account:
    """The registry's source of credits: issuance is a movement out of it."""
    return _system_account(uow, ISSUANCE_ACCOUNT, "issuance", "签发来源 / issuance source")


def bank_account(uow: UnitOfWork) -> Account:
    """The settlement bank: deposits come out of it, withdrawals go back."""
    return _system_account(uow, BANK_ACCOUNT, "cash", "结算银行 / settlement bank")


def fee_account(uow: UnitOfWork) -> Account:
    """The exchange's fee income."""
    return _system_account(uow, FEE_ACCOUNT, "fee", "交易手续费 / exchange fees")


def fee_account_id(uow: UnitOfWork) -> int:
    """The id of the exchange's fee income account (read once per long-lived caller)."""
    return _known_id(uow, FEE_ACCOUNT, lambda: fee_account(uow))


def _known_id(uow: UnitOfWork, code: str, account: Callable[[], Account]) -> int:
    """An account's id by its code, remembered in `uow.cache.known_ids` (registry.caches says who keeps it
    and who forgets it)."""
    found = uow.cache.known_ids.get(code)
    if found is None:
        found = uow.cache.known_ids[code] = account().id
    return found


def source_account_ids(uow: UnitOfWork) -> set[int]:
    """The source accounts: they stand for the outside world (credits not yet issued, money at the settlement
    bank); movements out of them are what brings value in, so their balances alone may go negative."""
    return {_known_id(uow, ISSUANCE_ACCOUNT, lambda: issuance_account(uow)),
            _known_id(uow, BANK_ACCOUNT, lambda: bank_account(uow))}


def main_account(uow: UnitOfWork, participant_id: int) -> Account:
    """A participant's main holding account, opened on first use."""
    code = f"P{participant_id:06d}-MAIN"
    account = uow.session.scalar(select(Account).where(Account.code == code))
    if account is None:
        account = Account(code=code, participant_id=participant_id, kind="holding", label="主账户 / main",
                          created_at=uow.now())
        uow.session.add(account)
        uow.session.flush()
    return account


def main_account_id(uow: UnitOfWork, participant_id: int) -> int:
    """The id of a participant's main holding account (read once per long-lived caller)."""
    return _known_id(uow, f"P{participant_id:06d}-MAIN", lambda: main_account(uow, participant_id))


def open_sub_account(uow: UnitOfWork, participant_id: int, label: str) -> Account:
    number = numbering.take(uow, f"sub_account:{participant_id}")
    account = Account(code=f"P{participant_id:06d}-S{number:03d}", participant_id=participant_id,
                      kind="holding", label=label, created_at=uow.now())
    uow.session.add(account)
    uow.session.flush()
    uow.audit("account.opened", "account", account.id, {"code": account.code, "label": label})
    return account


def accounts_of(uow: UnitOfWork, participant_id: int) -> list[Account]:
    return list(uow.session.scalars(
        select(Account).where(Account.participant_id == participant_id).order_by(Account.id)))


def own_account(uow: UnitOfWork, participant_id: int, account_id: int) -> Account:
    account = uow.session.get(Account, account_id)
    if account is None or account.participant_id != participant_id:
        raise NotFound(f"Account {account_id} not found.", f"未找到账户 {account_id}。")
    return account
