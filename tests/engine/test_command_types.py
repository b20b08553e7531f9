"""Every price and quantity of every command is an int (not a bool, not a float), whatever its value: a float
equal to a valid price must not slip through a comparison and become an order's price, a trade's price or the
next reference. And a one-sided auction's bids are bounded by ``max_order_t`` as its config says."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from matching_engine import (
    AmendOrder,
    Engine,
    Event,
    OpenAuction,
    OrderType,
    PickListing,
    PlaceBid,
    PlaceOrder,
    PostListing,
    ProposeNegotiatedTransfer,
    Reason,
    Rejected,
    TimeInForce,
)

from .builders import BUY, SELL, make_engine, of, place, reason, tick

NOT_INTS: list[Any] = [5_000.0, True, Decimal(5_000), "5000", None]
LATER_MS = 10_000_000


def _engine() -> Engine:
    """An open book with one resting sell of 10 t at 5,000 (order 1), a listing (id 2) and an auction (id 3)."""
    engine = make_engine()
    assert reason(place(engine, 1, "S", SELL, 10, 5_000)) is None
    assert reason(engine.submit(PostListing(tick(engine), 2, "S", SELL, 5_000, 10, 1))) is None
    assert reason(engine.submit(OpenAuction(tick(engine), 3, "S", SELL, 10, 5_000, LATER_MS))) is None
    return engine


def _place(value: Any, field: str) -> Callable[[Engine], PlaceOrder]:
    fields: dict[str, Any] = {"quantity_t": 4, "price_fen": 4_900}
    if field == "protection_price_fen":
        fields = {"quantity_t": 4, "price_fen": None, "order_type": OrderType.MARKET, "tif": TimeInForce.IOC}
    fields[field] = value
    return lambda engine: PlaceOrder(tick(engine), 10, "B", BUY, **fields)


def _amend(value: Any, field: str) -> Callable[[Engine], AmendOrder]:
    # The raise makes a float price that equals the current one do something: lose priority and rest again.
    fields: dict[str, Any] = {"quantity_t": 12, "price_fen": None}
    fields[field] = value
    return lambda engine: AmendOrder(tick(engine), 1, "S", **fields)


def _post(value: Any, field: str) -> Callable[[Engine], PostListing]:
    fields: dict[str, Any] = {"price_fen": 5_000, "quantity_t": 10, "min_pick_t": 1}
    fields[field] = value
    return lambda engine: PostListing(tick(engine), 20, "S", SELL, **fields)


def _pick(value: Any, field: str) -> Callable[[Engine], PickListing]:
    return lambda engine: PickListing(tick(engine), 21, 2, "B", value)


def _propose(value: Any, field: str) -> Callable[[Engine], ProposeNegotiatedTransfer]:
    fields: dict[str, Any] = {"price_fen": 5_000, "quantity_t": 10}
    fields[field] = value
    return lambda engine: ProposeNegotiatedTransfer(tick(engine), 22, "S", "B", SELL, expires_at_ms=LATER_MS, **fields)


def _open(value: Any, field: str) -> Callable[[Engine], OpenAuction]:
    fields: dict[str, Any] = {"quantity_t": 10, "reserve_price_fen": 5_000}
    fields[field] = value
    return lambda engine: OpenAuction(tick(engine), 23, "S", SELL, end_ts_ms=LATER_MS, **fields)


def _bid(value: Any, field: str) -> Callable[[Engine], PlaceBid]:
    fields: dict[str, Any] = {"price_fen": 5_000, "quantity_t": 10}
    fields[field] = value
    return lambda engine: PlaceBid(tick(engine), 3, 24, "B", **fields)


CASES = [
    (_place, "quantity_t", Reason.INVALID_QUANTITY),
    (_place, "price_fen", Reason.INVALID_PRICE),
    (_place, "protection_price_fen", Reason.INVALID_PRICE),
    (_amend, "quantity_t", Reason.INVALID_QUANTITY),
    (_amend, "price_fen", Reason.INVALID_PRICE),
    (_post, "price_fen", Reason.INVALID_PRICE),
    (_post, "quantity_t", Reason.INVALID_QUANTITY),
    (_post, "min_pick_t", Reason.INVALID_MIN_PICK),
    (_pick, "quantity_t", Reason.INVALID_QUANTITY),
    (_propose, "price_fen", Reason.INVALID_PRICE),
    (_propose, "quantity_t", Reason.INVALID_QUANTITY),
    (_open, "quantity_t", Reason.INVALID_QUANTITY),
    (_open, "reserve_price_fen", Reason.INVALID_PRICE),
    (_bid, "price_fen", Reason.INVALID_PRICE),
    (_bid, "quantity_t", Reason.INVALID_QUANTITY),
]


def _as(valid: int, bad: Any) -> Any:
    """`bad` in the shape of `valid`: the float, Decimal or string of the same value; True stays True."""
    if isinstance(bad, bool) or bad is None:
        return bad
    return type(bad)(valid) if not isinstance(bad, str) else str(valid)


# None is a valid "keep it" in an amendment and "none" for a market order's protection price.
OPTIONAL = {(_amend, "quantity_t"), (_amend, "price_fen"), (_place, "protection_price_fen")}
PARAMS = [pytest.param(build, field, expected, bad, id=f"{build.__name__[1:]}-{field}-{type(bad).__name__}")
          for build, field, expected in CASES for bad in NOT_INTS if not (bad is None and (build, field) in OPTIONAL)]


@pytest.mark.parametrize(("build", "field", "expected", "bad"), PARAMS)
def test_a_price_or_quantity_that_is_not_an_int_is_refused_whatever_its_value(
        build: Callable[[Any, str], Callable[[Engine], Any]], field: str, expected: Reason, bad: Any) -> None:
    engine = _engine()
    valid = {"quantity_t": 4, "min_pick_t": 1}.get(field, 5_000)
    before = engine.snapshot()
    events: list[Event] = engine.submit(build(_as(valid, bad), field)(engine))
    assert [type(e) for e in events] == [Rejected], events
    assert of(events, Rejected)[0].reason == expected
    after = engine.snapshot()
    del before["floor"], after["floor"]  # a rejection takes a sequence number; nothing else changes
    assert after == before


def test_an_amendment_to_a_float_equal_to_the_price_never_becomes_the_orders_price() -> None:
    """The review's case: 1000.0 == 1000 passed the check, and with a raise the float became the price."""
    engine = make_engine(price_band_bp=None)
    place(engine, 1, "S", SELL, 10, 1_000)
    events = engine.submit(AmendOrder(tick(engine), 1, "S", quantity_t=12, price_fen=1_000.0))  # type: ignore[arg-type]
    assert reason(events) == Reason.INVALID_PRICE
    events = engine.submit(AmendOrder(tick(engine), 1, "S", quantity_t=12, price_fen=1_000))
    assert reason(events) is None
    order = engine.order(1)
    assert order is not None and type(order.price_fen) is int and order.quantity_t == 12


def test_an_amendment_to_true_at_a_price_of_one_fen_is_refused() -> None:
    engine = make_engine(price_band_bp=None, reference_price_fen=None)
    place(engine, 1, "S", SELL, 1, 1)
    assert reason(engine.submit(AmendOrder(tick(engine), 1, "S", quantity_t=2, price_fen=True))) == Reason.INVALID_PRICE
    assert reason(engine.submit(AmendOrder(tick(engine), 1, "S", quantity_t=True))) == Reason.INVALID_QUANTITY


@pytest.mark.parametrize(("quantity_t", "expected"), [(100, None), (101, Reason.ABOVE_MAX_SIZE)])
def test_a_bid_is_bounded_by_max_order_t(quantity_t: int, expected: Reason | None) -> None:
    """InstrumentConfig: ``max_order_t`` also bounds one-sided auction bids (a lot larger than it may be
    auctioned, but each bid is an order of the book's size)."""
    engine = make_engine(max_order_t=100)
    assert reason(engine.submit(OpenAuction(tick(engine), 1, "S", SELL, 500, 5_000, LATER_MS))) is None
    assert reason(engine.submit(PlaceBid(tick(engine), 1, 2, "B", 5_000, quantity_t))) == expected


@pytest.mark.parametrize(("quantity_t", "expected"), [(100, None), (101, Reason.ABOVE_MAX_SIZE)])
def test_a_buy_auctions_offers_are_bounded_by_max_order_t(quantity_t: int, expected: Reason | None) -> None:
    engine = make_engine(max_order_t=100)
    assert reason(engine.submit(OpenAuction(tick(engine), 1, "B", BUY, 500, 5_000, LATER_MS))) is None
    assert reason(engine.submit(PlaceBid(tick(engine), 1, 2, "S", 5_000, quantity_t))) == expected
