"""Accounts, journal entries and serial blocks: every movement of credits goes through `post` and
`move_credits`, which lock the spending rows in a fixed order and keep blocks and balances in step.

The balance rows a transaction has locked, the live blocks it has read or made and the changes still to write
are kept in its cache (`uow.cache`, registry.caches), plain records rather than ORM objects; they are written
with its pending rows (`uow.sql`, registry.statements) ahead of its next query or flush and at commit. An
instrument's writer gives its transactions a cache that defers reading the balances they only add to."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

import psycopg
from sqlalchemy import Date, bindparam, false, func, literal_column, select, true, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.sql.dml import UpdateBase

from registry import ledger, numbering, serials
from registry.errors import NotFound, RuleViolation, StateConflict
from registry.ledger import Leg
from registry.orm import Account, Balance, Base, Batch, SerialBlock
from registry.statements import Fixed, FixedStatement, one_of
from registry.unit_of_work import UnitOfWork
from rules.violations import Violation

ISSUANCE_ACCOUNT = "JX-ISSUANCE"
BANK_ACCOUNT = "JX-BANK"
FEE_ACCOUNT = "JX-FEE"
# The first day a block may be sold, no resale lock counting as the earliest day: the expression the index
# ix_serial_blocks_holding keys on, written as a literal so the database matches it to the index.
USABLE_FROM = func.coalesce(SerialBlock.sellable_from, literal_column("'0001-01-01'"))


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


def _ensure_balance_rows(uow: UnitOfWork, keys: set[tuple[int, str, str]]) -> None:
    if not keys:
        return
    negative = source_account_ids(uow)
    rows = [{"account_id": a, "asset": s, "bucket": b, "amount": 0, "may_go_negative": a in negative}
            for a, s, b in sorted(keys)]
    dialect = uow.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    # One statement for all rows, in the executemany form so its compiled SQL is cached whatever their number.
    uow.session.execute(insert(Balance).on_conflict_do_nothing(), rows)


@dataclass(slots=True, eq=False)
class LockedBalance:
    """A balance row this transaction has read and locked (SELECT … FOR UPDATE), as a plain record rather than
    an ORM object (a batch of trades locks hundreds): movements change `amount`, and `_write_balances` writes
    what changed, ahead of every flush and at commit. The lock keeps the row current, so it is never read
    again in the transaction."""

    account_id: int
    asset: str
    bucket: str
    amount: int
    may_go_negative: bool
    written: int  # the amount the database has

    @property
    def key(self) -> tuple[int, str, str]:
        return (self.account_id, self.asset, self.bucket)


_BALANCE_COLUMNS = (Balance.account_id, Balance.asset, Balance.bucket, Balance.amount, Balance.may_go_negative)
_BALANCE_ORDER = (Balance.account_id, Balance.asset, Balance.bucket)  # the one order rows are locked in


def _locked_rows(uow: UnitOfWork, *where: Any) -> list[LockedBalance]:
    """Read and lock the balance rows matching `where`, in the fixed order, and keep them (see _adopt)."""
    return _adopt(uow, uow.session.execute(
        select(*_BALANCE_COLUMNS).where(*where).order_by(*_BALANCE_ORDER).with_for_update()))


def _adopt(uow: UnitOfWork, rows: Iterable[Sequence[Any]]) -> list[LockedBalance]:
    """Keep balance rows just read and locked (`uow.cache.locked`), with any change this transaction made to
    them unread (TransactionCache.unread_changes); a row it had locked before is kept as it stands (it may have
    changed since)."""
    adopted = []
    locked, unread = uow.cache.locked, uow.cache.unread_changes
    for account_id, asset, bucket, amount, may_go_negative in rows:
        if (account_id, asset, bucket) in locked:
            continue
        record = LockedBalance(account_id, asset, bucket, amount, may_go_negative, amount)
        pending = unread.pop(record.key, None)
        if pending is not None:
            record.amount += pending[0]
        locked[record.key] = record
        adopted.append(record)
    if adopted:
        _queue_balance_writes(uow)
    return adopted


def _write_balances(uow: UnitOfWork) -> None:
    """Write what this transaction changed in balances since the last write: the locked rows whose amount
    moved and the changes to rows it never read (TransactionCache.unread_changes). Changes to rows that exist
    (a locked row's, a hold spent unread) go in an UPDATE adding each change, which must find every row; what
    is added to rows that may not exist yet goes in an upsert. (Not one upsert for both: the database checks
    the row an upsert proposes to insert, and a negative one fails even when the row exists.) All rows in
    their one lock order, the two statements taking turns where the order says so (an instrument's writer
    locks the rows it credits only here: in two runs, each in order, two writers could take them in
    opposite orders), each run in the executemany form, whose SQL is the same for any number of rows."""
    moved = [record for record in uow.cache.locked.values() if record.amount != record.written]
    unread = list(uow.cache.unread_changes.items())
    uow.cache.unread_changes.clear()
    writes = sorted([(r.key, r.amount - r.written, False) for r in moved]
                    + [(key, amount, negative) for key, (amount, negative) in unread if amount])
    locked = uow.cache.locked
    for credits, run in itertools.groupby(writes, key=lambda write: write[0] not in locked and write[1] > 0):
        rows = list(run)
        if credits:
            uow.sql.execute_many(_CREDIT_BALANCE, [{"a": a, "s": s, "b": b, "amount": amount,
                                                    "negative": negative} for (a, s, b), amount, negative in rows])
        else:
            uow.sql.execute_many(_ADD_TO_BALANCE, [{"a": a, "s": s, "b": b, "change": change}
                                                   for (a, s, b), change, _ in rows],
                                 short=StateConflict("A balance to change is missing.", "要变更的余额不存在。"))
    for record in moved:
        record.written = record.amount


def _queue_balance_writes(uow: UnitOfWork) -> None:
    """Have this transaction's balance changes written with its pending rows (registry.statements)."""
    cache = uow.cache
    uow.sql.before_write("balances", lambda: bool(cache.unread_changes) or any(
        record.amount != record.written for record in cache.locked.values()), lambda: _write_balances(uow))


_BALANCES = Base.metadata.tables["balances"]
_ADD_TO_BALANCE = FixedStatement(lambda _: (
    update(_BALANCES).where(_BALANCES.c.account_id == bindparam("a"), _BALANCES.c.asset == bindparam("s"),
                            _BALANCES.c.bucket == bindparam("b"))
    .values(amount=_BALANCES.c.amount + bindparam("change"))))


def _credit_balance(dialect: str) -> UpdateBase:
    statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(_BALANCES).values(
        account_id=bindparam("a"), asset=bindparam("s"), bucket=bindparam("b"), amount=bindparam("amount"),
        may_go_negative=bindparam("negative"))
    return statement.on_conflict_do_update(
        index_elements=[_BALANCES.c.account_id, _BALANCES.c.asset, _BALANCES.c.bucket],
        set_={"amount": _BALANCES.c.amount + statement.excluded.amount})


_CREDIT_BALANCE = FixedStatement(_credit_balance)


def lock_balances(uow: UnitOfWork, keys: set[tuple[int, str, str]]) -> dict[tuple[int, str, str], LockedBalance]:
    """Lock the rows in one fixed order (account, asset, bucket), so two movements over the same rows queue
    instead of deadlocking; rows seen for the first time are created. A row this transaction already locked
    is not read again: the lock keeps it current; nor is one `lock_accounts` found missing.
    A registry movement (not an instrument's writer) on PostgreSQL takes them in turn (see _lock_in_turn):
    it never waits for one of them while it holds another, so it can be in no deadlock with a writer, which
    locks what it spends when its batch starts and adds what it credits at commit."""
    missing = keys - uow.cache.locked.keys()
    if missing:
        if not uow.cache.defer_balances and uow.session.get_bind().dialect.name == "postgresql":
            _lock_in_turn(uow, missing)
        else:
            _lock_in_order(uow, missing)
    return {key: uow.cache.locked[key] for key in keys}


def _lock_in_order(uow: UnitOfWork, missing: set[tuple[int, str, str]]) -> None:
    """Lock the rows in one statement, in the one order, waiting for each in turn; then create and lock those
    that do not exist (only two transactions creating the same new rows at once can still deadlock here;
    PostgreSQL detects it and the loser is answered 409, to retry)."""
    absent = missing & uow.cache.balances_known
    found = {r.key for r in _locked_rows(uow, _key_in(missing - absent))} if missing - absent else set()
    if len(found) < len(missing):
        _ensure_balance_rows(uow, missing - found)
        _locked_rows(uow, _key_in(missing - found))


# How often a movement lets go of the rows it got and waits for a busy one before it waits in order instead.
LOCK_ROUNDS = 8
# How long a movement waits for one of its rows while it holds others, well under PostgreSQL's
# deadlock_timeout (1 s): a holder for longer may be waiting for what it holds (see _lock_in_turn).
LOCK_TURN_MS = 200


def _lock_in_turn(uow: UnitOfWork, keys: set[tuple[int, str, str]]) -> None:
    """Lock the rows without waiting long for one while holding another. An instrument's writer locks what
    its batch spends when the batch starts and adds what it credits at commit, so a movement that held one
    row while waiting for another that writer held could close a cycle with it (the writer waiting at commit
    for the row the movement held, or had just created). First all rows in one statement that waits for none
    (SKIP LOCKED). Short of one, under a savepoint: wait for the first busy one holding nothing else of them,
    create those that do not exist, and lock all in the one order (fair: each waits its turn in the queue of
    its first busy row), waiting at most LOCK_TURN_MS for anything more; a row held longer makes it let go
    of all (rolling back to the savepoint, which also takes back the rows it created) and try again. After
    LOCK_ROUNDS rounds it waits in order like everyone else (no cycle among registry movements either way)."""
    session = uow.session
    for _ in range(LOCK_ROUNDS):
        savepoint = session.begin_nested()
        rows = session.execute(select(*_BALANCE_COLUMNS).where(_key_in(keys)).order_by(*_BALANCE_ORDER)
                               .with_for_update(skip_locked=True)).all()
        if len(rows) == len(keys):
            savepoint.commit()
            _adopt(uow, rows)
            return
        savepoint.rollback()
        got = {(a, s, b) for a, s, b, *_ in rows}
        present = {(a, s, b) for a, s, b in session.execute(
            select(Balance.account_id, Balance.asset, Balance.bucket).where(_key_in(keys)))}
        busy = sorted(present - got)
        savepoint = session.begin_nested()
        try:
            if busy:
                session.execute(select(Balance.account_id).where(_key_in({busy[0]})).with_for_update())
            waited = session.scalar(select(func.current_setting("lock_timeout")))
            session.execute(select(func.set_config("lock_timeout", f"{LOCK_TURN_MS}ms", True)))
            _ensure_balance_rows(uow, keys - present)
            rows = session.execute(select(*_BALANCE_COLUMNS).where(_key_in(keys)).order_by(*_BALANCE_ORDER)
                                   .with_for_update()).all()
            session.execute(select(func.set_config("lock_timeout", waited, True)))
        except OperationalError as exc:
            savepoint.rollback()  # lets go of them all, and of the short wait
            if not isinstance(exc.orig, psycopg.errors.LockNotAvailable):
                raise
            continue
        if len(rows) == len(keys):
            savepoint.commit()
            _adopt(uow, rows)
            return
        savepoint.rollback()
    _lock_in_order(uow, keys)


def _key_in(keys: set[tuple[int, str, str]]) -> Any:
    return tuple_(Balance.account_id, Balance.asset, Balance.bucket).in_(sorted(keys))


def lock_accounts(uow: UnitOfWork, account_ids: set[int], assets: set[str], buckets: Sequence[str]) -> None:
    """Lock every balance row these accounts have in these assets and buckets, in one query, so that a batch
    of movements over them reads none again; a row they lack is then known not to exist (its amount is
    zero)."""
    keys = {(a, s, b) for a in account_ids for s in assets for b in buckets} - uow.cache.balances_known
    if not keys:
        return
    _adopt(uow, uow.sql.fetch(_ACCOUNTS_BALANCES, {"a": sorted({a for a, _, _ in keys}), "s": sorted(assets),
                                               "b": sorted(buckets)}))
    uow.cache.balances_known |= keys


_ACCOUNTS_BALANCES = FixedStatement(lambda dialect: select(*_BALANCE_COLUMNS).where(
    one_of(Balance.account_id, "a", dialect), one_of(Balance.asset, "s", dialect),
    one_of(Balance.bucket, "b", dialect)).order_by(*_BALANCE_ORDER).with_for_update())


def _held_assets(uow: UnitOfWork, account_id: int, bucket: str, assets: set[str]) -> set[str]:
    """Which of these assets the account holds something of in the bucket; those rows are locked."""
    locked, known = uow.cache.locked, uow.cache.balances_known
    unknown = sorted(a for a in assets if (k := (account_id, a, bucket)) not in locked and k not in known)
    if unknown:
        _locked_rows(uow, Balance.account_id == account_id, Balance.bucket == bucket, Balance.asset.in_(unknown),
                     Balance.amount > 0)
    credited = {(account_id, a, bucket) for a in assets if (account_id, a, bucket) in uow.cache.unread_changes}
    if credited:  # received in this transaction, unread so far
        lock_balances(uow, credited)
    return {a for a in assets if (k := (account_id, a, bucket)) in locked and locked[k].amount > 0}


def _change(kind: str, legs: Sequence[Leg]) -> dict[tuple[int, str, str], int]:
    off = ledger.unbalanced(legs)
    if off:
        raise ValueError(f"unbalanced journal entry {kind}: {off}")  # a programming error, never user input
    change: dict[tuple[int, str, str], int] = defaultdict(int)
    for leg in legs:
        change[(leg.account_id, leg.asset, leg.bucket)] += leg.amount
    return change


def _read(uow: UnitOfWork, change: dict[tuple[int, str, str], int]) -> dict[tuple[int, str, str], int]:
    """The changes whose balances must be read and locked: all of them, or with `uow.cache.defer_balances` only
    what is taken from a free balance (see TransactionCache.unread_changes)."""
    if not uow.cache.defer_balances:
        return change
    return {key: amount for key, amount in change.items() if amount < 0 and key[2] != ledger.HELD}


def check(uow: UnitOfWork, kind: str, legs: Sequence[Leg]) -> None:
    """Refuse legs that would take a balance below zero (only the source may go negative), writing nothing:
    what `post` checks, for a caller that must know before it commits to anything else."""
    _check(uow, _read(uow, _change(kind, legs)))


def _check(uow: UnitOfWork, change: dict[tuple[int, str, str], int]) -> None:
    balances = lock_balances(uow, set(change))
    for (account_id, asset, bucket), amount in change.items():
        balance = balances[(account_id, asset, bucket)]
        if balance.amount + amount < 0 and not balance.may_go_negative:
            short = -(balance.amount + amount)
            raise StateConflict(f"Not enough {bucket} {asset} in account {account_id}: short by {short}.",
                                f"账户 {account_id} 的 {asset}（{bucket}）不足，差 {short}。")


class Entry(NamedTuple):
    """A journal entry as written."""

    id: int
    kind: str
    reference: str


def post(uow: UnitOfWork, kind: str, legs: Sequence[Leg], *, reference: str = "", memo: str = "") -> Entry:
    """One journal entry: its legs must balance per asset; no balance but the source may go negative. It is
    refused before anything is written, and written with its postings at the transaction's next flush."""
    change = _change(kind, legs)
    _check(uow, _read(uow, change))
    entry = Entry(uow.sql.next_id("journal_entries"), kind, reference[:80])
    uow.sql.append("journal_entries", {"id": entry.id, "kind": kind, "reference": entry.reference, "memo": memo[:500],
                                   "actor_user_id": uow.actor.user_id if uow.actor else None,
                                   "created_at": uow.now()})
    for key, amount in change.items():
        row = uow.cache.locked.get(key)
        if row is not None:
            row.amount += amount
        else:
            pending, negative = uow.cache.unread_changes.get(key, (0, key[0] in source_account_ids(uow)))
            uow.cache.unread_changes[key] = (pending + amount, negative)
            _queue_balance_writes(uow)
    for leg in legs:
        uow.sql.append("postings", {"id": uow.sql.next_id("postings"), "entry_id": entry.id,
                                    "account_id": leg.account_id, "asset": leg.asset, "bucket": leg.bucket,
                                    "amount": leg.amount})
    return entry


@dataclass(frozen=True, slots=True)
class Moved:
    entry: Entry
    blocks: list[serials.Block]

    @property
    def quantity(self) -> int:
        return serials.total(self.blocks)


@dataclass(slots=True, eq=False)
class LiveBlock:
    """A live serial block as this transaction holds it: read and locked (load_blocks), or made by one of its
    movements. Blocks are kept as plain records rather than ORM objects (a batch of trades makes and ends
    hundreds): `_write_blocks` writes what changed, ahead of every flush and at commit."""

    id: int
    batch_id: int
    serial_start: int
    serial_end: int
    account_id: int
    bucket: str
    sellable_from: date | None
    created_entry_id: int
    written: bool  # False for a block this transaction made and has not written yet
    ended_entry_id: int | None = None


_BLOCK_COLUMNS = (SerialBlock.id, SerialBlock.batch_id, SerialBlock.serial_start, SerialBlock.serial_end,
                  SerialBlock.account_id, SerialBlock.bucket, SerialBlock.sellable_from, SerialBlock.created_entry_id)


def _write_blocks(uow: UnitOfWork) -> None:
    """End the blocks read that movements ended, then insert the blocks made (those ended again before being
    written go in ended): in this order, since a piece overlaps the block it came from (the exclusion
    constraint on live blocks)."""
    changed, uow.cache.blocks_to_write = uow.cache.blocks_to_write, []
    if not changed:
        return
    ended = [{"block_id": b.id, "entry_id": b.ended_entry_id} for b in changed if b.written]
    made = [b for b in changed if not b.written]
    if ended:
        uow.sql.execute_many(_END_BLOCK, ended, short=StateConflict("A serial block to end was no longer live.",
                                                                "要结束的序列号区块已不再有效。"))
    if made:
        uow.sql.insert_rows("serial_blocks", [
            {"id": b.id, "batch_id": b.batch_id, "serial_start": b.serial_start, "serial_end": b.serial_end,
             "account_id": b.account_id, "bucket": b.bucket, "live": b.ended_entry_id is None,
             "created_entry_id": b.created_entry_id, "ended_entry_id": b.ended_entry_id,
             "sellable_from": b.sellable_from} for b in made])
        for b in made:
            b.written = True


def _queue_block_writes(uow: UnitOfWork) -> None:
    """Have the serial blocks this transaction made and ended written with its pending rows."""
    cache = uow.cache
    uow.sql.before_write("serial_blocks", lambda: bool(cache.blocks_to_write), lambda: _write_blocks(uow))


_SERIAL_BLOCKS = Base.metadata.tables["serial_blocks"]
_END_BLOCK = FixedStatement(lambda _: update(_SERIAL_BLOCKS).where(
    _SERIAL_BLOCKS.c.id == bindparam("block_id"), _SERIAL_BLOCKS.c.live.is_(true()))
    .values(live=false(), ended_entry_id=bindparam("entry_id")))


def make_block(uow: UnitOfWork, *, batch_id: int, start: int, end: int, holder: tuple[int, str], entry_id: int,
               sellable_from: date | None) -> LiveBlock:
    """A new live block, written with the transaction's next flush."""
    block = LiveBlock(uow.sql.next_id("serial_blocks"), batch_id, start, end, holder[0], holder[1], sellable_from,
                      entry_id, written=False)
    uow.cache.live_blocks.setdefault((block.account_id, block.bucket, block.batch_id), []).append(block)
    uow.cache.blocks_to_write.append(block)
    _queue_block_writes(uow)
    return block


def _end_block(uow: UnitOfWork, block: LiveBlock, entry_id: int) -> None:
    uow.cache.live_blocks[(block.account_id, block.bucket, block.batch_id)].remove(block)
    uow.cache.blocks_ended.add(block.id)
    block.ended_entry_id = entry_id
    if block.written:  # else it is still waiting to be written, and goes out ended
        uow.cache.blocks_to_write.append(block)
        _queue_block_writes(uow)


@dataclass(frozen=True, slots=True)
class CreditMove:
    """A movement of credits worked out and checked but not yet written (see plan_credits)."""

    source: tuple[int, str]
    target: tuple[int, str]
    rows: list[LiveBlock]  # the source's usable live blocks it looked at
    touched: list[serials.Block]  # the blocks it ends
    moving: list[serials.Block]  # the pieces that go to the target
    leftovers: list[serials.Block]  # the pieces of the ended blocks that stay
    lock_until: date | None

    @property
    def quantity(self) -> int:
        return serials.total(self.moving)


def load_blocks(uow: UnitOfWork, account_ids: set[int], buckets: set[str], batch_ids: Sequence[int],
                sellable_on: date | None = None) -> None:
    """Read and lock the live blocks of these accounts, buckets and batches in one query, unless this
    transaction has them already: all of them, or with `sellable_on` only those free of the resale lock on
    that day (credits bought today pile up in small blocks a seller cannot use yet). From then on
    `uow.cache.live_blocks` holds them, kept current by `_record_blocks`, so a movement sees the earlier ones of
    its transaction without a flush."""
    def covered(key: tuple[int, str, int]) -> bool:
        if key not in uow.cache.blocks_loaded:
            return False
        loaded_on = uow.cache.blocks_loaded[key]
        return loaded_on is None or (sellable_on is not None and sellable_on <= loaded_on)

    keys = {k for a in account_ids for b in buckets for batch in batch_ids if not covered(k := (a, b, batch))}
    if not keys:
        return
    params: dict[str, Any] = {"a": sorted({k[0] for k in keys}), "b": sorted({k[1] for k in keys}),
                              "batch": sorted({k[2] for k in keys})}
    if sellable_on is not None:
        params["day"] = sellable_on
    # Not one already known (read, made, or taken back), nor one this transaction ended and has not written yet.
    known = {b.id for key in keys for b in uow.cache.live_blocks.get(key, ())}
    for block_id, batch_id, start, end, account_id, bucket, sellable_from, created_entry_id in uow.sql.fetch(
            _USABLE_BLOCKS if sellable_on is not None else _LIVE_BLOCKS, params):
        key = (account_id, bucket, batch_id)
        if key in keys and block_id not in known and block_id not in uow.cache.blocks_ended:
            uow.cache.live_blocks.setdefault(key, []).append(LiveBlock(
                block_id, batch_id, start, end, account_id, bucket, sellable_from, created_entry_id, written=True))
    uow.cache.blocks_loaded.update(dict.fromkeys(keys, sellable_on))


def _blocks_query(dialect: str, usable: bool) -> Fixed:
    """The live blocks of some accounts, buckets and batches, locked; `usable`: only those free of the resale
    lock on the day given."""
    query = select(*_BLOCK_COLUMNS).where(
        one_of(SerialBlock.account_id, "a", dialect), one_of(SerialBlock.bucket, "b", dialect),
        one_of(SerialBlock.batch_id, "batch", dialect), SerialBlock.live)
    if usable:
        query = query.where(bindparam("day", type_=Date) >= USABLE_FROM)
    return query.order_by(SerialBlock.serial_start).with_for_update(of=SerialBlock)


_LIVE_BLOCKS = FixedStatement(lambda dialect: _blocks_query(dialect, usable=False))
_USABLE_BLOCKS = FixedStatement(lambda dialect: _blocks_query(dialect, usable=True))


def known_blocks_holding(uow: UnitOfWork, holder: tuple[int, str],
                         ranges: Sequence[serials.Block]) -> list[LiveBlock] | None:
    """The live blocks this transaction knows that hold each of these ranges whole, in serial order, or None
    when it does not know one for every range (then they must be read)."""
    found: dict[int, LiveBlock] = {}
    for r in ranges:
        block = next((b for b in uow.cache.live_blocks.get((holder[0], holder[1], r.batch_id), ())
                      if b.serial_start <= r.start and r.end <= b.serial_end), None)
        if block is None:
            return None
        found[block.id] = block
    return sorted(found.values(), key=lambda b: b.serial_start)


def know_blocks(uow: UnitOfWork, blocks: Sequence[LiveBlock]) -> None:
    """Take back live blocks an earlier transaction of the same long-lived caller kept (an instrument's
    writer: the blocks an open sell order holds, which no one else changes), so that moving exact ranges out
    of them needs no read (see known_blocks_holding)."""
    known_ids: dict[tuple[int, str, int], set[int]] = {}
    for block in blocks:
        key = (block.account_id, block.bucket, block.batch_id)
        known = uow.cache.live_blocks.setdefault(key, [])
        ids = known_ids.get(key)
        if ids is None:
            ids = known_ids[key] = {b.id for b in known}
        if block.id not in uow.cache.blocks_ended and block.id not in ids:
            known.append(block)
            ids.add(block.id)


def _live_blocks(uow: UnitOfWork, account_id: int, bucket: str, batch_ids: Sequence[int],
                 sellable_on: date | None = None) -> list[LiveBlock]:
    """The live blocks of an account and bucket in these batches, in serial order; with `sellable_on` only
    those free of the resale lock that day (see load_blocks)."""
    load_blocks(uow, {account_id}, {bucket}, batch_ids, sellable_on)
    rows = (row for b in batch_ids for row in uow.cache.live_blocks.get((account_id, bucket, b), ()))
    return sorted((row for row in rows if sellable_on is None or row.sellable_from is None
                   or row.sellable_from <= sellable_on), key=lambda row: row.serial_start)


def _locked_t(uow: UnitOfWork, account_id: int, bucket: str, batch_ids: Sequence[int], day: date) -> int:
    """Tonnes in the account still under the resale lock on that day (for a refusal's message)."""
    size = SerialBlock.serial_end - SerialBlock.serial_start + 1
    return uow.session.scalar(select(func.coalesce(func.sum(size), 0)).where(
        SerialBlock.account_id == account_id, SerialBlock.bucket == bucket, SerialBlock.live,
        SerialBlock.batch_id.in_(batch_ids), SerialBlock.sellable_from > day)) or 0


def frozen_violation() -> Violation:
    """A batch frozen for revocation (Art. 26): its credits are shut out of holds, transfers and retirements."""
    return Violation("JX-26", "Art. 26", "batch_id",
                     "该批次正被主管部门收回（第二十六条），其减排量不得交易、转让或注销。",
                     "The batch is being taken back by the bureau (Art. 26): its credits may not be traded, "
                     "transferred or retired.")


def _without_frozen(uow: UnitOfWork, assets: set[str]) -> set[str]:
    """The credit assets whose batch is not frozen for revocation (cash and the like pass); refused with
    JX-26 when every batch asked for is frozen. A quantity is taken from what is left, so a sell or transfer
    that may use several batches picks other batches' credits."""
    batch_ids = {b for b in (ledger.batch_of(a) for a in assets) if b is not None}
    if not batch_ids:
        return assets
    frozen = set(uow.session.scalars(select(Batch.id).where(Batch.id.in_(sorted(batch_ids)),
                                                            Batch.frozen_at.is_not(None))))
    if not frozen:
        return assets
    left = {a for a in assets if ledger.batch_of(a) not in frozen}
    if not left:
        raise RuleViolation([frozen_violation()])
    return left


def plan_credits(
    uow: UnitOfWork,
    *,
    source: tuple[int, str],
    target: tuple[int, str],
    quantity: int | None = None,
    batch_ids: Sequence[int] | None = None,
    ranges: Sequence[serials.Block] | None = None,
    sellable_on: date | None = None,
    lock_until: date | None = None,
) -> CreditMove:
    """Work out a movement of credits and refuse it if the source is short, writing nothing (the rows it
    reads stay locked): `quantity` tonnes taking the lowest serials first (optionally only from some
    batches), or exactly the given `ranges`. `sellable_on` leaves out credits still under the resale lock on
    that date; `lock_until` puts the moved credits under it (a trade's delivery); otherwise every piece keeps
    the lock of the block it came from. A quantity is never taken from a batch frozen for revocation (Art. 26,
    see `_without_frozen`); exact ranges (releases, deliveries of what is held, the take back itself) are."""
    if (quantity is None) == (ranges is None):
        raise ValueError("give either a quantity or exact ranges")
    account_id, bucket = source
    if ranges is not None:
        # Exact ranges name their batches: no need to ask which the account holds.
        assets = {ledger.credit_asset(b.batch_id) for b in ranges}
    elif batch_ids is not None:
        assets = {ledger.credit_asset(b) for b in batch_ids}
    else:  # which it holds, unlocked: the lock below decides
        assets = set(uow.session.scalars(select(Balance.asset).where(
            Balance.account_id == account_id, Balance.bucket == bucket, Balance.asset.like("CREDIT:%"),
            Balance.amount > 0)))
    if uow.cache.defer_balances:  # an instrument's writer: `post` locks what it takes from, credits are not read
        if ranges is None:
            assets = _held_assets(uow, account_id, bucket, assets)
    elif assets:
        # Both sides, debit and credit, in one statement and the one order, before anything else is locked:
        # taking the source's rows in one statement and the target's in another, opposite transfers took the
        # same rows in opposite orders and deadlocked.
        locked = lock_balances(uow, {(account_id, a, bucket) for a in assets}
                               | {(target[0], a, target[1]) for a in assets})
        if ranges is None:
            assets = {a for a in assets if locked[(account_id, a, bucket)].amount > 0}
    if quantity is not None and assets:
        assets = _without_frozen(uow, assets)
    if not assets:
        raise StateConflict(f"No {bucket} credits to move in this account.", f"该账户没有可用（{bucket}）的减排量。")
    held_batches = sorted(b for b in (ledger.batch_of(a) for a in assets) if b is not None)
    if not uow.cache.defer_balances and target[1] == ledger.AVAILABLE:
        # The blocks the moved credits may merge with (see _place), locked after the balances like the source's.
        load_blocks(uow, {target[0]}, {ledger.AVAILABLE}, held_batches)
    rows = (ranges is not None and known_blocks_holding(uow, source, ranges)) or _live_blocks(
        uow, account_id, bucket, held_batches, sellable_on)
    blocks = [serials.Block(r.serial_start, r.serial_end, r.batch_id) for r in rows]
    try:
        if ranges is not None:
            touched, leftovers = serials.take_ranges(blocks, ranges)
            moving = sorted(ranges)
        else:
            assert quantity is not None
            moving, leftovers = serials.take_lowest(blocks, quantity)
            touched = [b for b in blocks if any(m.batch_id == b.batch_id and b.start <= m.start <= b.end
                                                for m in moving)]
    except ValueError as exc:
        available = serials.total(blocks)
        asked = quantity or serials.total(ranges or [])
        locked_t = _locked_t(uow, account_id, bucket, held_batches, sellable_on) if sellable_on else 0
        lock_en = f" ({locked_t} t bought recently are under the resale lock)" if locked_t else ""
        lock_zh = f"（另有 {locked_t} 吨新买入的减排量处于转售限制期）" if locked_t else ""
        raise StateConflict(f"Not enough {bucket} credits: {available} t usable, {asked} t asked{lock_en}.",
                            f"可用减排量不足：可用 {available} 吨，申请 {asked} 吨{lock_zh}。") from exc
    return CreditMove(source, target, rows, touched, moving, leftovers, lock_until)


def apply_credits(uow: UnitOfWork, kind: str, plan: CreditMove, *, reference: str = "", memo: str = "") -> Moved:
    """Write a planned movement: one journal entry, its balances and serial blocks together."""
    source, target = plan.source, plan.target
    per_batch: dict[int, int] = defaultdict(int)
    for block in plan.moving:
        per_batch[block.batch_id] += block.quantity
    legs = [leg for batch_id, qty in sorted(per_batch.items())
            for leg in ledger.move(ledger.credit_asset(batch_id), qty, source, target)]
    entry = post(uow, kind, legs, reference=reference, memo=memo)
    by_range = {(r.serial_start, r.serial_end): r for r in plan.rows}
    for block in plan.touched:
        _end_block(uow, by_range[(block.start, block.end)], entry.id)

    def lock_of(piece: serials.Block) -> date | None:
        return next(r.sellable_from for r in plan.rows
                    if r.batch_id == piece.batch_id and r.serial_start <= piece.start <= r.serial_end)

    _place(uow, target, [(piece, plan.lock_until or lock_of(piece)) for piece in plan.moving], entry.id)
    _place(uow, source, [(piece, lock_of(piece)) for piece in plan.leftovers], entry.id)
    return Moved(entry, plan.moving)


def _place(uow: UnitOfWork, holder: tuple[int, str], pieces: Sequence[tuple[serials.Block, date | None]],
           entry_id: int) -> None:
    """Make the blocks of pieces that land in a holding, each with its resale date, merged with the blocks
    there they follow on from (same batch, bucket and date) where the holding may be merged (_mergeable):
    the pieces are ended and the merged block is made with the movement's entry (serials.merge_into), so a
    holding does not fall apart into ever smaller blocks as credits go back and forth."""
    account_id, bucket = holder
    groups: dict[tuple[int, date | None], list[serials.Block]] = defaultdict(list)
    for piece, day in pieces:
        groups[(piece.batch_id, day)].append(piece)
    for (batch_id, day), arriving in groups.items():
        key = (account_id, bucket, batch_id)
        held = {(b.serial_start, b.serial_end): b for b in uow.cache.live_blocks.get(key, ())
                if b.sellable_from == day} if _mergeable(uow, key, day) else {}
        ended, made = serials.merge_into([serials.Block(s, e, batch_id) for s, e in held], arriving)
        for block in ended:
            _end_block(uow, held[(block.start, block.end)], entry_id)
        for block in made:
            make_block(uow, batch_id=batch_id, start=block.start, end=block.end, holder=holder, entry_id=entry_id,
                       sellable_from=day)


def _mergeable(uow: UnitOfWork, key: tuple[int, str, int], day: date | None) -> bool:
    """Whether this transaction may merge the blocks of a holding with this resale date: only available
    credits (a held block belongs to one open sell order or one retirement request, which name its exact
    ranges, and an instrument's writer keeps an open sell's blocks from one batch to the next: merging held
    blocks would end blocks it still holds, and join blocks of orders of different books); only where it
    holds the holding's balance locked (no one else can be changing its blocks, and blocks are locked after
    balances, in every movement); and only where it has read every live block with that date (load_blocks)."""
    account_id, bucket, batch_id = key
    if bucket != ledger.AVAILABLE or (account_id, ledger.credit_asset(batch_id), bucket) not in uow.cache.locked:
        return False
    if key not in uow.cache.blocks_loaded:
        return False
    loaded_on = uow.cache.blocks_loaded[key]
    return loaded_on is None or day is None or day <= loaded_on  # a date read: all blocks free on that day


def move_credits(uow: UnitOfWork, kind: str, *, source: tuple[int, str], target: tuple[int, str],
                 quantity: int | None = None, batch_ids: Sequence[int] | None = None,
                 ranges: Sequence[serials.Block] | None = None, reference: str = "", memo: str = "",
                 sellable_on: date | None = None, lock_until: date | None = None) -> Moved:
    """Move credits with their serial blocks at once: `plan_credits` then `apply_credits`."""
    plan = plan_credits(uow, source=source, target=target, quantity=quantity, batch_ids=batch_ids, ranges=ranges,
                        sellable_on=sellable_on, lock_until=lock_until)
    return apply_credits(uow, kind, plan, reference=reference, memo=memo)


def holdings(uow: UnitOfWork, account_ids: Sequence[int]) -> list[SerialBlock]:
    """The live serial blocks in these accounts, in serial order."""
    return list(uow.session.scalars(
        select(SerialBlock).where(SerialBlock.account_id.in_(account_ids), SerialBlock.live)
        .order_by(SerialBlock.serial_start)))


def balances_of(uow: UnitOfWork, account_ids: Sequence[int]) -> list[Balance]:
    return list(uow.session.scalars(
        select(Balance).where(Balance.account_id.in_(account_ids), Balance.amount != 0)
        .order_by(Balance.account_id, Balance.asset, Balance.bucket).execution_options(populate_existing=True)))
