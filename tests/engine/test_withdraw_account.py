"""WithdrawAccount: an account that may no longer deal (suspended or disqualified) leaves the market at once —
its resting orders, listings, proposals made and received, auctions with their bids and its bids elsewhere —
and nothing of it is left for anyone to trade against; other accounts' interest stays where it was."""

from __future__ import annotations

from matching_engine import (
    AcceptNegotiatedTransfer,
    AdvanceTime,
    AuctionClosed,
    AuctionCloseReason,
    BidReleased,
    CancelReason,
    Engine,
    ListingClosed,
    ListingCloseReason,
    OpenAuction,
    OrderCancelled,
    Phase,
    PickListing,
    PlaceBid,
    PostListing,
    ProposalClosed,
    ProposalStatus,
    ProposeNegotiatedTransfer,
    Reason,
    Rejected,
    SetPhase,
    Trade,
    WithdrawAccount,
)

from .builders import BUY, SELL, book, make_engine, of, place, reason, tick

LATER_MS = 10_000_000


def busy_engine() -> Engine:
    """Account X has a bit of everything; Y and Z have their own interest beside it."""
    engine = make_engine()
    assert reason(place(engine, 1, "X", SELL, 10, 5_050)) is None
    assert reason(place(engine, 2, "Y", SELL, 10, 5_060)) is None
    assert reason(place(engine, 3, "X", BUY, 5, 4_950)) is None
    assert reason(place(engine, 4, "X", SELL, 7, 5_050)) is None
    assert reason(engine.submit(PostListing(tick(engine), 10, "X", SELL, 5_000, 20, 1))) is None
    assert reason(engine.submit(PostListing(tick(engine), 11, "Y", SELL, 5_000, 20, 1))) is None
    assert reason(engine.submit(ProposeNegotiatedTransfer(tick(engine), 20, "X", "Y", SELL, 5_000, 5,
                                                          LATER_MS))) is None
    assert reason(engine.submit(ProposeNegotiatedTransfer(tick(engine), 21, "Y", "X", BUY, 5_000, 5,
                                                          LATER_MS))) is None
    assert reason(engine.submit(ProposeNegotiatedTransfer(tick(engine), 22, "Y", "Z", BUY, 5_000, 5,
                                                          LATER_MS))) is None
    assert reason(engine.submit(OpenAuction(tick(engine), 30, "X", SELL, 50, 5_000, LATER_MS))) is None
    assert reason(engine.submit(PlaceBid(tick(engine), 30, 31, "Y", 5_100, 20))) is None
    assert reason(engine.submit(PlaceBid(tick(engine), 30, 32, "Z", 5_200, 10))) is None
    assert reason(engine.submit(OpenAuction(tick(engine), 40, "Y", SELL, 50, 5_000, LATER_MS))) is None
    assert reason(engine.submit(PlaceBid(tick(engine), 40, 41, "X", 5_100, 20))) is None
    assert reason(engine.submit(PlaceBid(tick(engine), 40, 42, "Z", 5_050, 20))) is None
    return engine


def test_everything_of_the_account_leaves_the_market_in_a_fixed_order() -> None:
    engine = busy_engine()
    events = engine.submit(WithdrawAccount(tick(engine), "X"))
    assert not of(events, Rejected) and not of(events, Trade)
    assert [(e.order_id, e.cancelled_t, e.reason) for e in of(events, OrderCancelled)] == [
        (1, 10, CancelReason.ACCOUNT_WITHDRAWN), (3, 5, CancelReason.ACCOUNT_WITHDRAWN),
        (4, 7, CancelReason.ACCOUNT_WITHDRAWN)]
    assert [(e.listing_id, e.remaining_t, e.reason) for e in of(events, ListingClosed)] == [
        (10, 20, ListingCloseReason.CANCELLED)]
    assert [(e.proposal_id, e.status) for e in of(events, ProposalClosed)] == [
        (20, ProposalStatus.WITHDRAWN), (21, ProposalStatus.REJECTED)]
    assert [(e.auction_id, e.reason, e.unallocated_t) for e in of(events, AuctionClosed)] == [
        (30, AuctionCloseReason.CANCELLED, 50)]
    # The auction's bids go back to their bidders; X's bid in Y's auction goes back to X.
    assert [(e.auction_id, e.bid_id, e.account_id, e.released_t) for e in of(events, BidReleased)] == [
        (30, 31, "Y", 20), (30, 32, "Z", 10), (40, 41, "X", 20)]
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["OrderCancelled"] * 3 + ["ListingClosed"] + ["ProposalClosed"] * 2 + [
        "AuctionClosed", "BidReleased", "BidReleased", "BidReleased"]
    assert [e.seq for e in events] == list(range(events[0].seq, events[0].seq + len(events)))

    # What others had stays: Y's order, listing, proposal to Z, auction with Z's bid.
    assert book(engine) == [("SELL", 5_060, 10, 2)]
    assert engine.listing(11) is not None and engine.listing(10) is None
    assert [p.proposal_id for p in engine.proposals()] == [22]
    assert [(a.auction_id, [b.bid_id for b in a.bids]) for a in engine.auctions()] == [(40, [42])]
    assert engine.orders("X") == [] and engine.proposals("X") == []


def test_nothing_of_the_account_can_be_traded_against_afterwards() -> None:
    engine = busy_engine()
    engine.submit(WithdrawAccount(tick(engine), "X"))
    # A crossing buy meets only Y's order at 5,060; X's asks at 5,050 are gone.
    crossing = place(engine, 50, "B", BUY, 30, 5_100)
    assert [(t.sell_order_id, t.quantity_t) for t in of(crossing, Trade)] == [(2, 10)]
    assert reason(engine.submit(PickListing(tick(engine), 51, 10, "B", 5))) is Reason.UNKNOWN_LISTING
    assert reason(engine.submit(AcceptNegotiatedTransfer(tick(engine), 20, "Y"))) is Reason.PROPOSAL_CLOSED
    assert reason(engine.submit(PlaceBid(tick(engine), 30, 52, "B", 5_000, 5))) is Reason.AUCTION_CLOSED
    # Y's auction closes with Z's bid alone.
    closed = engine.submit(AdvanceTime(LATER_MS))
    assert [(t.buy_order_id, t.buy_account_id, t.quantity_t) for t in of(closed, Trade)] == [(42, "Z", 20)]
    assert not [e for e in closed if getattr(e, "account_id", None) == "X"]


def test_an_account_with_nothing_live_gives_no_events_and_any_phase_will_do() -> None:
    engine = busy_engine()
    assert engine.submit(WithdrawAccount(tick(engine), "NOBODY")) == []
    engine.submit(SetPhase(tick(engine), Phase.HALTED))
    events = engine.submit(WithdrawAccount(tick(engine), "X"))
    assert len(of(events, OrderCancelled)) == 3 and len(of(events, BidReleased)) == 3
    assert engine.submit(WithdrawAccount(tick(engine), "X")) == []


def test_a_stale_time_is_refused_like_any_command() -> None:
    engine = busy_engine()
    events = engine.submit(WithdrawAccount(engine.now_ms - 1, "X"))
    assert reason(events) is Reason.STALE_TIMESTAMP
    assert len(engine.orders("X")) == 3


def test_the_snapshot_after_a_withdrawal_restores_the_same_market() -> None:
    engine = busy_engine()
    engine.submit(WithdrawAccount(tick(engine), "X"))
    restored = Engine.from_snapshot(engine.snapshot())
    assert restored.snapshot() == engine.snapshot()
    # X's withdrawn bid id is free again in the restored engine as in the original.
    again = PlaceBid(tick(engine), 40, 41, "Y2", 5_100, 5)
    assert engine.submit(again) == restored.submit(again)


def test_a_due_auction_allocates_without_the_account_withdrawn_at_its_end() -> None:
    engine = make_engine()
    assert reason(engine.submit(OpenAuction(tick(engine), 1, "S", SELL, 30, 5_000, 100))) is None
    assert reason(engine.submit(PlaceBid(tick(engine), 1, 2, "X", 5_300, 30))) is None
    assert reason(engine.submit(PlaceBid(tick(engine), 1, 3, "Y", 5_100, 30))) is None
    # The window has ended (ts 100) but nothing has let the time pass yet: the withdrawal comes first.
    events = engine.submit(WithdrawAccount(100, "X"))
    assert [(e.bid_id, e.released_t) for e in of(events, BidReleased)] == [(2, 30)]
    assert not of(events, AuctionClosed) and not of(events, Trade)
    closed = engine.submit(AdvanceTime(100))
    assert [(t.buy_account_id, t.price_fen, t.quantity_t) for t in of(closed, Trade)] == [("Y", 5_100, 30)]
