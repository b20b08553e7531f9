"""Listing-pick (挂牌点选): post, browse by price then time, pick at the listed price within the minimum pick
and the remainder, counterparty restrictions, expiry."""

from __future__ import annotations

import pytest

from matching_engine import (
    AdvanceTime,
    CancelListing,
    CloseDay,
    Engine,
    ListingClosed,
    ListingCloseReason,
    ListingPosted,
    OpenDay,
    Phase,
    PickListing,
    PlaceOrder,
    PostListing,
    Reason,
    Side,
    Trade,
    TradeMode,
)

from .builders import BUY, SELL, make_engine, of, reason, tick


def post(
    engine: Engine,
    listing_id: int,
    account_id: str = "L",
    side: Side = SELL,
    price_fen: int = 5_000,
    quantity_t: int = 100,
    min_pick_t: int = 10,
    **kwargs: object,
) -> list:
    ts_ms = kwargs.pop("ts_ms", None) or tick(engine)
    return engine.submit(
        PostListing(
            ts_ms,
            listing_id,
            account_id,
            side,
            price_fen,
            quantity_t,  # type: ignore[arg-type]
            min_pick_t,
            **kwargs,
        )
    )  # type: ignore[arg-type]


def pick(
    engine: Engine, pick_id: int, listing_id: int, account_id: str, quantity_t: int, ts_ms: int | None = None
) -> list:
    return engine.submit(PickListing(ts_ms or tick(engine), pick_id, listing_id, account_id, quantity_t))


def test_a_pick_fills_at_once_at_the_listed_price() -> None:
    engine = make_engine()
    events = post(engine, 1, batch_id="JX-2024-0001")
    (posted,) = of(events, ListingPosted)
    assert (posted.listing_id, posted.quantity_t, posted.min_pick_t) == (1, 100, 10)
    (trade,) = of(pick(engine, 77, 1, "P", 30), Trade)
    assert (trade.mode, trade.price_fen, trade.quantity_t) == (TradeMode.LISTING, 5_000, 30)
    assert (trade.buy_order_id, trade.sell_order_id, trade.buy_account_id, trade.sell_account_id) == (
        77,
        1,
        "P",
        "L",
    )
    assert (trade.aggressor, trade.batch_id) == (BUY, "JX-2024-0001")
    assert engine.listing(1).quantity_t == 70  # type: ignore[union-attr]


def test_picking_a_buy_listing_is_a_sale() -> None:
    engine = make_engine()
    post(engine, 1, account_id="BUYER", side=BUY)
    (trade,) = of(pick(engine, 5, 1, "SELLER", 10), Trade)
    assert (trade.buy_order_id, trade.sell_order_id, trade.buy_account_id, trade.sell_account_id) == (
        1,
        5,
        "BUYER",
        "SELLER",
    )
    assert trade.aggressor is SELL


@pytest.mark.parametrize(
    ("quantity_t", "expected"),
    [
        (10, None),
        (9, Reason.BELOW_MIN_PICK),
        (100, None),
        (101, Reason.EXCEEDS_REMAINING),
        (0, Reason.INVALID_QUANTITY),
    ],
)
def test_minimum_pick_and_remainder_bounds(quantity_t: int, expected: Reason | None) -> None:
    engine = make_engine()
    post(engine, 1)
    assert reason(pick(engine, 1, 1, "P", quantity_t)) == expected


def test_the_whole_remainder_may_be_picked_below_the_minimum() -> None:
    engine = make_engine()
    post(engine, 1, quantity_t=25, min_pick_t=10)
    pick(engine, 1, 1, "P", 20)
    assert reason(pick(engine, 2, 1, "P", 4)) is Reason.BELOW_MIN_PICK
    assert reason(pick(engine, 3, 1, "P", 6)) is Reason.EXCEEDS_REMAINING
    events = pick(engine, 4, 1, "P", 5)
    assert of(events, Trade)[0].quantity_t == 5
    (closed,) = of(events, ListingClosed)
    assert (closed.reason, closed.remaining_t) == (ListingCloseReason.FILLED, 0)
    assert reason(pick(engine, 5, 1, "P", 1)) is Reason.UNKNOWN_LISTING


def test_picks_and_listings_respect_the_lot() -> None:
    engine = make_engine(lot_t=5)
    assert reason(post(engine, 1, quantity_t=52)) is Reason.LOT_SIZE
    assert reason(post(engine, 2, quantity_t=50, min_pick_t=7)) is Reason.INVALID_MIN_PICK
    assert reason(post(engine, 3, quantity_t=50, min_pick_t=10)) is None
    assert reason(pick(engine, 1, 3, "P", 12)) is Reason.LOT_SIZE


@pytest.mark.parametrize(
    ("min_pick_t", "expected"), [(100, None), (101, Reason.INVALID_MIN_PICK), (0, Reason.INVALID_MIN_PICK)]
)
def test_minimum_pick_must_lie_within_the_quantity(min_pick_t: int, expected: Reason | None) -> None:
    assert reason(post(make_engine(), 1, quantity_t=100, min_pick_t=min_pick_t)) == expected


@pytest.mark.parametrize(
    ("price_fen", "expected"),
    [(5_500, None), (5_501, Reason.PRICE_ABOVE_BAND), (4_500, None), (4_499, Reason.PRICE_BELOW_BAND)],
)
def test_listing_price_band(price_fen: int, expected: Reason | None) -> None:
    assert reason(post(make_engine(listing_band_bp=1000), 1, price_fen=price_fen)) == expected


def test_other_post_checks() -> None:
    engine = make_engine(max_listing_t=1_000, tick_fen=10, max_live_listings=1)
    assert reason(post(engine, 1, quantity_t=1_010)) is Reason.ABOVE_MAX_SIZE
    assert reason(post(engine, 1, price_fen=5_005)) is Reason.TICK_SIZE
    assert reason(post(engine, 1, price_fen=0)) is Reason.INVALID_PRICE
    assert reason(post(engine, 1, expires_at_ms=tick(engine), ts_ms=tick(engine))) is Reason.INVALID_EXPIRY
    assert reason(post(engine, 1, side="UP")) is Reason.INVALID_SIDE
    assert reason(post(engine, 1)) is None
    assert reason(post(engine, 1)) is Reason.DUPLICATE_ID
    assert reason(post(engine, 2)) is Reason.CAPACITY


def test_counterparty_restriction() -> None:
    engine = make_engine()
    post(engine, 1, allowed_counterparties=frozenset({"FRIEND"}))
    assert reason(pick(engine, 1, 1, "STRANGER", 10)) is Reason.COUNTERPARTY_NOT_ALLOWED
    assert reason(pick(engine, 2, 1, "FRIEND", 10)) is None
    assert [x.listing_id for x in engine.listings(SELL)] == []
    assert [x.listing_id for x in engine.listings(SELL, viewer_id="STRANGER")] == []
    assert [x.listing_id for x in engine.listings(SELL, viewer_id="FRIEND")] == [1]
    assert [x.listing_id for x in engine.listings(SELL, viewer_id="L")] == [1]


def test_the_lister_cannot_pick_its_own_listing() -> None:
    engine = make_engine()
    post(engine, 1)
    assert reason(pick(engine, 1, 1, "L", 10)) is Reason.SELF_TRADE


def test_listing_expires_exactly_at_its_deadline() -> None:
    engine = make_engine()
    post(engine, 1, expires_at_ms=100, ts_ms=10)
    assert reason(pick(engine, 1, 1, "P", 10, ts_ms=99)) is None
    events = pick(engine, 2, 1, "P", 10, ts_ms=100)
    (closed,) = of(events, ListingClosed)
    assert (closed.reason, closed.remaining_t) == (ListingCloseReason.EXPIRED, 90)
    assert reason(events) is Reason.UNKNOWN_LISTING
    assert events.index(closed) == 0


def test_cancel_listing_by_its_owner_only() -> None:
    engine = make_engine()
    post(engine, 1)
    assert reason(engine.submit(CancelListing(tick(engine), 1, "X"))) is Reason.NOT_OWNER
    assert reason(engine.submit(CancelListing(tick(engine), 2, "L"))) is Reason.UNKNOWN_LISTING
    engine.submit(CloseDay(tick(engine)))  # cancelling works in any phase
    (closed,) = of(engine.submit(CancelListing(tick(engine), 1, "L")), ListingClosed)
    assert (closed.reason, closed.remaining_t) == (ListingCloseReason.CANCELLED, 100)


def test_posting_and_picking_need_an_open_market() -> None:
    engine = make_engine()
    post(engine, 1)
    engine.submit(CloseDay(tick(engine)))
    assert reason(post(engine, 2)) is Reason.MARKET_CLOSED
    assert reason(pick(engine, 1, 1, "P", 10)) is Reason.MARKET_CLOSED
    engine.submit(OpenDay(tick(engine), "2026-11-24", Phase.CALL))
    assert reason(pick(engine, 2, 1, "P", 10)) is None


def test_a_pick_is_refused_when_the_listed_price_left_the_new_band() -> None:
    engine = make_engine(listing_band_bp=1000, price_band_bp=3000)
    post(engine, 1, price_fen=5_500)
    engine.submit(PlaceOrder(tick(engine), 1, "A", SELL, 1, 4_000))
    engine.submit(PlaceOrder(tick(engine), 2, "B", BUY, 1, 4_000))
    engine.submit(CloseDay(tick(engine)))  # the reference becomes 4,000: the band is [3,600, 4,400]
    engine.submit(OpenDay(tick(engine), "2026-11-24", Phase.CONTINUOUS))
    assert reason(pick(engine, 1, 1, "P", 10)) is Reason.PRICE_ABOVE_BAND


# --- browsing ---------------------------------------------------------------------------------------------
def board() -> Engine:
    engine = make_engine()
    post(engine, 1, "A", SELL, 5_010, 100, 10, batch_id="B1")
    post(engine, 2, "B", SELL, 5_000, 50, 10, batch_id="B2")
    post(engine, 3, "C", SELL, 5_010, 30, 10, batch_id="B1")
    post(engine, 4, "D", SELL, 4_990, 20, 20)
    post(engine, 5, "E", BUY, 4_980, 100, 10)
    post(engine, 6, "F", BUY, 4_990, 100, 10)
    post(engine, 7, "G", BUY, 4_990, 10, 10)
    return engine


def ids(listings: list) -> list[int]:
    return [listing.listing_id for listing in listings]


def test_browse_best_price_first_then_oldest() -> None:
    engine = board()
    assert ids(engine.listings(SELL)) == [4, 2, 1, 3]
    assert ids(engine.listings(BUY)) == [6, 7, 5]


def test_browse_filters_and_pages() -> None:
    engine = board()
    assert ids(engine.listings(SELL, batch_id="B1")) == [1, 3]
    assert ids(engine.listings(SELL, batch_id="NONE")) == []
    assert ids(engine.listings(SELL, min_price_fen=5_000, max_price_fen=5_005)) == [2]
    assert ids(engine.listings(BUY, min_price_fen=4_985)) == [6, 7]
    assert ids(engine.listings(BUY, max_price_fen=4_985)) == [5]
    assert ids(engine.listings(SELL, min_quantity_t=50)) == [2, 1]
    assert ids(engine.listings(SELL, account_id="C")) == [3]
    assert ids(engine.listings(SELL, offset=1, limit=2)) == [2, 1]
    assert ids(engine.listings(SELL, limit=0)) == []


def test_browse_reflects_picks_and_cancels() -> None:
    engine = board()
    pick(engine, 1, 4, "P", 20)
    engine.submit(CancelListing(tick(engine), 1, "A"))
    pick(engine, 2, 2, "P", 45)
    assert [(x.listing_id, x.quantity_t) for x in engine.listings(SELL)] == [(2, 5), (3, 30)]


def test_time_passing_alone_expires_listings() -> None:
    engine = make_engine()
    post(engine, 1, expires_at_ms=50, ts_ms=10)
    post(engine, 2, expires_at_ms=50, ts_ms=11)
    events = engine.submit(AdvanceTime(50))
    assert [(e.listing_id, e.reason) for e in of(events, ListingClosed)] == [
        (1, ListingCloseReason.EXPIRED),
        (2, ListingCloseReason.EXPIRED),
    ]
    assert engine.listings(SELL) == []
