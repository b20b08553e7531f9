"""One use case, one transaction: leaving the block without commit() rolls everything back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from functools import cache
from types import TracebackType
from typing import Any, cast

import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy import JSON, ColumnElement, Select, any_, bindparam, event, func, insert, select, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import ORMExecuteState, QueryableAttribute, Session, make_transient_to_detached
from sqlalchemy.sql.dml import UpdateBase

from registry.audit import GENESIS_HASH, entry_hash, jsonable
from registry.clock import Clock, business_date
from registry.errors import DomainError, StateConflict
from registry.orm import AuditEntry, Base
from registry.principals import Principal

# Any constant key works; it only has to be the same for every writer of the audit chain.
AUDIT_CHAIN_LOCK = 0x4A58_4155_4449_54
ID_BLOCK = 64  # primary keys taken from a PostgreSQL sequence at a time (see UnitOfWork.next_id)


Fixed = UpdateBase | Select[*tuple[Any, ...]]


class FixedStatement:
    """A statement whose SQL is the same every time (named parameters; a list goes in one parameter, see
    `one_of`), built and compiled once per dialect. On PostgreSQL `UnitOfWork.execute_many` and `fetch` hand
    it straight to the driver, skipping what SQLAlchemy does per execution (building the statement, its cache
    key, expanding IN lists, processing parameters and rows): for the small statements an instrument's writer
    sends with every batch, that work cost the writer more CPU than the database spent running them (a
    four-row locking read: 570 µs through the ORM, 140 µs through the driver). Only for parameters and
    columns the driver adapts as they are (integers, strings, booleans, dates, times), never JSON."""

    def __init__(self, build: Callable[[str], Fixed]) -> None:
        self._build = build  # the statement for a dialect's name (an upsert or a list is spelt per dialect)
        self._statements: dict[str, Fixed] = {}
        self._sql: dict[str, str] = {}

    def statement(self, dialect: Dialect) -> Fixed:
        if dialect.name not in self._statements:
            self._statements[dialect.name] = self._build(dialect.name)
        return self._statements[dialect.name]

    def sql(self, dialect: Dialect) -> str:
        if dialect.name not in self._sql:
            compiled = self.statement(dialect).compile(dialect=dialect)
            # Every value a named parameter: a literal in the statement would be a parameter no caller gives.
            assert all(value is None for value in compiled.params.values()), compiled.params
            self._sql[dialect.name] = str(compiled)
        return self._sql[dialect.name]


def one_of(column: ColumnElement[Any] | QueryableAttribute[Any], name: str, dialect: str) -> ColumnElement[bool]:
    """`column` is one of the list given as parameter `name`: one array parameter on PostgreSQL (so the SQL
    does not change with the list's length), an expanded IN list elsewhere."""
    if dialect == "postgresql":
        return column == any_(bindparam(name))
    return column.in_(bindparam(name, expanding=True))


@cache
def _array_insert(table: str, columns: tuple[str, ...], dialect: Dialect) -> tuple[str, frozenset[str]]:
    """INSERT … SELECT * FROM unnest(one array per column): the rows of one statement whatever their number;
    and the columns holding JSON (handed over as JSON, or a list would become an array)."""
    schema = Base.metadata.tables[table].c
    assert set(columns) <= set(schema.keys())  # names from our schema, never input
    arrays = ", ".join(f"%s::{schema[c].type.compile(dialect=dialect)}[]" for c in columns)
    json = frozenset(c for c in columns if isinstance(schema[c].type, JSON))
    return f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({arrays})", json  # noqa: S608


def _row_of(obj: Base) -> dict[str, Any]:
    """A new object's row, every column given: one it never set takes the column's default (and is set on
    the object too, which is then complete as a row read would be)."""
    row = {}
    for attribute in sa_inspect(type(obj)).column_attrs:
        if attribute.key not in obj.__dict__:
            default = attribute.columns[0].default
            setattr(obj, attribute.key, getattr(default, "arg", None) if default is not None and default.is_scalar
                    else None)
        row[attribute.columns[0].name] = getattr(obj, attribute.key)
    return row


# Deadlock, lock not available, statement timeout, serialization failure (and SQLite's busy file): the database is
# there and rolled the transaction back, so nothing was saved and a retry will most likely pass.
ROLLED_BACK_SQLSTATES = frozenset({"40P01", "55P03", "57014", "40001"})


def _rolled_back(exc: OperationalError) -> bool:
    """Whether an operational error at commit is a rollback the database made (not a lost connection)."""
    return getattr(exc.orig, "sqlstate", None) in ROLLED_BACK_SQLSTATES or "database is locked" in str(exc.orig)


class UnitOfWork:
    """Holds the session of one use case and the audit entries it will append at commit."""

    def __init__(self, session_factory: Callable[[], Session], clock: Clock, actor: Principal | None) -> None:
        self._session_factory = session_factory
        self.clock = clock
        self.actor = actor
        self._pending_audit: list[tuple[str, str, str, dict[str, Any]]] = []
        self.committed = False
        # Balance rows this transaction holds locked (SELECT … FOR UPDATE): locked once, they stay current
        # (registry.services.holdings.LockedBalance).
        self.locked: dict[tuple[int, str, str], Any] = {}
        # Balance rows known not to exist unless they are in `locked` (see holdings.lock_accounts).
        self.balances_known: set[tuple[int, str, str]] = set()
        # Answers that cannot change during this transaction (an instrument's batches, an order by its
        # client id), so that a batch of commands reads each of them once.
        self.memo: dict[Any, Any] = {}
        # Ids that never change once committed (an account's id by its code); a long-lived caller such as an
        # instrument's writer passes its own dict so they are read once, not once per transaction, and empties
        # it when a transaction fails (an id it learnt there may belong to a row that was rolled back).
        self.known_ids: dict[Any, int] = {}
        # PostgreSQL keys taken from a sequence and not used yet (see next_id); a long-lived caller passes its
        # own dict, since a key the sequence handed out stays unused for good even if a transaction rolls back.
        self.id_pool: dict[str, list[int]] = {}
        self.id_block = ID_BLOCK  # how many keys to take at a time (a busy long-lived caller takes more)
        # Rows a long-lived caller kept from its earlier transactions because no one else changes them (an
        # instrument's writer and its open orders), taken back into this session instead of read again.
        self.kept: dict[Any, Any] = {}
        self._last_ids: dict[str, int] = {}  # SQLite: the last key handed out per table in this transaction
        # The live serial blocks per (account, bucket, batch) this transaction has locked and read, kept
        # current by every movement it makes (registry.services.holdings), so a batch of movements reads
        # each holding once and never needs a flush to see its own changes.
        self.live_blocks: dict[tuple[int, str, int], list[Any]] = {}
        # Which of them it has read: all (None), or those free of the resale lock on the date given.
        self.blocks_loaded: dict[tuple[int, str, int], date | None] = {}
        # With `defer_balances` (an instrument's writer), a posting reads and locks only the balances it takes
        # from freely (available, say); credits, and spending of what a hold set aside, go to `unread_changes`
        # per (account, asset, bucket) as (amount, may_go_negative) and are added to their rows with the
        # locked rows' changes (holdings._write_balances), without reading them: none of them can take a
        # balance below zero (a hold is spent only as far as the order that made it holds), and the rows'
        # check constraint still refuses one that would. A row read later in the transaction takes its
        # pending change with it.
        self.defer_balances = False
        self.unread_changes: dict[tuple[int, str, str], tuple[int, bool]] = {}
        # Rows only ever inserted (journal entries, postings) waiting to be written, per table in the order
        # they must go out (see append), and what else writes rows this transaction keeps outside the ORM
        # (registry.services.holdings: serial blocks), run after them in the order registered.
        self._appended: dict[str, list[dict[str, Any]]] = {}
        self._new_objects: list[Base] = []  # see add_new
        # While pending rows are written in one pipeline: what to do with each write's cursor when it syncs.
        self._synced: list[Callable[[], int]] | None = None
        self.pending_writers: dict[str, Callable[[UnitOfWork], None]] = {}
        # Serial blocks made or ended since they were last written, and the keys of all it ended
        # (registry.services.holdings).
        self.blocks_to_write: list[Any] = []
        self.blocks_ended: set[int] = set()

    def __enter__(self) -> UnitOfWork:
        self.session = self._session_factory()
        # Rows kept outside the ORM go out ahead of whatever a flush writes (the ORM's rows may name them), and
        # before a query whenever the session would autoflush (so a query sees them, as it sees ORM objects).
        event.listen(self.session, "before_flush", lambda *_: self._write_pending())
        event.listen(self.session, "do_orm_execute", self._before_query)
        self._now = self.clock.now()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self.committed:
            self.session.rollback()
        self.session.close()

    def now(self) -> datetime:
        """The instant of this use case: every row it writes carries the same time."""
        return self._now

    def next_id(self, table: str) -> int:
        """A new primary key for `table`, so a row can be referred to before it is written and many rows go
        out in one flush instead of one flush each. PostgreSQL: from the table's sequence, `id_block` keys at a
        time (a sequence never hands a key out twice, even when a transaction rolls back). SQLite: one past
        the largest key, counting on in this transaction (which holds the database's only write lock; every
        row of a table that takes keys this way must take them here)."""
        if self.session.get_bind().dialect.name != "postgresql":
            last = self._last_ids.get(table)
            if last is None:
                key = Base.metadata.tables[table].c.id
                last = self.session.scalar(select(func.coalesce(func.max(key), 0))) or 0
            self._last_ids[table] = last + 1
            return last + 1
        pool = self.id_pool.setdefault(table, [])
        if not pool:
            pool.extend(self.session.scalars(
                text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
                {"t": table, "n": self.id_block}))
            pool.reverse()
        return pool.pop()

    def append(self, table: str, row: dict[str, Any]) -> None:
        """Queue a row that is inserted and never changed, with its key already taken (next_id): such rows go
        out at once per table (insert_rows) at the next flush or at commit, without the cost of an ORM object
        each. Tables go out in the order they were first appended to, so a row may name an earlier table's."""
        self._appended.setdefault(table, []).append(row)

    def add_new(self, obj: Base) -> None:
        """Queue a new ORM object, its key already taken (next_id), to be inserted by `insert_rows` with the
        appended rows (ahead of them, which may name it) instead of by the ORM's flush: an instrument's
        writer makes an order per command, and the ORM's INSERT of one cost it several times the row's share
        of a multi-row insert.
        Written, the object joins the session as if read from the database, so what changes on it later goes
        out as the ORM's UPDATE. Until then the session does not know it: the caller keeps it where its
        reads look (registry.services.trading.remember_order)."""
        self._new_objects.append(obj)

    def _write_pending(self) -> None:
        """Write what waits outside the ORM: new objects, appended rows, then the pending writers' changes.
        On PostgreSQL all in one pipeline, one round trip for the lot (a batch of the writer's sent a dozen,
        each a wait while the database, on two shared cores, got its turn); the checks that every row to
        change was changed are made when it syncs."""
        if not self._anything_pending():
            return
        connection = self.session.connection()
        if connection.dialect.name != "postgresql" or self._synced is not None:
            self._write_pending_rows()
            return
        raw = cast(psycopg.Connection[Any], connection.connection.dbapi_connection)
        self._synced = []
        try:
            with raw.pipeline():
                self._write_pending_rows()
        finally:
            checks, self._synced = self._synced, None
        for check in checks:
            check()

    def _anything_pending(self) -> bool:
        return bool(self._new_objects or self._appended or self.blocks_to_write or self.unread_changes
                    or any(record.amount != record.written for record in self.locked.values()))

    def _write_pending_rows(self) -> None:
        new, self._new_objects = self._new_objects, []
        rows: dict[str, list[dict[str, Any]]] = {}
        for obj in new:
            rows.setdefault(obj.__tablename__, []).append(_row_of(obj))
        for table, table_rows in rows.items():
            self.insert_rows(table, table_rows)
        for obj in new:
            make_transient_to_detached(obj)
            self.session.add(obj)
        appended, self._appended = self._appended, {}
        for table, table_rows in appended.items():
            self.insert_rows(table, table_rows)
        for writer in self.pending_writers.values():
            writer(self)

    def insert_rows(self, table: str, rows: list[dict[str, Any]]) -> None:
        """Insert rows (all with the same keys) in this transaction at once: on PostgreSQL in one statement
        that takes each column as an array (as cheap for the server as COPY, and unlike COPY it can share a
        pipeline with other statements; the rows' constraints and foreign keys are checked all the same),
        elsewhere as one executemany."""
        connection = self.session.connection()
        if connection.dialect.name != "postgresql":
            connection.execute(insert(Base.metadata.tables[table]), rows)
            return
        columns = tuple(rows[0])
        sql, json = _array_insert(table, columns, connection.dialect)
        params = [[Jsonb(row[c]) if c in json and row[c] is not None else row[c] for row in rows] for c in columns]
        self._finish(self._run(connection, sql, params, many=False), len(rows), None)

    def execute_many(self, fixed: FixedStatement, rows: list[dict[str, Any]],
                     short: DomainError | None = None) -> int:
        """Run a fixed write once per row in this transaction (psycopg pipelines the rows in one round trip):
        the number of rows it changed (-1 while pending rows are written in a pipeline: see `short`). With
        `short`, raise it unless every row given changed one (in a pipeline, when it syncs)."""
        connection = self.session.connection()
        if connection.dialect.name != "postgresql":
            changed = connection.execute(fixed.statement(connection.dialect), rows).rowcount
            if short is not None and changed != len(rows):
                raise short
            return changed
        cursor = self._run(connection, fixed.sql(connection.dialect), rows if len(rows) > 1 else rows[0],
                           many=len(rows) > 1)
        return self._finish(cursor, len(rows), short)

    def _finish(self, cursor: psycopg.Cursor[Any], expected: int, short: DomainError | None) -> int:
        """Close a write's cursor and check its row count, now or, in a pipeline, when it syncs."""
        def finish() -> int:
            changed = cursor.rowcount
            cursor.close()
            if short is not None and changed != expected:
                raise short
            return changed

        if self._synced is not None:
            self._synced.append(finish)
            return -1
        return finish()

    def fetch(self, fixed: FixedStatement, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """The rows of a fixed read in this transaction, as tuples; it sees what this transaction has not
        written yet as an ORM query would (autoflush)."""
        if self.session.autoflush:
            self._write_pending()
            self.session.flush()
        connection = self.session.connection()
        if connection.dialect.name != "postgresql":
            return [tuple(row) for row in connection.execute(fixed.statement(connection.dialect), params)]
        with self._run(connection, fixed.sql(connection.dialect), params, many=False) as cursor:
            return cursor.fetchall()

    def _run(self, connection: Connection, sql: str, params: Any, many: bool) -> psycopg.Cursor[Any]:
        """Run SQL on the session's own connection (so in its transaction); the engine's listeners hear of
        it as of any other statement (the writer bench counts them). In a pipeline the cursor stays open
        until it syncs, so its row count can be checked then."""
        raw = cast(psycopg.Connection[Any], connection.connection.dbapi_connection)
        cursor = raw.cursor()
        connection.dispatch.before_cursor_execute(connection, cursor, sql, params, None, many)
        if many:
            cursor.executemany(sql, params)
        else:
            cursor.execute(sql, params)
        return cursor

    def _before_query(self, state: ORMExecuteState) -> None:
        if state.is_select and self.session.autoflush:
            self._write_pending()

    def today(self) -> date:
        return business_date(self.clock)

    def audit(self, action: str, subject_type: str, subject_id: object, payload: dict[str, Any]) -> None:
        """Queue an audit entry; it is chained and written in this transaction at commit."""
        self._pending_audit.append((action, subject_type, str(subject_id), jsonable(payload)))

    def commit(self) -> None:
        try:
            self.session.flush()
            self._write_pending()  # when nothing of the ORM's was left to flush
            self._write_audit()
            self.session.commit()
        except IntegrityError as exc:
            self.session.rollback()
            raise StateConflict(
                "A concurrent change or a database constraint refused this write; nothing was saved.",
                "并发修改或数据库约束拒绝了本次写入，未保存任何内容。",
            ) from exc
        except OperationalError as exc:
            self.session.rollback()
            if not _rolled_back(exc):
                # The connection was lost (the server went away) during the commit: the COMMIT may or may not
                # have reached it, so this is no refusal; the API answers 503 and a retry with the same key
                # learns the outcome.
                raise
            raise StateConflict(
                "The database could not complete this write in time (lock timeout); please retry.",
                "数据库未能及时完成写入（锁等待超时），请重试。",
            ) from exc
        self.committed = True

    def _write_audit(self) -> None:
        if not self._pending_audit:
            return
        if self.session.get_bind().dialect.name == "postgresql":
            # Serialise chain appends; held only for the end of this transaction.
            self.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": AUDIT_CHAIN_LOCK})
        last = self.session.execute(
            select(AuditEntry.seq, AuditEntry.entry_hash).order_by(AuditEntry.seq.desc()).limit(1)
        ).first()
        seq, prev = (last[0], last[1]) if last else (0, GENESIS_HASH)
        actor_id = self.actor.user_id if self.actor else None
        for action, subject_type, subject_id, payload in self._pending_audit:
            seq += 1
            fields: dict[str, Any] = {"seq": seq, "occurred_at": self._now, "actor_user_id": actor_id,
                                      "action": action, "subject_type": subject_type, "subject_id": subject_id,
                                      "payload": payload, "prev_hash": prev}
            digest = entry_hash(**fields)
            self.session.add(AuditEntry(**fields, entry_hash=digest))
            prev = digest
        self._pending_audit.clear()
        self.session.flush()
