"""Small builders for the engine tests: an open engine, commands stamped with the next millisecond, and
filters over event lists. Pure: nothing here touches the database suite's fixtures."""

from __future__ import annotations

from typing import Any, TypeVar

from matching_engine import (
    CancelOrder,
    Engine,
    Event,
    InstrumentConfig,
    OpenDay,
    Phase,
    PlaceOrder,
    Reason,
    Rejected,
    Side,
    Trade,
)

REF_FEN = 5_000
DAY = "2026-11-23"
E = TypeVar("E")

BUY = Side.BUY
SELL = Side.SELL


def make_engine(phase: Phase = Phase.CONTINUOUS, **overrides: Any) -> Engine:
    """An engine for instrument JX-TEST (reference 50.00 yuan/t unless overridden) with its day open."""
    overrides.setdefault("reference_price_fen", REF_FEN)
    engine = Engine(InstrumentConfig("JX-TEST", **overrides))
    engine.submit(OpenDay(0, DAY, phase))
    return engine


def tick(engine: Engine) -> int:
    """The next millisecond after the engine's clock."""
    return max(engine.now_ms, 0) + 1


def place(
    engine: Engine,
    order_id: int,
    account_id: str,
    side: Side,
    quantity_t: int,
    price_fen: int | None = None,
    **kwargs: Any,
) -> list[Event]:
    """Submit a PlaceOrder one millisecond after the last command (unless ``ts_ms`` is given)."""
    ts_ms = kwargs.pop("ts_ms", None) or tick(engine)
    return engine.submit(PlaceOrder(ts_ms, order_id, account_id, side, quantity_t, price_fen, **kwargs))


def cancel(engine: Engine, order_id: int, account_id: str) -> list[Event]:
    """Submit a CancelOrder one millisecond later."""
    return engine.submit(CancelOrder(tick(engine), order_id, account_id))


def of(events: list[Event], cls: type[E]) -> list[E]:
    """The events of one type."""
    return [event for event in events if isinstance(event, cls)]


def reason(events: list[Event]) -> Reason | None:
    """The reason of the (single) rejection among ``events``, or None if nothing was rejected."""
    rejected = of(events, Rejected)
    assert len(rejected) <= 1, rejected
    return rejected[0].reason if rejected else None


def fills(events: list[Event]) -> list[tuple[int, int, int, int]]:
    """Trades as (price_fen, quantity_t, buy_order_id, sell_order_id)."""
    return [(t.price_fen, t.quantity_t, t.buy_order_id, t.sell_order_id) for t in of(events, Trade)]


def book(engine: Engine) -> list[tuple[str, int, int, int]]:
    """The resting orders as (side, price_fen, quantity_t, order_id), bids then asks, in priority order."""
    return [(o.side.value, o.price_fen, o.quantity_t, o.order_id) for o in engine.orders()]
