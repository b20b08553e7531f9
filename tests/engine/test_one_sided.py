"""One-sided auctions (单向竞价): sealed bids in a window, allocation by price then time with the last winner
partly filled, pay-as-bid or uniform pricing, and the window, reserve and size bounds."""

from __future__ import annotations

import pytest

from matching_engine import (
    AdvanceTime,
    AuctionClosed,
    AuctionCloseReason,
    AuctionOpened,
    AuctionPricing,
    BidAccepted,
    BidReleased,
    CancelAuction,
    CloseDay,
    Engine,
    OpenAuction,
    Phase,
    PlaceBid,
    Reason,
    SetPhase,
    Side,
    Trade,
    TradeMode,
    WithdrawAuction,
    WithdrawBid,
)

from .builders import BUY, SELL, make_engine, of, reason, tick

END_MS = 1_000


def open_auction(
    engine: Engine,
    auction_id: int = 1,
    side: Side = SELL,
    quantity_t: int = 100,
    reserve_price_fen: int = 5_000,
    pricing: AuctionPricing = AuctionPricing.PAY_AS_BID,
    end_ts_ms: int = END_MS,
) -> list:
    return engine.submit(
        OpenAuction(
            tick(engine),
            auction_id,
            "SELLER",
            side,
            quantity_t,
            reserve_price_fen,
            end_ts_ms,
            pricing,
            batch_id="LOT-9",
        )
    )


def bid(
    engine: Engine,
    bid_id: int,
    account_id: str,
    price_fen: int,
    quantity_t: int,
    auction_id: int = 1,
    ts_ms: int | None = None,
) -> list:
    return engine.submit(
        PlaceBid(ts_ms or tick(engine), auction_id, bid_id, account_id, price_fen, quantity_t)
    )


def close(engine: Engine) -> list:
    return engine.submit(AdvanceTime(END_MS))


def three_bids(pricing: AuctionPricing) -> Engine:
    engine = make_engine()
    open_auction(engine, pricing=pricing)
    bid(engine, 11, "B1", 5_200, 30)
    bid(engine, 12, "B2", 5_300, 50)
    bid(engine, 13, "B3", 5_200, 40)
    bid(engine, 14, "B4", 5_100, 10)
    return engine


def test_allocation_by_price_then_time_with_the_last_winner_partly_filled() -> None:
    events = close(three_bids(AuctionPricing.PAY_AS_BID))
    closed = events[0]
    assert isinstance(closed, AuctionClosed)
    assert (
        closed.reason,
        closed.allocated_t,
        closed.unallocated_t,
        closed.clearing_price_fen,
        closed.winning_bids,
    ) == (AuctionCloseReason.COMPLETED, 100, 0, 5_200, 3)
    trades = of(events, Trade)
    assert [(t.buy_order_id, t.quantity_t, t.price_fen) for t in trades] == [
        (12, 50, 5_300),
        (11, 30, 5_200),
        (13, 20, 5_200),
    ]
    assert all(
        t.mode is TradeMode.ONE_SIDED_AUCTION
        and t.sell_order_id == 1
        and t.sell_account_id == "SELLER"
        and t.aggressor is None
        and t.batch_id == "LOT-9"
        for t in trades
    )
    assert [(r.bid_id, r.released_t) for r in of(events, BidReleased)] == [(13, 20), (14, 10)]


def test_uniform_pricing_trades_everyone_at_the_last_winning_bid() -> None:
    trades = of(close(three_bids(AuctionPricing.UNIFORM)), Trade)
    assert [(t.buy_order_id, t.quantity_t, t.price_fen) for t in trades] == [
        (12, 50, 5_200),
        (11, 30, 5_200),
        (13, 20, 5_200),
    ]


def test_undersubscribed_auction_sells_what_was_bid() -> None:
    engine = make_engine()
    open_auction(engine)
    bid(engine, 1, "B", 5_000, 30)
    (closed,) = of(close(engine), AuctionClosed)
    assert (closed.allocated_t, closed.unallocated_t, closed.winning_bids) == (30, 70, 1)


def test_no_bids_no_trades() -> None:
    engine = make_engine()
    open_auction(engine)
    events = close(engine)
    (closed,) = of(events, AuctionClosed)
    assert (closed.allocated_t, closed.unallocated_t, closed.clearing_price_fen) == (0, 100, None)
    assert not of(events, Trade)


def test_a_buy_auction_takes_the_lowest_offers_first() -> None:
    engine = make_engine()
    open_auction(engine, side=BUY, reserve_price_fen=5_000)
    assert reason(bid(engine, 1, "S1", 5_001, 10)) is Reason.ABOVE_RESERVE
    bid(engine, 2, "S1", 5_000, 60)
    bid(engine, 3, "S2", 4_900, 60)
    trades = of(close(engine), Trade)
    assert [(t.sell_order_id, t.quantity_t, t.price_fen, t.buy_order_id) for t in trades] == [
        (3, 60, 4_900, 1),
        (2, 40, 5_000, 1),
    ]


def test_the_window_ends_exactly_at_end_ts_ms() -> None:
    engine = make_engine()
    open_auction(engine)
    assert reason(bid(engine, 1, "B", 5_000, 10, ts_ms=END_MS - 1)) is None
    events = bid(engine, 2, "B", 5_000, 10, ts_ms=END_MS)
    assert reason(events) is Reason.AUCTION_CLOSED
    assert isinstance(events[0], AuctionClosed) and len(of(events, Trade)) == 1


@pytest.mark.parametrize(("price_fen", "expected"), [(5_000, None), (4_999, Reason.BELOW_RESERVE)])
def test_reserve_price_exactly_and_one_tick_below(price_fen: int, expected: Reason | None) -> None:
    engine = make_engine()
    open_auction(engine)
    assert reason(bid(engine, 1, "B", price_fen, 10)) == expected


@pytest.mark.parametrize(
    ("quantity_t", "expected"),
    [(100, None), (110, Reason.EXCEEDS_LOT), (20, None), (10, Reason.BELOW_MIN_SIZE), (15, Reason.LOT_SIZE)],
)
def test_bid_size_bounds(quantity_t: int, expected: Reason | None) -> None:
    engine = make_engine(lot_t=10, min_order_t=20)
    open_auction(engine)
    assert reason(bid(engine, 1, "B", 5_000, quantity_t)) == expected


def test_other_bid_checks() -> None:
    engine = make_engine(tick_fen=10, max_bids_per_auction=1)
    open_auction(engine)
    assert reason(bid(engine, 1, "SELLER", 5_000, 10)) is Reason.SELF_TRADE
    assert reason(bid(engine, 1, "B", 5_005, 10)) is Reason.TICK_SIZE
    assert reason(bid(engine, 1, "B", 5_000, 10, auction_id=9)) is Reason.UNKNOWN_AUCTION
    assert reason(bid(engine, 1, "B", 5_000, 10)) is None
    assert reason(bid(engine, 1, "C", 5_000, 10)) is Reason.DUPLICATE_ID
    assert reason(bid(engine, 2, "C", 5_000, 10)) is Reason.CAPACITY
    engine.submit(SetPhase(tick(engine), Phase.HALTED))
    assert reason(bid(engine, 3, "C", 5_000, 10)) is Reason.TRADING_HALTED


def test_bids_are_accepted_privately_and_in_order() -> None:
    engine = make_engine()
    open_auction(engine)
    (accepted,) = of(bid(engine, 1, "B", 5_100, 10), BidAccepted)
    assert (accepted.bid_id, accepted.price_fen, accepted.quantity_t) == (1, 5_100, 10)
    state = engine.auction(1)
    assert state is not None and [b.bid_id for b in state.bids] == [1]
    assert state.bids[0].priority == accepted.seq


def test_open_checks() -> None:
    engine = make_engine(tick_fen=10, lot_t=10)
    assert reason(open_auction(engine, quantity_t=105)) is Reason.LOT_SIZE
    assert reason(open_auction(engine, reserve_price_fen=5_005)) is Reason.TICK_SIZE
    assert reason(open_auction(engine, end_ts_ms=tick(engine))) is Reason.INVALID_EXPIRY
    assert reason(open_auction(engine, pricing="DUTCH")) is Reason.INVALID_PRICING  # type: ignore[arg-type]
    (opened,) = of(open_auction(engine), AuctionOpened)
    assert (opened.auction_id, opened.end_ts_ms) == (1, END_MS)
    assert reason(open_auction(engine)) is Reason.DUPLICATE_ID
    close(engine)
    assert reason(open_auction(engine)) is Reason.DUPLICATE_ID  # closed ids are not reused
    engine.submit(CloseDay(tick(engine)))
    assert reason(open_auction(engine, auction_id=2, end_ts_ms=5_000)) is Reason.MARKET_CLOSED


def test_cancel_only_by_the_initiator_and_only_without_bids() -> None:
    engine = make_engine()
    open_auction(engine, auction_id=1)
    open_auction(engine, auction_id=2)
    bid(engine, 1, "B", 5_000, 10, auction_id=2)
    assert reason(engine.submit(CancelAuction(tick(engine), 1, "B"))) is Reason.NOT_INITIATOR
    assert reason(engine.submit(CancelAuction(tick(engine), 2, "SELLER"))) is Reason.AUCTION_HAS_BIDS
    (closed,) = of(engine.submit(CancelAuction(tick(engine), 1, "SELLER")), AuctionClosed)
    assert (closed.reason, closed.unallocated_t) == (AuctionCloseReason.CANCELLED, 100)
    assert reason(bid(engine, 2, "B", 5_000, 10, auction_id=1)) is Reason.AUCTION_CLOSED
    assert reason(engine.submit(CancelAuction(tick(engine), 1, "SELLER"))) is Reason.AUCTION_CLOSED


def test_the_market_withdraws_an_auction_whatever_bids_it_has() -> None:
    engine = make_engine()
    open_auction(engine, auction_id=1)
    bid(engine, 1, "B", 5_000, 10, auction_id=1)
    bid(engine, 2, "C", 5_100, 20, auction_id=1)
    events = engine.submit(WithdrawAuction(tick(engine), 1))
    (closed,) = of(events, AuctionClosed)
    assert (closed.reason, closed.unallocated_t) == (AuctionCloseReason.CANCELLED, 100)
    assert [(r.bid_id, r.account_id, r.released_t) for r in of(events, BidReleased)] == [(1, "B", 10), (2, "C", 20)]
    assert not of(events, Trade)
    assert reason(engine.submit(WithdrawAuction(tick(engine), 1))) is Reason.AUCTION_CLOSED
    assert reason(engine.submit(WithdrawAuction(tick(engine), 9))) is Reason.UNKNOWN_AUCTION


def test_the_market_withdraws_one_bid_and_the_auction_goes_on() -> None:
    engine = make_engine()
    open_auction(engine, auction_id=1)
    bid(engine, 1, "B", 5_000, 10, auction_id=1)
    bid(engine, 2, "C", 5_100, 20, auction_id=1)
    (released,) = of(engine.submit(WithdrawBid(tick(engine), 1, 2)), BidReleased)
    assert (released.bid_id, released.account_id, released.released_t) == (2, "C", 20)
    assert reason(engine.submit(WithdrawBid(tick(engine), 1, 2))) is Reason.UNKNOWN_ORDER
    assert reason(engine.submit(CancelAuction(tick(engine), 1, "SELLER"))) is Reason.AUCTION_HAS_BIDS  # bid 1 stays
