"""Balances and journal entries: `post` writes one entry and changes its balances, refusing it first if a balance
but a source account's would go below zero (`check` asks the same without writing); the balance rows a
movement spends are locked in one fixed order (`lock_balances`, `lock_accounts`) so movements over the same
rows queue instead of deadlocking.

The balance rows a transaction has locked and the changes still to write are kept in its cache (`uow.cache`,
registry.caches), plain records rather than ORM objects; they are written with its pending rows (`uow.sql`,
registry.statements) ahead of its next query or flush and at commit. An instrument's writer gives its
transactions a cache that defers reading the balances they only add to."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import psycopg
from sqlalchemy import bindparam, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.sql.dml import UpdateBase

from registry import ledger
from registry.errors import StateConflict
from registry.ledger import Leg
from registry.orm import Balance, Base
from registry.services.ledger_accounts import source_account_ids
from registry.statements import FixedStatement, one_of
from registry.unit_of_work import UnitOfWork


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


def held_assets(uow: UnitOfWork, account_id: int, bucket: str, assets: set[str]) -> set[str]:
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

