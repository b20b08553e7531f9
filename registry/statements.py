"""SQL that goes around the ORM: fixed statements handed straight to the driver, rows queued to be inserted
at once, keys taken ahead from a sequence, and the pipeline that writes what waits at the next flush.

Why it exists: an instrument's writer settles a batch of commands in one transaction, and on two shared cores
what SQLAlchemy does per statement, per row and per round trip cost it more CPU than the database spent running
the statements (a four-row locking read: 570 µs through the ORM, 140 µs through the driver; the ORM's INSERT
of one order several times that row's share of a multi-row insert; a dozen round trips per batch, each a wait
for the scheduler). So the writer's small per-batch statements are compiled once (`FixedStatement`) and run on
the session's own connection (`Statements.fetch`, `Statements.execute_many`); rows only ever inserted are
queued (`Statements.append`, `Statements.add_new`) with keys taken ahead (`Keys`), and go out, with the other
changes kept outside the ORM (`Statements.before_write`), in one pipeline, one round trip, before the next query
or flush and at commit. Every use case goes through the same code (each unit of work has its `Statements`),
so the registry's movements and the writer's write their rows the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, cast

import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy import JSON, ColumnElement, Select, any_, bindparam, event, func, insert, select, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import ORMExecuteState, QueryableAttribute, Session, make_transient_to_detached
from sqlalchemy.sql.dml import UpdateBase

from registry.errors import DomainError
from registry.orm import Base

ID_BLOCK = 64  # primary keys taken from a PostgreSQL sequence at a time (see Keys)


Fixed = UpdateBase | Select[*tuple[Any, ...]]


class FixedStatement:
    """A statement whose SQL is the same every time (named parameters; a list goes in one parameter, see
    `one_of`), built and compiled once per dialect. On PostgreSQL `Statements.execute_many` and `fetch` hand
    it straight to the driver, skipping what SQLAlchemy does per execution (building the statement, its cache
    key, expanding IN lists, processing parameters and rows): for the small statements an instrument's writer
    sends with every batch, that work cost the writer more CPU than the database spent running them. Only
    for parameters and columns the driver adapts as they are (integers, strings, booleans, dates, times),
    never JSON."""

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


class Keys:
    """PostgreSQL keys taken from the tables' sequences and not used yet, `block` at a time. A long-lived
    caller (an instrument's writer) keeps one from transaction to transaction: a key the sequence handed out
    stays unused for good even when the transaction that took it rolls back, so none is ever handed out
    twice."""

    def __init__(self, block: int = ID_BLOCK) -> None:
        self.block = block
        self._pool: dict[str, list[int]] = {}

    def take(self, session: Session, table: str) -> int:
        pool = self._pool.setdefault(table, [])
        if not pool:
            pool.extend(session.scalars(
                text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
                {"t": table, "n": self.block}))
            pool.reverse()
        return pool.pop()


class Statements:
    """One transaction's SQL around the ORM, on its session's connection (see the module's docstring)."""

    def __init__(self, session: Session, keys: Keys) -> None:
        self.session = session
        self._keys = keys
        self._last_ids: dict[str, int] = {}  # SQLite: the last key handed out per table in this transaction
        # Rows only ever inserted (journal entries, postings) waiting to be written, per table in the order
        # they must go out (see append), and the new ORM objects to insert ahead of them (see add_new).
        self._appended: dict[str, list[dict[str, Any]]] = {}
        self._new_objects: list[Base] = []
        # What else writes rows this transaction keeps outside the ORM (registry.services.balances and
        # registry.services.serial_blocks), run after the appended rows in the order registered: (anything to
        # write?, write).
        self._writers: dict[str, tuple[Callable[[], bool], Callable[[], None]]] = {}
        # While pending rows are written in one pipeline: what to do with each write's cursor when it syncs.
        self._synced: list[Callable[[], int]] | None = None
        # Rows kept outside the ORM go out ahead of whatever a flush writes (the ORM's rows may name them), and
        # before a query whenever the session would autoflush (so a query sees them, as it sees ORM objects).
        event.listen(session, "before_flush", lambda *_: self.write_pending())
        event.listen(session, "do_orm_execute", self._before_query)

    def next_id(self, table: str) -> int:
        """A new primary key for `table`, so a row can be referred to before it is written and many rows go
        out in one flush instead of one flush each. PostgreSQL: from the table's sequence (see Keys).
        SQLite: one past the largest key, counting on in this transaction (which holds the database's only
        write lock; every row of a table that takes keys this way must take them here)."""
        if self.session.get_bind().dialect.name == "postgresql":
            return self._keys.take(self.session, table)
        last = self._last_ids.get(table)
        if last is None:
            key = Base.metadata.tables[table].c.id
            last = self.session.scalar(select(func.coalesce(func.max(key), 0))) or 0
        self._last_ids[table] = last + 1
        return last + 1

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

    def before_write(self, name: str, pending: Callable[[], bool], write: Callable[[], None]) -> None:
        """Have `write` run (once per name, in the order first registered) whenever pending rows are written,
        after the appended rows, if `pending` says it has something to write."""
        if name not in self._writers:
            self._writers[name] = (pending, write)

    def write_pending(self) -> None:
        """Write what waits outside the ORM: new objects, appended rows, then the registered writers' changes.
        On PostgreSQL all in one pipeline, one round trip for the lot (a batch of the writer's sent a dozen,
        each a wait while the database, on two shared cores, got its turn); the checks that every row to
        change was changed are made when it syncs."""
        if not (self._new_objects or self._appended or any(pending() for pending, _ in self._writers.values())):
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
        for _, write in self._writers.values():
            write()

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
            self.write_pending()
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
            self.write_pending()
