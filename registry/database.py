"""Engines and sessions for PostgreSQL (production) and SQLite (the embedded first run)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

STATEMENT_TIMEOUT_MS = 5000
LOCK_TIMEOUT_MS = 3000


def normalise_url(url: str) -> str:
    """Accept postgres:// and postgresql:// and use psycopg 3 for both."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with timeouts on PostgreSQL and foreign keys plus a busy timeout on SQLite."""
    url = normalise_url(url)
    backend = make_url(url).get_backend_name()
    if backend == "postgresql":
        options = f"-c statement_timeout={STATEMENT_TIMEOUT_MS} -c lock_timeout={LOCK_TIMEOUT_MS}"
        if "poolclass" not in kwargs:
            kwargs.setdefault("pool_size", 10)
            kwargs.setdefault("max_overflow", 20)
            kwargs.setdefault("pool_pre_ping", True)
        engine = create_engine(url, connect_args={"options": options}, **kwargs)
    elif backend == "sqlite":
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # SQLite's own transaction handling is switched off so that BEGIN IMMEDIATE below takes the
            # write lock at the start of every unit of work: SQLite's single writer then serialises
            # spending exactly like row locks do on PostgreSQL.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        raise ValueError(f"unsupported database backend: {backend}")
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


def durability_problem(engine: Engine) -> str | None:
    """Why a commit on `engine` might not survive a PostgreSQL crash (None when it will): with
    synchronous_commit off the server acknowledges a commit before its WAL reaches the disk, so an exchange
    could answer "filled" for a trade that a crash then forgets."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        setting = conn.execute(text("SHOW synchronous_commit")).scalar_one()
        fsync = conn.execute(text("SHOW fsync")).scalar_one()
    if setting == "off":
        return "synchronous_commit is off"
    if fsync == "off":
        return "fsync is off"
    return None
