"""Test wiring. The database-facing suite runs on SQLite + in-process stand-ins AND on PostgreSQL + Redis,
each on a schema made by `alembic upgrade head`.

PostgreSQL and Redis are taken from CARBONX_TEST_POSTGRES_URL / CARBONX_TEST_REDIS_URL (defaults: the
local servers). When they are unreachable their half of the suite is skipped, unless
CARBONX_REQUIRE_SERVICES=1 (as in CI), where that is a failure.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from api.app import create_app
from api.kv import KeyValueStore, MemoryStore, RedisStore
from api.settings import Settings
from registry.clock import FixedClock
from registry.context import Registry
from registry.database import make_engine, make_session_factory, normalise_url
from registry.demo import DEMO_CONTINUATION
from registry.documents import DocumentStore
from registry.migrate import upgrade
from registry.orm import Base
from registry.services.rule_sets import ensure_builtin_rule_set, register_rule_set

POSTGRES_URL = os.environ.get("CARBONX_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("CARBONX_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRE = os.environ.get("CARBONX_REQUIRE_SERVICES") == "1"

# The tests' "now": a working day in Jiaxing, after the trial measures expired (see the demo continuation).
TEST_NOW = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def _unavailable(what: str, error: Exception) -> None:
    message = f"{what} unreachable: {error}"
    if REQUIRE:
        pytest.fail(f"CARBONX_REQUIRE_SERVICES=1 but {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throw-away database on the PostgreSQL server, migrated to head."""
    url = make_url(normalise_url(POSTGRES_URL))
    admin_dsn = url.set(drivername="postgresql", database=url.database or "postgres").render_as_string(
        hide_password=False)
    name = f"carbonx_test_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(admin_dsn, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        _unavailable("PostgreSQL", exc)
    test_url = url.set(database=name).render_as_string(hide_password=False)
    upgrade(test_url)
    yield test_url
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        _unavailable("Redis", exc)
    return REDIS_URL


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@dataclass
class Backend:
    name: str
    engine: Engine
    kv: KeyValueStore
    url: str
    template: Path | None = None

    def reset(self) -> None:
        """Empty the database again (for tests that run many examples on one backend)."""
        if self.template is None:
            _truncate_postgres(self.engine)
            return
        self.engine.dispose()
        shutil.copy(self.template, self.url.removeprefix("sqlite:///"))
        self.engine = make_engine(self.url)


def _truncate_postgres(engine: Engine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        # replica role skips the audit table's append-only triggers for this reset only.
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """A clean database and key-value store of each kind, for every test that asks for one."""
    if request.param == "sqlite":
        path = tmp_path / "registry.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
        engine = make_engine(url)
        yield Backend("sqlite", engine, MemoryStore(), url, template=request.getfixturevalue("sqlite_template"))
        engine.dispose()
        return
    url = request.getfixturevalue("postgres_url")
    store = RedisStore(request.getfixturevalue("redis_url"))
    engine = make_engine(url)
    _truncate_postgres(engine)
    store.client.flushdb()
    yield Backend("postgres", engine, store, url)
    engine.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(TEST_NOW)


@pytest.fixture
def registry(backend: Backend, clock: FixedClock, tmp_path: Path) -> Registry:
    reg = Registry(engine=backend.engine, session_factory=make_session_factory(backend.engine), clock=clock,
                   documents=DocumentStore(tmp_path / "documents"))
    with reg.uow() as uow:
        ensure_builtin_rule_set(uow)
        # The trial measures expired in 2025; the tests' "now" needs the (demo) successor in force.
        register_rule_set(uow, DEMO_CONTINUATION)
        uow.commit()
    return reg


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(database_url="sqlite://", data_dir=tmp_path, allow_clock_travel=True,  # type: ignore[arg-type]
                    jwt_secret="test-secret-0123456789abcdef0123456789abcdef",
                    max_document_bytes=256 * 1024,
                    rate_limit_per_minute=100_000, login_attempts_per_minute=1000)


@pytest.fixture
def client(registry: Registry, backend: Backend, settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings, registry=registry, kv=backend.kv)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
