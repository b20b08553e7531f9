"""Event carbon neutrality (大型活动碳中和, Art. 21, 24, 26, 28): events, their inventories, their offsets

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 01:30:00

An inventory version and an offset are inserted once and never changed (the database refuses UPDATE and
DELETE of their rows). A retirement backs one event only: event_offsets.retirement_id is unique.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

APPEND_ONLY = ("event_inventories", "event_offsets")


def append_only(table: str) -> None:
    """Refuse UPDATE and DELETE of `table`'s rows in the database itself (a migration is a frozen snapshot,
    so it keeps its own copy of 0013's helper rather than importing code that may change)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION refuse_audit_change()")
        return
    for event in ("UPDATE", "DELETE"):
        op.execute(f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                   f"BEGIN SELECT RAISE(ABORT, '{table} is append-only ({event} refused)'); END")


def drop_append_only(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")


def upgrade() -> None:
    op.create_table('events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('event_type', sa.String(length=20), nullable=False),
    sa.Column('organiser_id', sa.Integer(), nullable=False),
    sa.Column('venue', sa.String(length=200), nullable=False),
    sa.Column('venue_county', sa.String(length=6), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('attendees', sa.Integer(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('reduction_measures', sa.String(length=4000), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('assessment_kind', sa.String(length=20), nullable=True),
    sa.Column('assessor_id', sa.Integer(), nullable=True),
    sa.Column('assessed_by', sa.Integer(), nullable=True),
    sa.Column('conclusion', sa.String(length=2000), nullable=True),
    sa.Column('statement_code', sa.String(length=40), nullable=True),
    sa.Column('declared_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("assessment_kind IS NULL OR assessment_kind IN ('declaration', 'third_party')", name=op.f('ck_events_assessment_kind')),
    sa.CheckConstraint("event_type IN ('performance', 'match', 'conference', 'forum', 'exhibition')", name=op.f('ck_events_event_type')),
    sa.CheckConstraint("status IN ('planned', 'inventoried', 'neutral')", name=op.f('ck_events_status')),
    sa.CheckConstraint('attendees >= 0', name=op.f('ck_events_attendees')),
    sa.CheckConstraint('deadline >= ends_on', name=op.f('ck_events_deadline')),
    sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_events_dates')),
    sa.ForeignKeyConstraint(['assessed_by'], ['users.id'], name=op.f('fk_events_assessed_by_users')),
    sa.ForeignKeyConstraint(['assessor_id'], ['participants.id'], name=op.f('fk_events_assessor_id_participants')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_events_created_by_users')),
    sa.ForeignKeyConstraint(['organiser_id'], ['participants.id'], name=op.f('fk_events_organiser_id_participants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events')),
    sa.UniqueConstraint('code', name=op.f('uq_events_code')),
    sa.UniqueConstraint('statement_code', name=op.f('uq_events_statement_code'))
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_events_organiser_id'), ['organiser_id'], unique=False)

    op.create_table('event_inventories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('lines', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('exclusions', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('total_g', sa.BigInteger(), nullable=False),
    sa.Column('total_t', sa.BigInteger(), nullable=False),
    sa.Column('trace_hash', sa.String(length=64), nullable=False),
    sa.Column('prepared_by', sa.Integer(), nullable=False),
    sa.Column('preparer_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('total_g >= 0', name=op.f('ck_event_inventories_total_g')),
    sa.CheckConstraint('total_t >= 0', name=op.f('ck_event_inventories_total_t')),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_inventories_event_id_events')),
    sa.ForeignKeyConstraint(['prepared_by'], ['users.id'], name=op.f('fk_event_inventories_prepared_by_users')),
    sa.ForeignKeyConstraint(['preparer_id'], ['participants.id'], name=op.f('fk_event_inventories_preparer_id_participants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_inventories')),
    sa.UniqueConstraint('event_id', 'version', name=op.f('uq_event_inventories_event_id'))
    )
    with op.batch_alter_table('event_inventories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_inventories_event_id'), ['event_id'], unique=False)

    op.create_table('event_offsets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('retirement_id', sa.Integer(), nullable=True),
    sa.Column('external_registry', sa.String(length=200), nullable=True),
    sa.Column('external_serials', sa.String(length=500), nullable=True),
    sa.Column('external_quantity_t', sa.BigInteger(), nullable=True),
    sa.Column('proof_sha256', sa.String(length=64), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(kind = 'retirement' AND retirement_id IS NOT NULL AND external_registry IS NULL) OR (kind = 'external' AND retirement_id IS NULL AND external_registry IS NOT NULL AND external_quantity_t > 0)", name=op.f('ck_event_offsets_shape')),
    sa.CheckConstraint("kind IN ('retirement', 'external')", name=op.f('ck_event_offsets_kind')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_event_offsets_created_by_users')),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_offsets_event_id_events')),
    sa.ForeignKeyConstraint(['retirement_id'], ['retirements.id'], name=op.f('fk_event_offsets_retirement_id_retirements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_offsets')),
    sa.UniqueConstraint('retirement_id', name=op.f('uq_event_offsets_retirement_id'))
    )
    with op.batch_alter_table('event_offsets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_offsets_event_id'), ['event_id'], unique=False)
    for table in APPEND_ONLY:
        append_only(table)


def downgrade() -> None:
    for table in APPEND_ONLY:
        drop_append_only(table)
    with op.batch_alter_table('event_offsets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_offsets_event_id'))

    op.drop_table('event_offsets')
    with op.batch_alter_table('event_inventories', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_inventories_event_id'))

    op.drop_table('event_inventories')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_events_organiser_id'))

    op.drop_table('events')
