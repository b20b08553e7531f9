"""Database errors are answers, whichever shape they arrive in: wrapped by SQLAlchemy, or raw from psycopg
(the unit of work's own writes on the connection) or from sqlite3. A constraint is a 409 `state_conflict`, a
value the database cannot hold a 422 `invalid_value`, a busy database a 409 `busy`; never a 500.

The errors are real ones, made by the servers themselves, except sqlite3's DataError, which SQLite does not
raise for anything the registry writes."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import exc as sa
from sqlalchemy import select

from api.app import create_app
from api.settings import Settings
from registry.context import Registry
from registry.orm import Counter
from tests.conftest import Backend


def _postgres_error(postgres_url: str, *statements: tuple[str, tuple[Any, ...]]) -> psycopg.Error:
    """The error PostgreSQL (or psycopg, for what it refuses to send) raises for the last statement."""
    dsn = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn:
        try:
            for sql, params in statements:
                conn.execute(sql, params)
        except psycopg.Error as error:
            return error
    raise AssertionError("no error")


def _sqlite_error(*statements: str) -> sqlite3.Error:
    conn = sqlite3.connect(":memory:")
    try:
        for sql in statements:
            conn.execute(sql)
    except sqlite3.Error as error:
        return error
    finally:
        conn.close()
    raise AssertionError("no error")


UNIQUE = [("CREATE TEMP TABLE t (k text PRIMARY KEY)", ()), ("INSERT INTO t VALUES ('a'), ('a')", ())]
CHECK = [("CREATE TEMP TABLE t (n int CHECK (n >= 0))", ()), ("INSERT INTO t VALUES (-1)", ())]
NOT_NULL = [("CREATE TEMP TABLE t (n int NOT NULL)", ()), ("INSERT INTO t VALUES (NULL)", ())]
NUL = [("SELECT %s::text", ("a\x00b",))]
OUT_OF_RANGE = [("SELECT %s::int4", (2**40,))]
TOO_LONG = [("CREATE TEMP TABLE t (s varchar(3))", ()), ("INSERT INTO t VALUES ('abcd')", ())]
TIMEOUT = [("SET statement_timeout = 1", ()), ("SELECT pg_sleep(0.2)", ())]

# name → (the error, made when the test runs; the expected status and code)
CASES: dict[str, tuple[Callable[[str], Exception], int, str]] = {
    "psycopg UniqueViolation": (lambda pg: _postgres_error(pg, *UNIQUE), 409, "state_conflict"),
    "psycopg CheckViolation": (lambda pg: _postgres_error(pg, *CHECK), 409, "state_conflict"),
    "psycopg NotNullViolation": (lambda pg: _postgres_error(pg, *NOT_NULL), 409, "state_conflict"),
    "psycopg DataError (NUL)": (lambda pg: _postgres_error(pg, *NUL), 422, "invalid_value"),
    "psycopg NumericValueOutOfRange": (lambda pg: _postgres_error(pg, *OUT_OF_RANGE), 422, "invalid_value"),
    "psycopg StringDataRightTruncation": (lambda pg: _postgres_error(pg, *TOO_LONG), 422, "invalid_value"),
    "psycopg QueryCanceled": (lambda pg: _postgres_error(pg, *TIMEOUT), 409, "busy"),
    "SQLAlchemy IntegrityError": (lambda pg: sa.IntegrityError("INSERT", {}, _postgres_error(pg, *UNIQUE)),
                                  409, "state_conflict"),
    "SQLAlchemy DataError": (lambda pg: sa.DataError("SELECT", {}, _postgres_error(pg, *OUT_OF_RANGE)),
                             422, "invalid_value"),
    "sqlite3 IntegrityError": (lambda _: _sqlite_error("CREATE TABLE t (k PRIMARY KEY)",
                                                       "INSERT INTO t VALUES (1), (1)"), 409, "state_conflict"),
    "sqlite3 DataError": (lambda _: sqlite3.DataError("value out of range"), 422, "invalid_value"),
    "sqlite3 database is locked": (lambda _: sqlite3.OperationalError("database is locked"), 409, "busy"),
}


@pytest.fixture(scope="module")
def raising_app() -> Iterator[tuple[TestClient, dict[str, Exception]]]:
    """An app with one extra route that raises whatever error the test put in `to_raise`."""
    app: FastAPI = create_app(Settings(database_url="sqlite://", jwt_secret="x" * 40))  # type: ignore[arg-type]
    to_raise: dict[str, Exception] = {}

    @app.post("/test-only/raise")
    def raise_it() -> None:
        raise to_raise["error"]

    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, to_raise


@pytest.mark.parametrize("case", list(CASES))
def test_each_shape_of_database_error_is_an_answer(raising_app: tuple[TestClient, dict[str, Exception]],
                                                   postgres_url: str, case: str,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    client, to_raise = raising_app
    make, status, code = CASES[case]
    to_raise["error"] = make(postgres_url)
    response = client.post("/test-only/raise")
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code and body["type"] == f"/problems/{code}"
    assert "INSERT" not in body["detail"] and "SELECT" not in body["detail"]  # no SQL leaks out
    assert "unhandled error" not in caplog.text


# ---- a real failure on the unit of work's own write path ----

ROWS = {
    "duplicate key": ([{"name": "dup", "value": 1}, {"name": "dup", "value": 2}], 409, "state_conflict"),
    "NUL in text": ([{"name": "a\x00b", "value": 1}], 422, "invalid_value"),
    "missing value": ([{"name": "none", "value": None}], 409, "state_conflict"),
    "too large for bigint": ([{"name": "big", "value": 2**70}], 422, "invalid_value"),
}
# SQLite stores a NUL, and its driver raises OverflowError (not a database error) before a
# too-large integer is sent: the API's own bounds keep both out (tests/api/test_input_hygiene.py).
SQLITE_ROWS = ["duplicate key", "missing value"]


@pytest.mark.parametrize("case", list(ROWS))
def test_a_raw_write_refused_by_the_database_is_an_answer(registry: Registry, backend: Backend, settings: Settings,
                                                          case: str, caplog: pytest.LogCaptureFixture) -> None:
    if backend.name == "sqlite" and case not in SQLITE_ROWS:
        pytest.skip("SQLite itself takes this value; the API's input bounds keep it out (see SQLITE_ROWS)")
    rows, status, code = ROWS[case]
    app = create_app(settings, registry=registry, kv=backend.kv)

    @app.post("/test-only/raw-write")
    def raw_write() -> None:
        with registry.uow() as uow:
            uow.sql.insert_rows("counters", rows)
            uow.commit()

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/test-only/raw-write")
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert "unhandled error" not in caplog.text
    with registry.uow() as uow:  # nothing of the refused write was kept
        kept = set(uow.session.scalars(select(Counter.name)))
    assert not kept & {row["name"] for row in rows}
