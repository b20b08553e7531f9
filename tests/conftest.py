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
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import psycopg
import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from api.app import create_app
from api.kv import KeyValueStore, MemoryStore, RedisStore
from api.settings import Settings
from registry.clock import FixedClock
from registry.context import Registry
from registry.database import make_engine, make_session_factory, normalise_url
from registry.demo import DEMO_CONTINUATION
from registry.documents import DocumentStore
from registry.migrate import migrate, upgrade
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


# The role the service runs as in the tests, as in production: it may read and write rows, nothing more
# (registry/database_roles.py). The suite's own set-up and resets connect as the owner (postgres_owner_url).
SERVICE_ROLE = "carbonx_service_test"


@pytest.fixture(scope="session")
def postgres_owner_url() -> Iterator[str]:
    """A throw-away database on the PostgreSQL server, migrated to head by its owner, with the service role
    granted its privileges."""
    url = make_url(normalise_url(POSTGRES_URL))
    admin_dsn = url.set(drivername="postgresql", database=url.database or "postgres").render_as_string(
        hide_password=False)
    name = f"carbonx_test_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(admin_dsn, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        _unavailable("PostgreSQL", exc)
    owner_url = url.set(database=name).render_as_string(hide_password=False)
    service_url = url.set(database=name, username=SERVICE_ROLE, password=None).render_as_string(
        hide_password=False)
    for attempt in range(3):
        try:
            migrate(owner_url, service_url)
            break
        except DBAPIError:  # another run on this server created the (cluster-wide) role at the same moment
            if attempt == 2:
                raise
    yield owner_url
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_url(postgres_owner_url: str) -> str:
    """The same database as the service role sees it: what the app, its servers and the tests' services use."""
    return make_url(postgres_owner_url).set(username=SERVICE_ROLE, password=None).render_as_string(
        hide_password=False)


REDIS_CLAIM_SECONDS = 6 * 3600


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis database this run has to itself: the configured one, or the next that no other run on this server
    has claimed (every test flushes it, so two runs must never share one). Claims are keys in database 0 that
    expire, so a run killed without cleaning up frees its database after a while."""
    first = int(urlsplit(REDIS_URL).path.strip("/") or 0)
    claims = redis.Redis.from_url(REDIS_URL, db=0, socket_connect_timeout=2)
    try:
        claims.ping()
    except redis.RedisError as exc:
        _unavailable("Redis", exc)
    run = uuid.uuid4().hex
    for db in [first, *(n for n in range(15, 0, -1) if n != first)]:
        if db and claims.set(f"carbonx-test:redis-db:{db}", run, nx=True, ex=REDIS_CLAIM_SECONDS):
            break
    else:
        pytest.fail("every Redis database 1-15 is claimed by another test run on this server", pytrace=False)
    yield urlunsplit(urlsplit(REDIS_URL)._replace(path=f"/{db}"))
    if claims.get(f"carbonx-test:redis-db:{db}") == run.encode():
        claims.delete(f"carbonx-test:redis-db:{db}")


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
    # PostgreSQL: the tables' owner, for what the service role may not do (resets, planting rows by hand).
    owner_engine: Engine | None = None

    @property
    def privileged_engine(self) -> Engine:
        """The owner's engine on PostgreSQL (the service's on SQLite, which has no roles)."""
        return self.owner_engine or self.engine

    def reset(self) -> None:
        """Empty the database again (for tests that run many examples on one backend)."""
        if self.template is None:
            assert self.owner_engine is not None
            _truncate_postgres(self.owner_engine)
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
    owner_engine = make_engine(request.getfixturevalue("postgres_owner_url"), poolclass=NullPool)
    _truncate_postgres(owner_engine)
    store.client.flushdb()
    yield Backend("postgres", engine, store, url, owner_engine=owner_engine)
    engine.dispose()
    owner_engine.dispose()


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
