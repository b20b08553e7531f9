"""Market data (top of book, depth, last trade, per-day OHLCV, the reference-price rule), the trading day."""

from __future__ import annotations

import pytest

from matching_engine import (
    Bar,
    CancelReason,
    CloseDay,
    DayClosed,
    Depth,
    Engine,
    InstrumentConfig,
    OpenDay,
    OrderCancelled,
    Phase,
    PhaseChanged,
    PickListing,
    PostListing,
    PriceLevel,
    Reason,
    ReferencePriceRule,
    SetPhase,
    TimeInForce,
    TopOfBook,
    TradeMode,
)

from .builders import BUY, DAY, SELL, make_engine, of, place, reason, tick


def trade(engine: Engine, price_fen: int, quantity_t: int, first_id: int) -> None:
    place(engine, first_id, "S", SELL, quantity_t, price_fen)
    place(engine, first_id + 1, "B", BUY, quantity_t, price_fen)


def test_top_of_book_and_depth() -> None:
    engine = make_engine()
    assert engine.top_of_book() == TopOfBook(None, 0, None, 0)
    place(engine, 1, "A", BUY, 5, 4_990)
    place(engine, 2, "B", BUY, 7, 4_990)
    place(engine, 3, "C", BUY, 1, 4_980)
    place(engine, 4, "D", BUY, 1, 4_970)
    place(engine, 5, "E", SELL, 3, 5_010)
    assert engine.top_of_book() == TopOfBook(4_990, 12, 5_010, 3)
    assert engine.depth(2) == Depth(
        (PriceLevel(4_990, 12, 2), PriceLevel(4_980, 1, 1)), (PriceLevel(5_010, 3, 1),)
    )
    assert engine.depth(0) == Depth((), ())


def test_last_trade_and_the_days_bar() -> None:
    engine = make_engine()
    assert engine.last_trade() is None and engine.bar() == Bar(DAY)
    trade(engine, 5_000, 10, 1)
    trade(engine, 5_020, 5, 3)
    trade(engine, 4_990, 1, 5)
    trade(engine, 5_010, 4, 7)
    last = engine.last_trade()
    assert last is not None and (last.price_fen, last.quantity_t, last.mode) == (
        5_010,
        4,
        TradeMode.CONTINUOUS,
    )
    assert engine.bar() == Bar(DAY, 5_000, 5_020, 4_990, 5_010, 20, 50_000 + 25_100 + 4_990 + 20_040, 4)


def test_close_day_publishes_the_bar_and_the_next_reference_by_previous_close() -> None:
    engine = make_engine()
    trade(engine, 5_000, 10, 1)
    trade(engine, 5_100, 30, 3)
    events = engine.submit(CloseDay(tick(engine)))
    (closed,) = of(events, DayClosed)
    assert (closed.trading_day, closed.open_fen, closed.close_fen, closed.volume_t) == (DAY, 5_000, 5_100, 40)
    assert closed.next_reference_price_fen == 5_100 == engine.reference_price_fen
    assert engine.price_band() == (4_590, 5_610)
    assert isinstance(events[-1], PhaseChanged) and events[-1].phase is Phase.CLOSED
    assert (
        engine.bars() == (Bar(DAY, 5_000, 5_100, 5_000, 5_100, 40, 50_000 + 153_000, 2),)
        and engine.bar() is None
    )


def test_reference_by_previous_vwap_rounds_half_up() -> None:
    engine = make_engine(reference_price_rule=ReferencePriceRule.PREVIOUS_VWAP)
    trade(engine, 5_000, 1, 1)
    trade(engine, 5_001, 1, 3)  # vwap 5,000.5 → 5,001
    (closed,) = of(engine.submit(CloseDay(tick(engine))), DayClosed)
    assert closed.next_reference_price_fen == 5_001
    engine = make_engine(reference_price_rule=ReferencePriceRule.PREVIOUS_VWAP)
    trade(engine, 5_000, 2, 1)
    trade(engine, 5_001, 1, 3)  # vwap 5,000.33 → 5,000
    (closed,) = of(engine.submit(CloseDay(tick(engine))), DayClosed)
    assert closed.next_reference_price_fen == 5_000


def test_a_day_without_trades_keeps_the_reference() -> None:
    engine = make_engine()
    (closed,) = of(engine.submit(CloseDay(tick(engine))), DayClosed)
    assert (closed.open_fen, closed.volume_t, closed.next_reference_price_fen) == (None, 0, 5_000)


def test_by_default_only_order_book_trades_make_market_data() -> None:
    engine = make_engine()
    engine.submit(PostListing(tick(engine), 1, "L", SELL, 5_300, 10, 10))
    engine.submit(PickListing(tick(engine), 1, 1, "P", 10))
    assert engine.last_trade() is None
    engine = make_engine(market_data_modes=frozenset({TradeMode.LISTING}))
    engine.submit(PostListing(tick(engine), 1, "L", SELL, 5_300, 10, 10))
    engine.submit(PickListing(tick(engine), 1, 1, "P", 10))
    assert engine.last_trade() is not None and engine.bar().close_fen == 5_300  # type: ignore[union-attr]


def test_trading_day_lifecycle() -> None:
    engine = Engine(InstrumentConfig("JX-TEST", reference_price_fen=5_000))
    assert engine.phase is Phase.CLOSED and engine.trading_day == ""
    assert reason(place(engine, 1, "A", BUY, 1, 5_000)) is Reason.MARKET_CLOSED
    assert reason(engine.submit(SetPhase(1, Phase.CONTINUOUS))) is Reason.WRONG_PHASE
    assert reason(engine.submit(CloseDay(1))) is Reason.WRONG_PHASE
    assert reason(engine.submit(OpenDay(1, "2026-11-23", Phase.HALTED))) is Reason.WRONG_PHASE
    assert reason(engine.submit(OpenDay(1, "", Phase.CALL))) is Reason.INVALID_TRADING_DAY
    (changed,) = of(engine.submit(OpenDay(1, "2026-11-23")), PhaseChanged)
    assert (changed.phase, changed.trading_day) == (Phase.CALL, "2026-11-23")
    assert reason(engine.submit(OpenDay(2, "2026-11-24"))) is Reason.WRONG_PHASE
    assert reason(engine.submit(SetPhase(2, Phase.CALL))) is Reason.WRONG_PHASE
    assert reason(engine.submit(SetPhase(2, Phase.CLOSED))) is Reason.WRONG_PHASE
    engine.submit(SetPhase(3, Phase.CONTINUOUS))
    engine.submit(SetPhase(4, Phase.HALTED))
    engine.submit(SetPhase(5, Phase.CONTINUOUS))
    engine.submit(CloseDay(6))
    assert reason(engine.submit(OpenDay(7, "2026-11-23"))) is Reason.INVALID_TRADING_DAY
    assert reason(engine.submit(OpenDay(7, "2026-11-22"))) is Reason.INVALID_TRADING_DAY
    assert reason(engine.submit(OpenDay(7, "2026-11-24", Phase.CONTINUOUS))) is None
    assert engine.bar() == Bar("2026-11-24") and [b.trading_day for b in engine.bars()] == ["2026-11-23"]


@pytest.mark.parametrize(
    "field",
    [
        "tick_fen",
        "lot_t",
        "min_order_t",
        "max_order_t",
        "reference_price_fen",
        "market_protection_bp",
        "max_live_orders",
    ],
)
def test_config_refuses_non_positive_values(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        InstrumentConfig("X", **{field: 0})


def test_config_refuses_inconsistent_bounds() -> None:
    with pytest.raises(ValueError, match="max_order_t"):
        InstrumentConfig("X", min_order_t=10, max_order_t=5)
    with pytest.raises(ValueError, match="price_band_bp"):
        InstrumentConfig("X", price_band_bp=10_000)
    with pytest.raises(ValueError, match="instrument_id"):
        InstrumentConfig("")
    with pytest.raises(ValueError, match="negotiated_max_t"):
        InstrumentConfig("X", negotiated_min_t=10, negotiated_max_t=5)


def test_close_day_cancels_resting_orders_outside_the_new_band() -> None:
    engine = make_engine(price_band_bp=1000)  # [4,500, 5,500]
    trade(engine, 5_500, 1, 10)  # the close: 5,500, so tomorrow's band is [4,950, 6,050]
    place(engine, 1, "A", SELL, 5, 5_450, tif=TimeInForce.GTC)
    place(engine, 2, "B", BUY, 5, 4_500)
    place(engine, 3, "C", BUY, 5, 4_949, tif=TimeInForce.GTD, expires_at_ms=10_000)
    place(engine, 4, "D", BUY, 5, 4_950)
    events = engine.submit(CloseDay(tick(engine)))
    cancelled = of(events, OrderCancelled)
    assert [(c.order_id, c.reason) for c in cancelled] == [
        (2, CancelReason.OUTSIDE_BAND),
        (3, CancelReason.OUTSIDE_BAND),
    ]
    assert [o.order_id for o in engine.orders()] == [4, 1]
    assert events.index(of(events, DayClosed)[0]) < events.index(cancelled[0])
