"""The double-entry ledger: accounts, journal entries and their postings, balances, and the serial
blocks that say which credits sit where."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from registry.orm.base import Base, _in

ACCOUNT_KINDS = ("issuance", "holding", "cash", "fee")
BUCKETS = ("available", "held", "retired", "revoked")


class Account(Base):
    """A ledger account. `issuance` is the registry's source account, the only one that may go negative."""

    __tablename__ = "accounts"
    __table_args__ = (CheckConstraint(_in("kind", ACCOUNT_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime]


class JournalEntry(Base):
    """One movement: its postings sum to zero per asset. Inserted, never changed: the ledger writes entries and
    postings as plain rows, ahead of anything else a flush writes (registry.statements.Statements.append)."""

    __tablename__ = "journal_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    reference: Mapped[str] = mapped_column(String(80), default="")
    memo: Mapped[str] = mapped_column(String(500), default="")
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class Posting(Base):
    __tablename__ = "postings"
    __table_args__ = (
        CheckConstraint(_in("bucket", BUCKETS), name="bucket"),
        CheckConstraint("amount <> 0", name="amount"),
        Index("ix_postings_entry", "entry_id"),
        Index("ix_postings_account_asset", "account_id", "asset"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    asset: Mapped[str] = mapped_column(String(40))
    bucket: Mapped[str] = mapped_column(String(20))
    amount: Mapped[int] = mapped_column(BigInteger)


class Balance(Base):
    """The running sum of postings per account, asset and bucket (checkable against the postings);
    the check constraint keeps every balance but the issuance source's from going negative."""

    __tablename__ = "balances"
    __table_args__ = (
        CheckConstraint(_in("bucket", BUCKETS), name="bucket"),
        CheckConstraint("amount >= 0 OR may_go_negative", name="non_negative"),
    )

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    asset: Mapped[str] = mapped_column(String(40), primary_key=True)
    bucket: Mapped[str] = mapped_column(String(20), primary_key=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    may_go_negative: Mapped[bool] = mapped_column(Boolean)


class SerialBlock(Base):
    """A contiguous range of serial numbers sitting in one account and bucket. A movement ends blocks
    (live → false) and inserts their pieces. On PostgreSQL an exclusion constraint keeps any serial out of
    two live blocks; on both backends a trigger refuses to end a retired or revoked block (Art. 21)."""

    __tablename__ = "serial_blocks"
    __table_args__ = (
        CheckConstraint(_in("bucket", BUCKETS), name="bucket"),
        CheckConstraint("serial_end >= serial_start", name="range"),
        # A holder's live blocks, by the day they may be sold (see serial_blocks.USABLE_FROM).
        Index("ix_serial_blocks_holding", "account_id", "bucket", "batch_id",
              text("coalesce(sellable_from, '0001-01-01')"), postgresql_where=text("live"),
              sqlite_where=text("live")),
        Index("ix_serial_blocks_start", "serial_start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    serial_start: Mapped[int] = mapped_column(BigInteger)
    serial_end: Mapped[int] = mapped_column(BigInteger)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    bucket: Mapped[str] = mapped_column(String(20))
    live: Mapped[bool] = mapped_column(Boolean)
    created_entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"))
    ended_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))
    # The resale lock: credits bought on the exchange may be sold again from this business date on. Pieces
    # split off a block keep its date.
    sellable_from: Mapped[date | None] = mapped_column(Date)
