"""The schema comes from the migrations only, and the ORM models say the same thing."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from registry.orm import Base
from tests.conftest import Backend


def test_models_and_migrations_agree(backend: Backend) -> None:
    with backend.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"ORM models and migrations differ: {diff}"


def _append_one(backend: Backend) -> None:
    with backend.privileged_engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO audit_entries (seq, occurred_at, actor_user_id, action, subject_type, subject_id, "
            "payload, prev_hash, entry_hash) VALUES (1, CURRENT_TIMESTAMP, NULL, 'a', 's', '1', '{}', "
            "'" + "0" * 64 + "', '" + "1" * 64 + "')"))


def test_the_database_refuses_update_and_delete_of_audit_entries(backend: Backend) -> None:
    """The triggers hold even for the tables' owner (the service role is refused before them:
    tests/db/test_service_role.py)."""
    _append_one(backend)
    statements = ["UPDATE audit_entries SET action = 'forged'", "DELETE FROM audit_entries"]
    if backend.name == "postgres":
        statements.append("TRUNCATE audit_entries")
    for statement in statements:
        with pytest.raises(DBAPIError, match="append-only"), backend.privileged_engine.begin() as conn:
            conn.execute(text(statement))


def test_the_audit_chain_cannot_fork(backend: Backend) -> None:
    """Two entries claiming the same predecessor: the unique prev_hash refuses the second."""
    _append_one(backend)
    with pytest.raises(DBAPIError), backend.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO audit_entries (seq, occurred_at, actor_user_id, action, subject_type, subject_id, "
            "payload, prev_hash, entry_hash) VALUES (2, CURRENT_TIMESTAMP, NULL, 'a', 's', '1', '{}', "
            "'" + "0" * 64 + "', '" + "2" * 64 + "')"))
