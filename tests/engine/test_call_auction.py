"""The call auction (集合竞价): one clearing price maximising volume, then least imbalance, then nearest the
reference, then the lower price; checked by hand and against a brute force over every tick."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching_engine import (
    AuctionIndication,
    CallAuctionResult,
    CancelReason,
    CloseDay,
    DayClosed,
    Engine,
    OrderCancelled,
    OrderType,
    Phase,
    PhaseChanged,
    Reason,
    SetPhase,
    TimeInForce,
    Trade,
    TradeMode,
)
from matching_engine.call_auction import clearing_price

from .builders import BUY, SELL, book, fills, make_engine, of, place, reason, tick


def uncross(engine: Engine, phase: Phase = Phase.CONTINUOUS) -> list:
    return engine.submit(SetPhase(tick(engine), phase))


def result(events: list) -> tuple[int | None, int, int, int]:
    (found,) = of(events, CallAuctionResult)
    return found.price_fen, found.matched_t, found.buy_surplus_t, found.sell_surplus_t


def test_orders_collect_crossed_without_trading_during_the_call() -> None:
    engine = make_engine(Phase.CALL)
    assert not of(place(engine, 1, "S", SELL, 5, 4_990), Trade)
    assert not of(place(engine, 2, "B", BUY, 10, 5_010), Trade)
    assert engine.top_of_book().bid_price_fen == 5_010 and engine.top_of_book().ask_price_fen == 4_990
    assert engine.indicative_auction() == AuctionIndication(5_000, 5, 5, 0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"tif": TimeInForce.IOC},
        {"tif": TimeInForce.FOK},
        {"order_type": OrderType.MARKET},
    ],
)
def test_immediate_orders_are_refused_during_the_call(kwargs: dict) -> None:
    engine = make_engine(Phase.CALL)
    price_fen = None if "order_type" in kwargs else 5_000
    assert reason(place(engine, 1, "B", BUY, 5, price_fen, **kwargs)) is Reason.NOT_ALLOWED_IN_CALL


def test_uncross_at_the_price_of_maximum_volume() -> None:
    engine = make_engine(Phase.CALL)
    place(engine, 1, "B1", BUY, 10, 5_010)
    place(engine, 2, "B2", BUY, 10, 5_000)
    place(engine, 3, "S1", SELL, 5, 4_990)
    place(engine, 4, "S2", SELL, 10, 5_005)
    place(engine, 5, "S3", SELL, 10, 5_020)
    events = uncross(engine)
    assert result(events) == (5_005, 10, 0, 5)
    assert fills(events) == [(5_005, 5, 1, 3), (5_005, 5, 1, 4)]
    assert all(t.mode is TradeMode.CALL_AUCTION and t.aggressor is None for t in of(events, Trade))
    assert book(engine) == [("BUY", 5_000, 10, 2), ("SELL", 5_005, 5, 4), ("SELL", 5_020, 10, 5)]
    assert isinstance(events[-1], PhaseChanged) and engine.phase is Phase.CONTINUOUS


def test_least_imbalance_breaks_a_volume_tie_even_between_limit_prices() -> None:
    engine = make_engine(Phase.CALL)
    place(engine, 1, "B1", BUY, 10, 5_010)
    place(engine, 2, "B2", BUY, 4, 5_000)
    place(engine, 3, "S1", SELL, 10, 4_990)
    # 10 t execute anywhere in [4990, 5010]; above 5000 the 4 t bid drops out and the imbalance is 0,
    # so the price is the nearest to the reference (5000) among 5001..5010.
    assert result(uncross(engine)) == (5_001, 10, 0, 0)


@pytest.mark.parametrize(
    ("reference_fen", "expected_fen"), [(5_000, 5_000), (4_995, 4_995), (6_000, 5_010), (4_000, 4_990)]
)
def test_nearest_the_reference_price_breaks_the_remaining_tie(reference_fen: int, expected_fen: int) -> None:
    engine = make_engine(Phase.CALL, reference_price_fen=reference_fen, price_band_bp=None)
    place(engine, 1, "B", BUY, 10, 5_010)
    place(engine, 2, "S", SELL, 10, 4_990)
    assert result(uncross(engine)) == (expected_fen, 10, 0, 0)


def test_equidistant_from_the_reference_or_without_one_the_lower_price_wins() -> None:
    engine = make_engine(Phase.CALL, tick_fen=10, reference_price_fen=5_005, price_band_bp=None)
    place(engine, 1, "B", BUY, 10, 5_010)
    place(engine, 2, "S", SELL, 10, 4_990)
    assert result(uncross(engine))[0] == 5_000
    engine = make_engine(Phase.CALL, reference_price_fen=None)
    place(engine, 1, "B", BUY, 10, 5_010)
    place(engine, 2, "S", SELL, 10, 4_990)
    assert result(uncross(engine))[0] == 4_990


def test_todays_last_trade_is_the_auction_reference_when_there_is_one() -> None:
    engine = make_engine(Phase.CONTINUOUS, price_band_bp=None)
    place(engine, 1, "S", SELL, 1, 5_008)
    place(engine, 2, "B", BUY, 1, 5_008)
    uncross(engine, Phase.CALL)
    place(engine, 3, "B", BUY, 10, 5_010)
    place(engine, 4, "S", SELL, 10, 4_990)
    assert result(engine.submit(CloseDay(tick(engine))))[0] == 5_008


def test_nothing_crosses_nothing_trades() -> None:
    engine = make_engine(Phase.CALL)
    place(engine, 1, "B", BUY, 10, 4_990)
    place(engine, 2, "S", SELL, 10, 5_010)
    events = uncross(engine)
    assert result(events) == (None, 0, 0, 0) and not of(events, Trade)
    assert len(book(engine)) == 2


def test_time_priority_decides_within_a_price_at_the_uncross() -> None:
    engine = make_engine(Phase.CALL)
    place(engine, 1, "B1", BUY, 5, 5_010)
    place(engine, 2, "B2", BUY, 5, 5_010)
    place(engine, 3, "S", SELL, 7, 5_000)
    assert fills(uncross(engine)) == [(5_000, 5, 1, 3), (5_000, 2, 2, 3)]
    assert book(engine) == [("BUY", 5_010, 3, 2)]


def test_self_trade_at_the_uncross_cancels_the_newer_order_and_recomputes() -> None:
    engine = make_engine(Phase.CALL)
    place(engine, 1, "ME", BUY, 10, 5_010)
    place(engine, 2, "ME", SELL, 10, 4_990)
    place(engine, 3, "X", SELL, 5, 5_000)
    events = uncross(engine)
    (cancelled,) = of(events, OrderCancelled)
    assert (cancelled.order_id, cancelled.reason) == (2, CancelReason.SELF_TRADE)
    assert result(events) == (5_000, 5, 5, 0)
    assert fills(events) == [(5_000, 5, 1, 3)]
    assert events.index(cancelled) < events.index(of(events, CallAuctionResult)[0])


def test_closing_call_uncrosses_at_close_day() -> None:
    engine = make_engine(Phase.CONTINUOUS)
    uncross(engine, Phase.CALL)
    place(engine, 1, "B", BUY, 10, 5_010, tif=TimeInForce.DAY)
    place(engine, 2, "S", SELL, 4, 4_990)
    events = engine.submit(CloseDay(tick(engine)))
    assert fills(events) == [(5_000, 4, 1, 2)]
    (closed,) = of(events, DayClosed)
    assert (closed.close_fen, closed.volume_t) == (5_000, 4)
    assert book(engine) == []  # the rest of the DAY bid expired after the uncross
    assert engine.phase is Phase.CLOSED


def test_a_halt_out_of_the_call_also_uncrosses() -> None:
    engine = make_engine(Phase.CALL)
    place(engine, 1, "B", BUY, 10, 5_010)
    place(engine, 2, "S", SELL, 10, 4_990)
    assert fills(uncross(engine, Phase.HALTED)) == [(5_000, 10, 1, 2)]


# --- the clearing price against a brute force over every tick ---------------------------------------------
def brute_force(
    bids: list[tuple[int, int]], asks: list[tuple[int, int]], reference: int | None, tick_fen: int
) -> tuple[int | None, int, int, int]:
    prices = [p for p, _ in bids + asks]
    if not bids or not asks:
        return None, 0, 0, 0
    best = None
    for price in range(min(prices), max(prices) + 1, tick_fen):
        demand = sum(q for p, q in bids if p >= price)
        supply = sum(q for p, q in asks if p <= price)
        matched = min(demand, supply)
        key = (-matched, abs(demand - supply), abs(price - reference) if reference is not None else 0, price)
        if best is None or key < best[0]:
            best = (key, price, matched, demand - matched, supply - matched)
    assert best is not None
    if best[2] == 0:
        return None, 0, 0, 0
    return best[1], best[2], best[3], best[4]


levels = st.dictionaries(st.integers(0, 40), st.integers(1, 30), max_size=8)


@settings(max_examples=300, deadline=None)
@given(
    bid_map=levels,
    ask_map=levels,
    reference=st.one_of(st.none(), st.integers(-10, 50)),
    tick_fen=st.sampled_from([1, 5]),
)
def test_clearing_price_equals_brute_force_over_every_tick(
    bid_map: dict[int, int], ask_map: dict[int, int], reference: int | None, tick_fen: int
) -> None:
    base = 1_000
    bids = sorted(((base + p * tick_fen, q) for p, q in bid_map.items()), reverse=True)
    asks = sorted((base + p * tick_fen, q) for p, q in ask_map.items())
    ref = None if reference is None else base + reference * 3  # references need not be on the grid
    found = clearing_price(bids, asks, ref, tick_fen)
    assert (found.price_fen, found.matched_t, found.buy_surplus_t, found.sell_surplus_t) == brute_force(
        bids, asks, ref, tick_fen
    )
