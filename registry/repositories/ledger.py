"""Queries of the double-entry ledger: accounts, balances, postings, live serial blocks, journal entries and cash
movements; and the whole-ledger reads of the conservation check."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from registry import ledger
from registry.orm import Account, Balance, Batch, CashMovement, JournalEntry, Posting, SerialBlock


def account_by_code(session: Session, code: str) -> Account | None:
    """The account with this code, or None."""
    return session.scalar(select(Account).where(Account.code == code))


def journal_entry(session: Session, entry_id: int) -> JournalEntry | None:
    return session.get(JournalEntry, entry_id)


def bank_reference_recorded(session: Session, bank_reference: str) -> bool:
    """Whether a cash movement with this bank confirmation was recorded already."""
    return session.scalar(select(CashMovement.id).where(CashMovement.bank_reference == bank_reference)) is not None


def cash_balances(session: Session, account_id: int) -> list[Balance]:
    """The account's cash balance rows, read afresh (a row this session holds may be stale)."""
    return list(session.scalars(select(Balance).where(Balance.account_id == account_id, Balance.asset == ledger.CASH)
                                .execution_options(populate_existing=True)))


def cash_movements_of(session: Session, participant_id: int, limit: int) -> list[CashMovement]:
    """The participant's latest cash movements, newest first."""
    return list(session.scalars(select(CashMovement).where(CashMovement.participant_id == participant_id)
                                .order_by(CashMovement.id.desc()).limit(limit)))


def holders_of(session: Session, asset: str) -> set[int]:
    """The accounts with a balance row of this asset."""
    return set(session.scalars(select(Balance.account_id).where(Balance.asset == asset)))


def live_blocks_in(session: Session, batch_id: int, bucket: str) -> list[SerialBlock]:
    """The batch's live serial blocks in one bucket (any account)."""
    return list(session.scalars(select(SerialBlock).where(SerialBlock.batch_id == batch_id, SerialBlock.live,
                                                          SerialBlock.bucket == bucket)))


# The conservation check reads the whole ledger.

def entries_posted(session: Session) -> int:
    """How many journal entries have postings."""
    return session.scalar(select(func.count(func.distinct(Posting.entry_id)))) or 0


def unbalanced_entries(session: Session) -> list[tuple[int, str, int]]:
    """(entry, asset, sum) of every journal entry whose postings of an asset do not sum to zero."""
    return [(entry_id, asset, total) for entry_id, asset, total in session.execute(
        select(Posting.entry_id, Posting.asset, func.sum(Posting.amount))
        .group_by(Posting.entry_id, Posting.asset).having(func.sum(Posting.amount) != 0))]


def posted_sums(session: Session) -> dict[tuple[int, str, str], int]:
    """The sum of the postings per (account, asset, bucket)."""
    return {(a, s, b): int(t) for a, s, b, t in session.execute(
        select(Posting.account_id, Posting.asset, Posting.bucket, func.sum(Posting.amount))
        .group_by(Posting.account_id, Posting.asset, Posting.bucket))}


def all_balances(session: Session) -> list[Balance]:
    return list(session.scalars(select(Balance)))


def all_live_blocks(session: Session) -> list[SerialBlock]:
    return list(session.scalars(select(SerialBlock).where(SerialBlock.live)))


def issuance_account_ids(session: Session) -> set[int]:
    """The accounts credits are issued from (their balances run negative)."""
    return set(session.scalars(select(Account.id).where(Account.kind == "issuance")))


def all_batches(session: Session) -> list[Batch]:
    """Every batch in id order (the check's per-batch conservation; batches are issuance's table)."""
    return list(session.scalars(select(Batch).order_by(Batch.id)))
