"""Continuous trading: orders with their holds, trades settled once, engine counters, idempotency keys

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 10:49:04.898858
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "engine_sessions",
        sa.Column("instrument_id", sa.Integer(), nullable=False),
        sa.Column("next_seq", sa.BigInteger(), nullable=False),
        sa.Column("trading_day", sa.String(length=10), nullable=False),
        sa.Column("reference_price_fen", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["instrument_id"], ["instruments.id"], name=op.f("fk_engine_sessions_instrument_id_instruments")
        ),
        sa.PrimaryKeyConstraint("instrument_id", name=op.f("pk_engine_sessions")),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column(
            "response", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_idempotency_keys_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("instrument_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("client_order_id", sa.String(length=64), nullable=False),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column("order_type", sa.String(length=10), nullable=False),
        sa.Column("tif", sa.String(length=4), nullable=False),
        sa.Column("price_fen", sa.BigInteger(), nullable=True),
        sa.Column("hold_price_fen", sa.BigInteger(), nullable=True),
        sa.Column("quantity_t", sa.BigInteger(), nullable=False),
        sa.Column("remaining_t", sa.BigInteger(), nullable=False),
        sa.Column("filled_t", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("cash_held_fen", sa.BigInteger(), nullable=False),
        sa.Column(
            "held_blocks", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("priority", sa.BigInteger(), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("side IN ('buy', 'sell')", name=op.f("ck_orders_side")),
        sa.CheckConstraint(
            "status IN ('open', 'filled', 'cancelled', 'expired', 'rejected')", name=op.f("ck_orders_status")
        ),
        sa.CheckConstraint("cash_held_fen >= 0", name=op.f("ck_orders_cash_held")),
        sa.CheckConstraint(
            "quantity_t > 0 AND remaining_t >= 0 AND filled_t >= 0 AND filled_t <= quantity_t",
            name=op.f("ck_orders_quantities"),
        ),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_orders_account_id_accounts")),
        sa.ForeignKeyConstraint(
            ["instrument_id"], ["instruments.id"], name=op.f("fk_orders_instrument_id_instruments")
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participants.id"], name=op.f("fk_orders_participant_id_participants")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_orders_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("participant_id", "client_order_id", name=op.f("uq_orders_participant_id")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_orders_instrument_status", ["instrument_id", "status"], unique=False)

    op.create_table(
        "trades",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("instrument_id", sa.Integer(), nullable=False),
        sa.Column("engine_trade_id", sa.BigInteger(), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("price_fen", sa.BigInteger(), nullable=False),
        sa.Column("quantity_t", sa.BigInteger(), nullable=False),
        sa.Column("buy_order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sell_order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("aggressor", sa.String(length=4), nullable=True),
        sa.Column("fee_fen", sa.BigInteger(), nullable=False),
        sa.Column("cash_entry_id", sa.Integer(), nullable=False),
        sa.Column("credit_entry_id", sa.Integer(), nullable=False),
        sa.Column("trading_day", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("quantity_t > 0 AND price_fen > 0 AND fee_fen >= 0", name=op.f("ck_trades_amounts")),
        sa.ForeignKeyConstraint(["buy_order_id"], ["orders.id"], name=op.f("fk_trades_buy_order_id_orders")),
        sa.ForeignKeyConstraint(
            ["cash_entry_id"], ["journal_entries.id"], name=op.f("fk_trades_cash_entry_id_journal_entries")
        ),
        sa.ForeignKeyConstraint(
            ["credit_entry_id"], ["journal_entries.id"], name=op.f("fk_trades_credit_entry_id_journal_entries")
        ),
        sa.ForeignKeyConstraint(
            ["instrument_id"], ["instruments.id"], name=op.f("fk_trades_instrument_id_instruments")
        ),
        sa.ForeignKeyConstraint(["sell_order_id"], ["orders.id"], name=op.f("fk_trades_sell_order_id_orders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trades")),
        sa.UniqueConstraint("instrument_id", "engine_trade_id", name=op.f("uq_trades_instrument_id")),
    )
    with op.batch_alter_table("trades", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trades_buy_order_id"), ["buy_order_id"], unique=False)
        batch_op.create_index("ix_trades_instrument_id", ["instrument_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_trades_sell_order_id"), ["sell_order_id"], unique=False)

    # A trade, once recorded and settled, never changes.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER trades_append_only BEFORE UPDATE OR DELETE ON trades "
            "FOR EACH ROW EXECUTE FUNCTION refuse_audit_change()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER trades_no_{event.lower()} BEFORE {event} ON trades "
                f"BEGIN SELECT RAISE(ABORT, 'trades is append-only ({event} refused)'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS trades_append_only ON trades")
    with op.batch_alter_table("trades", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trades_sell_order_id"))
        batch_op.drop_index("ix_trades_instrument_id")
        batch_op.drop_index(batch_op.f("ix_trades_buy_order_id"))

    op.drop_table("trades")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_instrument_status")

    op.drop_table("orders")
    op.drop_table("idempotency_keys")
    op.drop_table("engine_sessions")
