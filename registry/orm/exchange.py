"""The exchange: its reference data (instruments, market closures, cash movements from bank
confirmations) and trading in every mode (orders, trades, each engine's state, who owns which book)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.orm.base import Base, JSONType, _in
from registry.orm.methodologies import METHODOLOGY_FIELDS

INSTRUMENT_STATUSES = ("active", "halted")


class Instrument(Base):
    """A tradable instrument: the certified reductions of one vintage (and optionally one methodology field).
    Its engine settings (tick, lot, bands) are kept as the engine's own configuration data."""

    __tablename__ = "instruments"
    __table_args__ = (
        CheckConstraint(_in("status", INSTRUMENT_STATUSES), name="status"),
        CheckConstraint("methodology_field IS NULL OR " + _in("methodology_field", METHODOLOGY_FIELDS),
                        name="methodology_field"),
        UniqueConstraint("vintage", "methodology_field"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    vintage: Mapped[int] = mapped_column(Integer)
    methodology_field: Mapped[str | None] = mapped_column(String(40))
    config: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]


class MarketClosure(Base):
    """A weekday the market is closed, recorded by the operator: a year's public holidays from the State
    Council's notice when it comes out (the ones shipped with the code are in registry/market_closures.csv),
    or a closure announced ahead for another reason. Only a day not yet begun may be recorded or withdrawn."""

    __tablename__ = "market_closures"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(300))
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime]


CASH_MOVEMENT_KINDS = ("deposit", "withdrawal")


class CashMovement(Base):
    """A deposit or withdrawal the operator records from a bank confirmation; the bank reference is unique,
    so recording the same confirmation twice is refused."""

    __tablename__ = "cash_movements"
    __table_args__ = (
        CheckConstraint(_in("kind", CASH_MOVEMENT_KINDS), name="kind"),
        CheckConstraint("amount_fen > 0", name="amount"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    bank_reference: Mapped[str] = mapped_column(String(64), unique=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"))
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


ORDER_SIDES = ("buy", "sell")
ORDER_STATUSES = ("open", "filled", "cancelled", "expired", "rejected")
# What an order row is in each trade mode (Art. 20): a book order (竞价交易), a listing and a pick of it
# (挂牌点选), a proposal and its acceptance (协议转让), a one-sided auction and a bid in it (单向竞价).
# Every kind holds and settles the same way.
ORDER_KINDS = ("order", "listing", "pick", "proposal", "acceptance", "auction", "bid")


class Order(Base):
    """An order as the exchange acknowledged it, with what it still holds: cash for a buy, exact serial
    ranges for a sell (so settlement moves precisely what this order reserved)."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(_in("side", ORDER_SIDES), name="side"),
        CheckConstraint(_in("status", ORDER_STATUSES), name="status"),
        CheckConstraint("quantity_t > 0 AND remaining_t >= 0 AND filled_t >= 0 AND filled_t <= quantity_t",
                        name="quantities"),
        CheckConstraint("cash_held_fen >= 0", name="cash_held"),
        CheckConstraint(_in("kind", ORDER_KINDS), name="kind"),
        UniqueConstraint("participant_id", "client_order_id"),
        Index("ix_orders_instrument_status", "instrument_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    client_order_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(12), default="order", server_default="order")
    parent_order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    counterparty_participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id"), index=True)
    min_pick_t: Mapped[int | None] = mapped_column(BigInteger)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"))
    allowed_counterparties: Mapped[list[int] | None] = mapped_column(JSONType)
    side: Mapped[str] = mapped_column(String(4))
    order_type: Mapped[str] = mapped_column(String(10))
    tif: Mapped[str] = mapped_column(String(4))
    price_fen: Mapped[int | None] = mapped_column(BigInteger)
    hold_price_fen: Mapped[int | None] = mapped_column(BigInteger)
    quantity_t: Mapped[int] = mapped_column(BigInteger)
    remaining_t: Mapped[int] = mapped_column(BigInteger)
    filled_t: Mapped[int] = mapped_column(BigInteger, default=0)
    expires_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str | None] = mapped_column(String(40))
    cash_held_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    held_blocks: Mapped[list[Any]] = mapped_column(JSONType)
    priority: Mapped[int | None] = mapped_column(BigInteger)
    request_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Trade(Base):
    """A trade, settled delivery-versus-payment in the same transaction that recorded it; the unique
    (instrument, engine trade id) makes settling one twice impossible."""

    __tablename__ = "trades"
    __table_args__ = (
        UniqueConstraint("instrument_id", "engine_trade_id"),
        CheckConstraint("quantity_t > 0 AND price_fen > 0 AND fee_fen >= 0", name="amounts"),
        Index("ix_trades_instrument_id", "instrument_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id"))
    engine_trade_id: Mapped[int] = mapped_column(BigInteger)
    mode: Mapped[str] = mapped_column(String(20))
    price_fen: Mapped[int] = mapped_column(BigInteger)
    quantity_t: Mapped[int] = mapped_column(BigInteger)
    buy_order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    sell_order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    # Declared so that a flush writes new orders before the trades that name them: the exchange writes an order
    # with its preallocated id in the same flush as its first trades (never loaded, never assigned).
    buy_order: Mapped[Order] = relationship(foreign_keys=[buy_order_id], lazy="raise")
    sell_order: Mapped[Order] = relationship(foreign_keys=[sell_order_id], lazy="raise")
    aggressor: Mapped[str | None] = mapped_column(String(4))
    fee_fen: Mapped[int] = mapped_column(BigInteger)
    cash_entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"))
    credit_entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"))
    trading_day: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime]


class EngineState(Base):
    """An instrument engine's event sequence and market state as of its last committed batch (what the database
    keeps of the engine's floor), so a restart continues the same numbering (trade ids continue from the trades
    table)."""

    __tablename__ = "engine_states"

    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id"), primary_key=True)
    next_seq: Mapped[int] = mapped_column(BigInteger)
    trading_day: Mapped[str] = mapped_column(String(10))
    reference_price_fen: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime]


class BookOwner(Base):
    """Which process owns an instrument's book, fenced by an epoch: the process that takes the book's advisory
    lock increments it, and its writer's every commit checks in the same transaction that it is still its own
    (api/exchange/ownership.py). Only the cluster set-up (PostgreSQL + Redis) writes it."""

    __tablename__ = "book_owners"
    __table_args__ = (CheckConstraint("epoch > 0", name="epoch"),)

    instrument_id: Mapped[int] = mapped_column(primary_key=True)
    epoch: Mapped[int] = mapped_column(BigInteger)
    owner: Mapped[str] = mapped_column(String(100))
    taken_at: Mapped[datetime]
