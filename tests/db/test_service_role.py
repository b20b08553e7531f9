"""The service runs as a PostgreSQL role that may read and write rows and nothing more: it cannot rewrite the
ledger's history, switch off the triggers that guard it, or empty a table (Trust I, safe defaults)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from api.app import build_registry
from api.settings import Settings
from registry.database import make_engine
from registry.database_roles import PrivilegedDatabaseRole, privilege_problems

pytestmark = pytest.mark.postgres


@pytest.fixture
def service_engine(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url, poolclass=NullPool)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("statement", [
    "UPDATE postings SET amount = amount",
    "DELETE FROM postings",
    "UPDATE journal_entries SET memo = memo",
    "DELETE FROM audit_entries",
    "UPDATE audit_entries SET action = action",
    "DELETE FROM trades",
    "DELETE FROM serial_blocks",
    "UPDATE emission_factors SET value_kg = value_kg",
    "DELETE FROM emission_factors",
    "UPDATE event_inventories SET total_g = total_g",
    "DELETE FROM event_offsets",
    "TRUNCATE audit_entries",
    "TRUNCATE balances",
    "ALTER TABLE postings DISABLE TRIGGER postings_append_only",
    "ALTER TABLE audit_entries DISABLE TRIGGER ALL",
    "DROP TRIGGER audit_entries_append_only ON audit_entries",
    "SET session_replication_role = replica",
    "UPDATE alembic_version SET version_num = version_num",
    "CREATE TABLE smuggled (id int)",
])
def test_the_service_role_cannot_undo_what_the_ledger_promises(service_engine: Engine, statement: str) -> None:
    with pytest.raises(DBAPIError) as refused, service_engine.begin() as conn:
        conn.execute(text(statement))
    assert isinstance(refused.value.orig, psycopg.errors.InsufficientPrivilege), refused.value.orig


def test_the_service_role_reads_and_writes_the_rows_it_needs(service_engine: Engine) -> None:
    with service_engine.connect() as conn:  # rolled back on leaving: the shared database stays as it was
        conn.execute(text("SELECT count(*) FROM postings")).scalar_one()
        conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        conn.execute(text(
            "INSERT INTO audit_entries (seq, occurred_at, actor_user_id, action, subject_type, subject_id, "
            "payload, prev_hash, entry_hash) VALUES (999999, CURRENT_TIMESTAMP, NULL, 'a', 's', '1', '{}', "
            "'" + "e" * 64 + "', '" + "f" * 64 + "')"))
        conn.execute(text("UPDATE balances SET amount = amount"))  # a cached sum the ledger keeps
        conn.rollback()
    assert privilege_problems(service_engine) == []


def test_the_service_refuses_to_start_as_the_tables_owner(postgres_owner_url: str, postgres_url: str) -> None:
    owner = make_engine(postgres_owner_url, poolclass=NullPool)
    try:
        problems = privilege_problems(owner)
    finally:
        owner.dispose()
    assert any("superuser" in p or "owns" in p for p in problems)
    secret = SecretStr("x" * 40)
    with pytest.raises(PrivilegedDatabaseRole, match="CARBONX_MIGRATION_DATABASE_URL"):
        build_registry(Settings(database_url=postgres_owner_url, jwt_secret=secret))
    allowed = build_registry(Settings(database_url=postgres_owner_url, jwt_secret=secret,
                                      allow_privileged_database_role=True))
    allowed.engine.dispose()
    build_registry(Settings(database_url=postgres_url, jwt_secret=secret)).engine.dispose()
