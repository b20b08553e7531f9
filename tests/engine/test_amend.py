"""Amending a resting order: a cut keeps time priority, a raise or a price change loses it."""

from __future__ import annotations

import pytest

from matching_engine import AmendOrder, Engine, OrderAmended, Phase, Reason, SetPhase, TimeInForce

from .builders import BUY, SELL, book, fills, make_engine, of, place, reason, tick


def amend(
    engine: Engine,
    order_id: int,
    account_id: str,
    quantity_t: int | None = None,
    price_fen: int | None = None,
) -> list:
    return engine.submit(AmendOrder(tick(engine), order_id, account_id, quantity_t, price_fen))


def two_sellers_at_one_price() -> Engine:
    engine = make_engine(lot_t=1, max_order_t=1_000)
    place(engine, 1, "S1", SELL, 10, 5_000)
    place(engine, 2, "S2", SELL, 10, 5_000)
    return engine


def test_a_quantity_cut_keeps_priority() -> None:
    engine = two_sellers_at_one_price()
    events = amend(engine, 1, "S1", quantity_t=4)
    (amended,) = of(events, OrderAmended)
    assert (amended.old_quantity_t, amended.quantity_t, amended.priority_kept) == (10, 4, True)
    assert engine.order(1).priority < engine.order(2).priority  # type: ignore[union-attr]
    assert fills(place(engine, 3, "B", BUY, 5, 5_000)) == [(5_000, 4, 3, 1), (5_000, 1, 3, 2)]


def test_a_raise_loses_priority() -> None:
    engine = two_sellers_at_one_price()
    (amended,) = of(amend(engine, 1, "S1", quantity_t=11), OrderAmended)
    assert amended.priority_kept is False
    assert engine.order(1).priority == amended.seq  # type: ignore[union-attr]
    assert fills(place(engine, 3, "B", BUY, 12, 5_000)) == [(5_000, 10, 3, 2), (5_000, 2, 3, 1)]


def test_a_price_change_loses_priority_even_back_to_the_same_level() -> None:
    engine = two_sellers_at_one_price()
    amend(engine, 1, "S1", price_fen=5_001)
    amend(engine, 1, "S1", price_fen=5_000)
    assert [o for _, _, _, o in book(engine)] == [2, 1]


def test_a_price_change_that_crosses_trades_at_once_as_the_aggressor() -> None:
    engine = two_sellers_at_one_price()
    place(engine, 3, "B", BUY, 5, 4_990)
    events = amend(engine, 3, "B", price_fen=5_000)
    assert fills(events) == [(5_000, 5, 3, 1)]
    assert book(engine) == [("SELL", 5_000, 5, 1), ("SELL", 5_000, 10, 2)]


def test_amend_keeps_the_time_in_force() -> None:
    engine = make_engine()
    place(engine, 1, "A", BUY, 5, 4_990, tif=TimeInForce.GTD, expires_at_ms=1_000)
    amend(engine, 1, "A", quantity_t=8, price_fen=4_991)
    order = engine.order(1)
    assert order is not None and (order.tif, order.expires_at_ms, order.quantity_t) == (
        TimeInForce.GTD,
        1_000,
        8,
    )


@pytest.mark.parametrize(
    ("quantity_t", "price_fen", "expected"),
    [
        (None, None, Reason.NOTHING_TO_AMEND),
        (10, 5_000, Reason.NOTHING_TO_AMEND),
        (0, None, Reason.INVALID_QUANTITY),
        (15, None, Reason.LOT_SIZE),
        (110, None, Reason.ABOVE_MAX_SIZE),
        (100, None, None),
        (None, 5_001, Reason.TICK_SIZE),
        (None, 5_510, Reason.PRICE_ABOVE_BAND),
        (None, 5_500, None),
        (10, 4_490, Reason.PRICE_BELOW_BAND),
        (None, 4_500, None),
    ],
)
def test_amend_bounds(quantity_t: int | None, price_fen: int | None, expected: Reason | None) -> None:
    engine = make_engine(lot_t=10, tick_fen=10, min_order_t=20, max_order_t=100)
    place(engine, 1, "A", SELL, 10 * 2, 5_000)
    amend(engine, 1, "A", quantity_t=10)  # a cut below the minimum size is allowed
    assert engine.order(1).quantity_t == 10  # type: ignore[union-attr]
    assert reason(amend(engine, 1, "A", quantity_t, price_fen)) == expected


def test_amend_checks_existence_and_owner() -> None:
    engine = two_sellers_at_one_price()
    assert reason(amend(engine, 9, "S1", quantity_t=1)) is Reason.UNKNOWN_ORDER
    assert reason(amend(engine, 1, "S2", quantity_t=1)) is Reason.NOT_OWNER


def test_while_halted_only_cuts_are_allowed() -> None:
    engine = two_sellers_at_one_price()
    engine.submit(SetPhase(tick(engine), Phase.HALTED))
    assert reason(amend(engine, 1, "S1", quantity_t=12)) is Reason.TRADING_HALTED
    assert reason(amend(engine, 1, "S1", price_fen=5_001)) is Reason.TRADING_HALTED
    assert reason(amend(engine, 1, "S1", quantity_t=3)) is None


def test_in_the_call_phase_a_crossing_amend_rests_without_trading() -> None:
    engine = make_engine(Phase.CALL)
    place(engine, 1, "S", SELL, 5, 5_000)
    place(engine, 2, "B", BUY, 5, 4_990)
    assert fills(amend(engine, 2, "B", price_fen=5_010)) == []
    assert book(engine) == [("BUY", 5_010, 5, 2), ("SELL", 5_000, 5, 1)]
