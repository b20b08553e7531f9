"""Continuous-trading answers (竞价交易, Art. 20): an order as the exchange answers it, a batch's items, a
participant's orders and fills, an instrument's trades, the live book and the daily bars.

The models are plain (no validators, JSON types only: instants as the ISO strings the builders produce) so
that checking an answer on the order-entry path costs a few microseconds. `order_view` builds an order's
answer; it is written in registry/services/trading.py because the writer answers with it (the answer crosses
processes and is kept for a client_order_id replay) and the registry's replay of a client_order_id builds
it too — a registry module cannot import from here. Routes and exports take it from this module."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from api.exchange.writer import Outcome
from api.problems import domain_problem
from registry.errors import DomainError
from registry.orm import Order, Trade
from registry.services.idempotency import Replayed
from registry.services.trading import order_view

__all__ = ["BatchItemOut", "BookOut", "DailyBarOut", "FillOut", "MarketSummaryOut", "MyOrderOut", "OrderBatchOut",
           "OrderOut", "TradeOut", "batch_item_out", "fill_out", "my_order_out", "order_view", "trade_out"]


class OrderOut(BaseModel):
    """An order (or a listing, pick, proposal, acceptance, auction or bid) as it stands."""

    id: int
    client_order_id: str
    side: str
    order_type: str
    tif: str | None
    price_fen: int | None
    quantity_t: int
    filled_t: int
    remaining_t: int
    status: str
    reason: str | None
    cash_held_fen: int
    created_at: str
    updated_at: str


class MyOrderOut(OrderOut):
    """One of your orders, with which trade mode it belongs to."""

    kind: str


def my_order_out(order: Order) -> dict[str, Any]:
    return order_view(order) | {"kind": order.kind}


class BatchItemOut(BaseModel):
    """One command of a batch: `status` 200 (cancelled) or 201 (placed) with the `order` (and `replayed` when
    a repeated client_order_id gave it back), or the refusal's status with its `problem`. Fields that do not
    apply are left out of the JSON (the route answers without unset fields)."""

    status: int
    order: OrderOut | None = None
    replayed: bool | None = None
    problem: dict[str, Any] | None = None


def batch_item_out(outcome: Outcome, status: int) -> dict[str, Any]:
    """A batch's item: the command's refusal, or its order (`status` 200 for a cancel, 201 for a place)."""
    if isinstance(outcome, DomainError):
        return {"status": outcome.status, "problem": domain_problem(outcome)}
    if isinstance(outcome, Replayed):
        return {"status": status, "order": outcome, "replayed": True}
    return {"status": status, "order": outcome}


class OrderBatchOut(BaseModel):
    cancel: list[BatchItemOut]
    place: list[BatchItemOut]


class FillOut(BaseModel):
    """One of your trades, with your side and the fee you paid (a seller pays none)."""

    trade_id: int
    side: str
    price_fen: int
    quantity_t: int
    fee_fen: int
    at: str
    order_id: int


def fill_out(trade: Trade, side: str) -> dict[str, Any]:
    return {"trade_id": trade.id, "side": side, "price_fen": trade.price_fen, "quantity_t": trade.quantity_t,
            "fee_fen": trade.fee_fen if side == "buy" else 0, "at": trade.created_at.isoformat(),
            "order_id": trade.buy_order_id if side == "buy" else trade.sell_order_id}


class TradeOut(BaseModel):
    """A trade of an instrument, without counterparties (Art. 24 publishes trades, not identities)."""

    id: int
    price_fen: int
    quantity_t: int
    aggressor: str | None
    mode: str
    at: str


def trade_out(trade: Trade) -> dict[str, Any]:
    return {"id": trade.id, "price_fen": trade.price_fen, "quantity_t": trade.quantity_t,
            "aggressor": trade.aggressor, "mode": trade.mode, "at": trade.created_at.isoformat()}


class PriceLevelOut(BaseModel):
    price_fen: int
    quantity_t: int
    order_count: int


class DepthOut(BaseModel):
    """Price levels of each side, best first."""

    bids: list[PriceLevelOut]
    asks: list[PriceLevelOut]


class TopOfBookOut(BaseModel):
    bid_price_fen: int | None
    bid_quantity_t: int
    ask_price_fen: int | None
    ask_quantity_t: int


class SessionBarOut(BaseModel):
    """Today's bar so far, as the matching engine keeps it."""

    trading_day: str
    open_fen: int | None
    high_fen: int | None
    low_fen: int | None
    close_fen: int | None
    volume_t: int
    turnover_fen: int
    trade_count: int


class BookOut(BaseModel):
    """The live book: depth by price level, best bid and ask, the price band (low, high) and today's bar."""

    depth: DepthOut
    top: TopOfBookOut
    price_band_fen: list[int] | None
    reference_price_fen: int | None
    bar: SessionBarOut | None


class DailyBarOut(BaseModel):
    """A trading day's open, high, low, close, volume, turnover and trade count, from the settled trades."""

    trading_day: str
    open_fen: int
    high_fen: int
    low_fen: int
    close_fen: int
    volume_t: int
    turnover_fen: int
    trades: int


class InstrumentDayOut(BaseModel):
    instrument: str
    name_zh: str
    name_en: str
    bar: DailyBarOut | None


class MarketSummaryOut(BaseModel):
    """The day's trading summary (Art. 24): every instrument's bar and the totals."""

    trading_day: str
    instruments: list[InstrumentDayOut]
    volume_t: int
    turnover_fen: int
