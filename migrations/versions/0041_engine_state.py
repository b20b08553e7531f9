"""Engine states: the table engine_sessions is renamed engine_states

Revision ID: 0041_engine_state
Revises: 0012
Create Date: 2026-12-05 02:30:00

One word, one meaning: "session" is the database session only. The row an instrument's writer saves after each
batch (its event sequence, trading day and reference price) is the engine's state, so its table, its primary key
and its foreign key take that name. Only names change: no row, column or grant does (PostgreSQL keeps a table's
grants across a rename, and registry/database_roles.py grants on all tables).
"""

from __future__ import annotations

from alembic import op

revision = "0041_engine_state"
down_revision = "0040_batch_freeze"
branch_labels = None
depends_on = None

_CONSTRAINTS = (("pk_engine_sessions", "pk_engine_states"),
                ("fk_engine_sessions_instrument_id_instruments", "fk_engine_states_instrument_id_instruments"))


def _rename(old_table: str, new_table: str, constraints: tuple[tuple[str, str], ...]) -> None:
    op.rename_table(old_table, new_table)
    # SQLite cannot rename a constraint (its names live in the table's CREATE text and nothing compares them).
    if op.get_bind().dialect.name == "postgresql":
        for old, new in constraints:
            op.execute(f'ALTER TABLE {new_table} RENAME CONSTRAINT "{old}" TO "{new}"')


def upgrade() -> None:
    _rename("engine_sessions", "engine_states", _CONSTRAINTS)


def downgrade() -> None:
    _rename("engine_states", "engine_sessions", tuple((new, old) for old, new in _CONSTRAINTS))
