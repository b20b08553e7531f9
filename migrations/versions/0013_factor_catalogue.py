"""The emission-factor catalogue (排放因子库, Art. 11): numbered releases and immutable factor versions

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 01:20:47

A release goes through public notice and is then published; its factors are inserted once and never changed
(a correction is a new version in a later release), so a calculation that recorded code@version recomputes to
the same result for good. The database refuses UPDATE and DELETE of factor rows (as for the ledger).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def append_only(table: str) -> None:
    """Refuse UPDATE and DELETE of `table`'s rows in the database itself (also for its owner)."""
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
    op.create_table('factor_releases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('note', sa.String(length=4000), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('notice_end', sa.Date(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('public_notice', 'published', 'rejected')", name=op.f('ck_factor_releases_status')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_factor_releases_created_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_factor_releases')),
    sa.UniqueConstraint('number', name=op.f('uq_factor_releases_number'))
    )
    op.create_table('emission_factors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('release_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('activity', sa.String(length=60), nullable=False),
    sa.Column('sector', sa.String(length=40), nullable=False),
    sa.Column('unit', sa.String(length=30), nullable=False),
    sa.Column('name_zh', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('region', sa.String(length=10), nullable=False),
    sa.Column('data_year', sa.Integer(), nullable=False),
    sa.Column('value_kg', sa.String(length=48), nullable=False),
    sa.Column('gases', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('gwp_basis', sa.String(length=4), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('effective_to', sa.Date(), nullable=True),
    sa.Column('publisher', sa.String(length=200), nullable=False),
    sa.Column('dataset', sa.String(length=200), nullable=False),
    sa.Column('document_number', sa.String(length=100), nullable=True),
    sa.Column('link', sa.String(length=500), nullable=True),
    sa.Column('uncertainty_pct', sa.String(length=48), nullable=True),
    sa.Column('quality_flags', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('demo', sa.Boolean(), nullable=False),
    sa.Column('supersedes_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("gwp_basis IN ('AR4', 'AR5', 'AR6')", name=op.f('ck_emission_factors_gwp_basis')),
    sa.CheckConstraint('effective_to IS NULL OR effective_to >= effective_from', name=op.f('ck_emission_factors_period')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_emission_factors_version')),
    sa.ForeignKeyConstraint(['release_id'], ['factor_releases.id'], name=op.f('fk_emission_factors_release_id_factor_releases')),
    sa.ForeignKeyConstraint(['supersedes_id'], ['emission_factors.id'], name=op.f('fk_emission_factors_supersedes_id_emission_factors')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_emission_factors')),
    sa.UniqueConstraint('code', 'version', name=op.f('uq_emission_factors_code'))
    )
    with op.batch_alter_table('emission_factors', schema=None) as batch_op:
        batch_op.create_index('ix_emission_factors_activity_region', ['activity', 'region'], unique=False)
        batch_op.create_index(batch_op.f('ix_emission_factors_release_id'), ['release_id'], unique=False)
    append_only("emission_factors")



def downgrade() -> None:
    with op.batch_alter_table('emission_factors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_emission_factors_release_id'))
        batch_op.drop_index('ix_emission_factors_activity_region')

    drop_append_only('emission_factors')
    op.drop_table('emission_factors')
    op.drop_table('factor_releases')
