"""Continuous trading (连续竞价): price-time priority, every order type and time in force, and both sides
of every bound (tick, lot, size, band, expiry, FOK, market protection)."""

from __future__ import annotations

import pytest

from matching_engine import (
    AdvanceTime,
    CancelReason,
    CloseDay,
    Engine,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderType,
    Phase,
    PlaceOrder,
    Reason,
    Rejected,
    SetPhase,
    StpMode,
    TimeInForce,
    Trade,
    TradeMode,
)

from .builders import BUY, SELL, book, cancel, fills, make_engine, of, place, reason, tick

MARKET = OrderType.MARKET
IOC = TimeInForce.IOC
FOK = TimeInForce.FOK
GTD = TimeInForce.GTD
DAY_TIF = TimeInForce.DAY


# --- priority and trade facts -----------------------------------------------------------------------------
def test_better_price_first_then_older_first_at_the_same_price() -> None:
    engine = make_engine()
    place(engine, 1, "S1", SELL, 10, 5_002)
    place(engine, 2, "S2", SELL, 10, 5_001)
    place(engine, 3, "S3", SELL, 10, 5_001)
    events = place(engine, 4, "B1", BUY, 25, 5_002)
    assert fills(events) == [(5_001, 10, 4, 2), (5_001, 10, 4, 3), (5_002, 5, 4, 1)]
    assert book(engine) == [("SELL", 5_002, 5, 1)]


def test_a_trade_carries_maker_price_both_ids_accounts_and_aggressor() -> None:
    engine = make_engine()
    place(engine, 1, "S", SELL, 10, 4_990)
    events = place(engine, 2, "B", BUY, 4, 5_010)
    (trade,) = of(events, Trade)
    assert (trade.price_fen, trade.quantity_t, trade.buy_order_id, trade.sell_order_id) == (4_990, 4, 2, 1)
    assert (trade.buy_account_id, trade.sell_account_id, trade.aggressor) == ("B", "S", BUY)
    assert trade.mode is TradeMode.CONTINUOUS and trade.trade_id == 1
    events = place(engine, 3, "B", SELL, 3, 4_000) + place(engine, 4, "X", BUY, 6, 4_990)
    assert [t.aggressor for t in of(events, Trade)] == [BUY]


def test_sequence_numbers_increase_by_one_across_commands() -> None:
    engine = make_engine()
    events = (
        place(engine, 1, "S", SELL, 10, 5_000)
        + place(engine, 2, "B", BUY, 10, 5_000)
        + cancel(engine, 9, "X")
    )
    seqs = [event.seq for event in events]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert engine.next_seq == seqs[-1] + 1


def test_a_partial_fill_leaves_the_maker_at_the_front() -> None:
    engine = make_engine()
    place(engine, 1, "S1", SELL, 10, 5_000)
    place(engine, 2, "S2", SELL, 10, 5_000)
    place(engine, 3, "B", BUY, 4, 5_000)
    assert fills(place(engine, 4, "B", BUY, 7, 5_000)) == [(5_000, 6, 4, 1), (5_000, 1, 4, 2)]


def test_a_limit_order_that_does_not_cross_rests() -> None:
    engine = make_engine()
    place(engine, 1, "S", SELL, 10, 5_001)
    events = place(engine, 2, "B", BUY, 10, 5_000)
    assert not of(events, Trade)
    assert book(engine) == [("BUY", 5_000, 10, 2), ("SELL", 5_001, 10, 1)]


def test_enum_values_given_as_strings_are_understood() -> None:
    engine = make_engine()
    place(engine, 1, "S", "SELL", 10, 5_000, tif="GTC")  # type: ignore[arg-type]
    events = place(engine, 2, "B", "BUY", 10, 5_000, tif="IOC", stp="CANCEL_OLDEST")
    assert fills(events) == [(5_000, 10, 2, 1)]
    assert of(events, OrderAccepted)[0].side is BUY


# --- bounds -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("price_fen", "expected"), [(5_002, None), (5_001, Reason.TICK_SIZE), (5_004, None)])
def test_tick_size(price_fen: int, expected: Reason | None) -> None:
    engine = make_engine(tick_fen=2)
    assert reason(place(engine, 1, "A", BUY, 1, price_fen)) == expected


@pytest.mark.parametrize(
    ("quantity_t", "expected"),
    [
        (20, None),
        (10, Reason.BELOW_MIN_SIZE),
        (100, None),
        (110, Reason.ABOVE_MAX_SIZE),
        (25, Reason.LOT_SIZE),
        (0, Reason.INVALID_QUANTITY),
        (-10, Reason.INVALID_QUANTITY),
    ],
)
def test_lot_and_minimum_and_maximum_size(quantity_t: int, expected: Reason | None) -> None:
    engine = make_engine(lot_t=10, min_order_t=20, max_order_t=100)
    assert reason(place(engine, 1, "A", BUY, quantity_t, 5_000)) == expected


def test_quantities_and_prices_must_be_integers() -> None:
    engine = make_engine()
    assert reason(place(engine, 1, "A", BUY, 1.0, 5_000)) is Reason.INVALID_QUANTITY  # type: ignore[arg-type]
    assert reason(place(engine, 2, "A", BUY, True, 5_000)) is Reason.INVALID_QUANTITY  # type: ignore[arg-type]
    assert reason(place(engine, 3, "A", BUY, 1, 5_000.0)) is Reason.INVALID_PRICE  # type: ignore[arg-type]
    assert reason(place(engine, 4, "A", BUY, 1, None)) is Reason.INVALID_PRICE
    assert reason(place(engine, 5, "A", BUY, 1, 0)) is Reason.INVALID_PRICE


@pytest.mark.parametrize(
    ("price_fen", "expected"),
    [
        (5_500, None),
        (5_501, Reason.PRICE_ABOVE_BAND),
        (4_500, None),
        (4_499, Reason.PRICE_BELOW_BAND),
    ],
)
def test_price_band_edges_exactly_and_one_tick_beyond(price_fen: int, expected: Reason | None) -> None:
    engine = make_engine(price_band_bp=1000)  # ±10 % of 5,000 fen
    assert engine.price_band() == (4_500, 5_500)
    assert reason(place(engine, 1, "A", SELL, 1, price_fen)) == expected


def test_band_limits_are_rounded_inwards_to_the_tick_grid() -> None:
    engine = make_engine(tick_fen=3, reference_price_fen=5_000, price_band_bp=1000)
    assert engine.price_band() == (4_500, 5_499)
    assert reason(place(engine, 1, "A", SELL, 1, 5_499)) is None
    assert reason(place(engine, 2, "A", SELL, 1, 5_502)) is Reason.PRICE_ABOVE_BAND
    assert reason(place(engine, 3, "A", BUY, 1, 4_500)) is None
    assert reason(place(engine, 4, "A", BUY, 1, 4_497)) is Reason.PRICE_BELOW_BAND


def test_no_band_without_a_reference_price_or_with_the_band_switched_off() -> None:
    assert make_engine(reference_price_fen=None).price_band() is None
    engine = make_engine(price_band_bp=None)
    assert reason(place(engine, 1, "A", SELL, 1, 99_999)) is None


def test_duplicate_live_order_id_is_refused_but_a_finished_id_may_come_back() -> None:
    engine = make_engine()
    place(engine, 1, "A", BUY, 5, 5_000)
    assert reason(place(engine, 1, "A", BUY, 5, 4_999)) is Reason.DUPLICATE_ID
    cancel(engine, 1, "A")
    assert reason(place(engine, 1, "A", BUY, 5, 4_999)) is None


def test_capacity_limit() -> None:
    engine = make_engine(max_live_orders=2)
    place(engine, 1, "A", BUY, 5, 4_900)
    place(engine, 2, "A", BUY, 5, 4_901)
    assert reason(place(engine, 3, "A", BUY, 5, 4_902)) is Reason.CAPACITY
    assert reason(place(engine, 4, "A", SELL, 5, 4_900, tif=IOC)) is Reason.CAPACITY


def test_unknown_enum_values_are_rejected_with_their_own_codes() -> None:
    engine = make_engine()
    assert reason(place(engine, 1, "A", "UP", 1, 5_000)) is Reason.INVALID_SIDE  # type: ignore[arg-type]
    assert reason(place(engine, 2, "A", BUY, 1, 5_000, tif="GFD")) is Reason.INVALID_TIF
    assert reason(place(engine, 3, "A", BUY, 1, 5_000, order_type="STOP")) is Reason.INVALID_ORDER_TYPE
    assert reason(place(engine, 4, "A", BUY, 1, 5_000, stp="ALLOW")) is Reason.INVALID_STP


def test_stale_timestamp_is_refused_and_changes_nothing() -> None:
    engine = make_engine()
    place(engine, 1, "A", BUY, 5, 5_000, ts_ms=100)
    events = engine.submit(PlaceOrder(99, 2, "A", BUY, 5, 5_000))
    assert reason(events) is Reason.STALE_TIMESTAMP and of(events, Rejected)[0].ref_id == 2
    assert engine.order(2) is None and engine.now_ms == 100
    assert reason(engine.submit(PlaceOrder(100, 2, "A", BUY, 5, 5_000))) is None  # the same instant is fine


# --- time in force ----------------------------------------------------------------------------------------
def test_ioc_fills_what_it_can_and_cancels_the_rest() -> None:
    engine = make_engine()
    place(engine, 1, "S", SELL, 4, 5_000)
    events = place(engine, 2, "B", BUY, 10, 5_000, tif=IOC)
    assert fills(events) == [(5_000, 4, 2, 1)]
    (cancelled,) = of(events, OrderCancelled)
    assert (cancelled.order_id, cancelled.cancelled_t, cancelled.reason) == (2, 6, CancelReason.IOC_REMAINDER)
    assert book(engine) == []
    events = place(engine, 3, "B", BUY, 10, 5_000, tif=IOC)
    assert of(events, OrderCancelled)[0].cancelled_t == 10


def test_fok_that_just_fits_fills_completely() -> None:
    engine = make_engine()
    place(engine, 1, "S", SELL, 4, 5_000)
    place(engine, 2, "S", SELL, 6, 5_001)
    place(engine, 3, "S", SELL, 100, 5_002)
    events = place(engine, 4, "B", BUY, 10, 5_001, tif=FOK)
    assert fills(events) == [(5_000, 4, 4, 1), (5_001, 6, 4, 2)]
    assert not of(events, OrderCancelled)


def test_fok_one_tonne_short_is_killed_without_touching_the_book() -> None:
    engine = make_engine()
    place(engine, 1, "S", SELL, 4, 5_000)
    place(engine, 2, "S", SELL, 6, 5_001)
    place(engine, 3, "S", SELL, 100, 5_002)
    before = book(engine)
    events = place(engine, 4, "B", BUY, 11, 5_001, tif=FOK)
    assert not of(events, Trade)
    (cancelled,) = of(events, OrderCancelled)
    assert (cancelled.cancelled_t, cancelled.reason) == (11, CancelReason.FOK_NOT_FILLED)
    assert book(engine) == before


def test_fok_with_own_order_in_the_way_depends_on_the_stp_mode() -> None:
    engine = make_engine()
    place(engine, 1, "S", SELL, 5, 5_000)
    place(engine, 2, "ME", SELL, 5, 5_000)
    place(engine, 3, "S", SELL, 5, 5_000)
    killed = place(engine, 4, "ME", BUY, 10, 5_000, tif=FOK)  # CANCEL_NEWEST: the own order stops it
    assert not of(killed, Trade) and of(killed, OrderCancelled)[0].reason is CancelReason.FOK_NOT_FILLED
    assert len(book(engine)) == 3
    filled = place(engine, 5, "ME", BUY, 10, 5_000, tif=FOK, stp=StpMode.CANCEL_OLDEST)
    assert fills(filled) == [(5_000, 5, 5, 1), (5_000, 5, 5, 3)]
    assert [c.order_id for c in of(filled, OrderCancelled)] == [2]
    assert book(engine) == []


def test_gtd_expires_exactly_at_its_deadline() -> None:
    engine = make_engine()
    place(engine, 1, "S", SELL, 5, 5_000, tif=GTD, expires_at_ms=100, ts_ms=10)
    assert engine.submit(AdvanceTime(99)) == [] and engine.order(1) is not None
    events = engine.submit(PlaceOrder(100, 2, "B", BUY, 5, 5_000))
    (expired,) = of(events, OrderExpired)
    assert (expired.order_id, expired.expired_t) == (1, 5)
    assert not of(events, Trade) and events.index(expired) < events.index(of(events, OrderAccepted)[0])


def test_gtd_one_millisecond_before_the_deadline_still_trades() -> None:
    engine = make_engine()
    place(engine, 1, "S", SELL, 5, 5_000, tif=GTD, expires_at_ms=100, ts_ms=10)
    assert fills(engine.submit(PlaceOrder(99, 2, "B", BUY, 5, 5_000))) == [(5_000, 5, 2, 1)]


@pytest.mark.parametrize(
    ("tif", "expires_at_ms", "expected"),
    [
        (GTD, 11, None),
        (GTD, 10, Reason.INVALID_EXPIRY),
        (GTD, None, Reason.INVALID_EXPIRY),
        (TimeInForce.GTC, 50, Reason.INVALID_EXPIRY),
        (DAY_TIF, 50, Reason.INVALID_EXPIRY),
    ],
)
def test_expiry_must_come_with_gtd_and_lie_in_the_future(
    tif: TimeInForce, expires_at_ms: int | None, expected: Reason | None
) -> None:
    engine = make_engine()
    events = place(engine, 1, "A", BUY, 5, 5_000, tif=tif, expires_at_ms=expires_at_ms, ts_ms=10)
    assert reason(events) == expected


def test_day_orders_expire_at_the_close_and_gtc_orders_stay() -> None:
    engine = make_engine()
    place(engine, 1, "A", BUY, 5, 4_990, tif=DAY_TIF)
    place(engine, 2, "A", BUY, 5, 4_991)
    place(engine, 3, "B", SELL, 5, 5_010, tif=DAY_TIF)
    events = engine.submit(CloseDay(tick(engine)))
    assert [(e.order_id, e.expired_t) for e in of(events, OrderExpired)] == [(1, 5), (3, 5)]
    assert book(engine) == [("BUY", 4_991, 5, 2)]


# --- market orders ----------------------------------------------------------------------------------------
def test_market_order_stops_at_the_computed_protection_price() -> None:
    engine = make_engine(market_protection_bp=500)  # best ask 5,000 → protection 5,250
    place(engine, 1, "S", SELL, 5, 5_000)
    place(engine, 2, "S", SELL, 5, 5_250)
    place(engine, 3, "S", SELL, 5, 5_251)
    events = place(engine, 4, "B", BUY, 20, order_type=MARKET)
    assert fills(events) == [(5_000, 5, 4, 1), (5_250, 5, 4, 2)]
    (cancelled,) = of(events, OrderCancelled)
    assert (cancelled.cancelled_t, cancelled.reason) == (10, CancelReason.PROTECTION_PRICE)
    assert book(engine) == [("SELL", 5_251, 5, 3)]


def test_market_sell_protection_is_rounded_inwards() -> None:
    engine = make_engine(tick_fen=10, market_protection_bp=500)  # 5,000 × 0.95 = 4,750
    place(engine, 1, "B", BUY, 5, 5_000)
    place(engine, 2, "B", BUY, 5, 4_750)
    place(engine, 3, "B", BUY, 5, 4_740)
    assert fills(place(engine, 4, "S", SELL, 15, order_type=MARKET)) == [(5_000, 5, 1, 4), (4_750, 5, 2, 4)]


def test_market_order_protection_never_leaves_the_band() -> None:
    engine = make_engine(price_band_bp=1000, market_protection_bp=500)
    place(engine, 1, "S", SELL, 5, 5_400)
    place(engine, 2, "S", SELL, 5, 5_500)
    assert fills(place(engine, 3, "B", BUY, 20, order_type=MARKET)) == [(5_400, 5, 3, 1), (5_500, 5, 3, 2)]


def test_market_order_with_its_own_protection_price() -> None:
    engine = make_engine()
    place(engine, 1, "S", SELL, 5, 5_000)
    place(engine, 2, "S", SELL, 5, 5_001)
    events = place(engine, 3, "B", BUY, 10, order_type=MARKET, protection_price_fen=5_000)
    assert fills(events) == [(5_000, 5, 3, 1)]
    assert of(events, OrderCancelled)[0].reason is CancelReason.PROTECTION_PRICE
    assert (
        reason(place(engine, 4, "B", BUY, 1, order_type=MARKET, protection_price_fen=6_000))
        is Reason.PRICE_ABOVE_BAND
    )


def test_market_order_exhausting_the_book_and_on_an_empty_book() -> None:
    engine = make_engine()
    place(engine, 1, "S", SELL, 5, 5_000)
    events = place(engine, 2, "B", BUY, 8, order_type=MARKET)
    assert of(events, OrderCancelled)[0].reason is CancelReason.NO_LIQUIDITY
    events = place(engine, 3, "B", BUY, 8, order_type=MARKET)
    assert of(events, OrderAccepted) and of(events, OrderCancelled)[0].cancelled_t == 8
    assert of(events, OrderCancelled)[0].reason is CancelReason.NO_LIQUIDITY


def test_market_order_shape_rules() -> None:
    engine = make_engine()
    place(engine, 1, "S", SELL, 5, 5_000)
    assert reason(place(engine, 2, "B", BUY, 1, 5_000, order_type=MARKET)) is Reason.INVALID_PRICE
    assert reason(place(engine, 3, "B", BUY, 1, order_type=MARKET, tif=TimeInForce.GTC)) is Reason.INVALID_TIF
    assert reason(place(engine, 4, "B", BUY, 1, 5_000, protection_price_fen=5_000)) is Reason.INVALID_PRICE


def test_market_fok_fits_or_is_killed() -> None:
    engine = make_engine()
    place(engine, 1, "S", SELL, 5, 5_000)
    place(engine, 2, "S", SELL, 5, 5_300)  # beyond 5 % protection
    killed = place(engine, 3, "B", BUY, 6, order_type=MARKET, tif=FOK)
    assert not of(killed, Trade) and of(killed, OrderCancelled)[0].reason is CancelReason.FOK_NOT_FILLED
    assert fills(place(engine, 4, "B", BUY, 5, order_type=MARKET, tif=FOK)) == [(5_000, 5, 4, 1)]


# --- self-trade prevention --------------------------------------------------------------------------------
def _own_order_behind_a_stranger() -> Engine:
    engine = make_engine()
    place(engine, 1, "S", SELL, 3, 5_000)
    place(engine, 2, "ME", SELL, 4, 5_000)
    place(engine, 3, "S", SELL, 5, 5_001)
    return engine


def test_stp_cancel_newest_is_the_default() -> None:
    engine = _own_order_behind_a_stranger()
    events = place(engine, 4, "ME", BUY, 10, 5_001)
    assert fills(events) == [(5_000, 3, 4, 1)]
    (cancelled,) = of(events, OrderCancelled)
    assert (cancelled.order_id, cancelled.cancelled_t, cancelled.reason) == (4, 7, CancelReason.SELF_TRADE)
    assert book(engine) == [("SELL", 5_000, 4, 2), ("SELL", 5_001, 5, 3)]


def test_stp_cancel_oldest_cancels_the_resting_order_and_goes_on() -> None:
    engine = _own_order_behind_a_stranger()
    events = place(engine, 4, "ME", BUY, 10, 5_001, stp=StpMode.CANCEL_OLDEST)
    assert fills(events) == [(5_000, 3, 4, 1), (5_001, 5, 4, 3)]
    assert [(c.order_id, c.cancelled_t) for c in of(events, OrderCancelled)] == [(2, 4)]
    assert book(engine) == [("BUY", 5_001, 2, 4)]


def test_stp_cancel_both() -> None:
    engine = _own_order_behind_a_stranger()
    events = place(engine, 4, "ME", BUY, 10, 5_001, stp=StpMode.CANCEL_BOTH)
    assert fills(events) == [(5_000, 3, 4, 1)]
    assert [(c.order_id, c.cancelled_t, c.remaining_t) for c in of(events, OrderCancelled)] == [
        (2, 4, 0),
        (4, 7, 0),
    ]
    assert book(engine) == [("SELL", 5_001, 5, 3)]


def test_stp_decrement_takes_the_smaller_quantity_off_both() -> None:
    engine = _own_order_behind_a_stranger()
    events = place(engine, 4, "ME", BUY, 10, 5_001, stp=StpMode.DECREMENT)
    # 3 traded with the stranger, 4 decremented against the own order (which disappears), 3 trade at 5,001
    assert fills(events) == [(5_000, 3, 4, 1), (5_001, 3, 4, 3)]
    assert [(c.order_id, c.cancelled_t, c.remaining_t) for c in of(events, OrderCancelled)] == [
        (2, 4, 0),
        (4, 4, 3),
    ]
    assert book(engine) == [("SELL", 5_001, 2, 3)]


def test_stp_decrement_when_the_resting_order_is_larger() -> None:
    engine = make_engine()
    place(engine, 1, "ME", SELL, 10, 5_000)
    events = place(engine, 2, "ME", BUY, 4, 5_000, stp=StpMode.DECREMENT)
    assert not of(events, Trade)
    assert [(c.order_id, c.cancelled_t, c.remaining_t) for c in of(events, OrderCancelled)] == [
        (1, 4, 6),
        (2, 4, 0),
    ]
    assert book(engine) == [("SELL", 5_000, 6, 1)]


def test_instrument_default_stp_applies_when_the_order_names_none() -> None:
    engine = make_engine(default_stp=StpMode.CANCEL_OLDEST)
    place(engine, 1, "ME", SELL, 5, 5_000)
    events = place(engine, 2, "ME", BUY, 5, 5_000)
    assert [c.order_id for c in of(events, OrderCancelled)] == [1]
    assert book(engine) == [("BUY", 5_000, 5, 2)]


# --- phases -----------------------------------------------------------------------------------------------
def test_new_orders_need_an_open_market_but_cancels_do_not() -> None:
    engine = make_engine()
    place(engine, 1, "A", BUY, 5, 5_000)
    engine.submit(SetPhase(tick(engine), Phase.HALTED))
    assert reason(place(engine, 2, "A", BUY, 5, 5_000)) is Reason.TRADING_HALTED
    assert reason(cancel(engine, 1, "A")) is None
    engine.submit(CloseDay(tick(engine)))
    assert reason(place(engine, 3, "A", BUY, 5, 5_000)) is Reason.MARKET_CLOSED


def test_cancel_checks_owner_and_existence() -> None:
    engine = make_engine()
    place(engine, 1, "A", BUY, 5, 5_000)
    assert reason(cancel(engine, 1, "B")) is Reason.NOT_OWNER
    assert reason(cancel(engine, 2, "A")) is Reason.UNKNOWN_ORDER
    events = cancel(engine, 1, "A")
    assert [(c.cancelled_t, c.reason) for c in of(events, OrderCancelled)] == [(5, CancelReason.REQUESTED)]
    assert reason(cancel(engine, 1, "A")) is Reason.UNKNOWN_ORDER


def test_the_market_protection_price_can_be_asked_before_submitting() -> None:
    engine = make_engine(market_protection_bp=500)
    assert engine.market_protection_fen(BUY) is None
    place(engine, 1, "S", SELL, 5, 5_000)
    place(engine, 2, "B", BUY, 5, 4_900)
    assert engine.market_protection_fen(BUY) == 5_250
    assert engine.market_protection_fen(SELL) == 4_655


def test_a_timestamp_must_be_an_integer() -> None:
    engine = make_engine()
    assert reason(engine.submit(PlaceOrder(1.5, 1, "A", BUY, 5, 5_000))) is Reason.INVALID_TIMESTAMP  # type: ignore[arg-type]
