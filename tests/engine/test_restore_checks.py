"""Restoring a book from storage checks each state as a command would have been checked, and refuses a damaged
one with ``ValueError`` before changing anything: the service then quarantines that row and rebuilds the rest."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from matching_engine import (
    AuctionPricing,
    Engine,
    InstrumentConfig,
    Phase,
    Side,
    StpMode,
    TimeInForce,
)
from matching_engine.records import AuctionState, BidState, FloorState, ListingState, OrderState, ProposalState


def _engine() -> Engine:
    engine = Engine(InstrumentConfig("JX-TEST", tick_fen=10, reference_price_fen=5_000))
    engine.restore_floor(FloorState(now_ms=1, next_seq=100, next_trade_id=1, phase=Phase.CONTINUOUS,
                                        trading_day="2026-11-23", reference_price_fen=5_000, last_trade=None,
                                        bar=None))
    return engine


ORDER = OrderState(1, "S", Side.SELL, 5_000, 10, TimeInForce.GTD, 5_000_000, StpMode.CANCEL_NEWEST, 5)
LISTING = ListingState(2, "S", Side.SELL, 5_000, 10, 1, None, None, None, 6)
PROPOSAL = ProposalState(3, "S", "B", Side.SELL, 5_000, 10, 5_000_000, None)
AUCTION = AuctionState(4, "S", Side.SELL, 10, 5_000, 5_000_000, AuctionPricing.PAY_AS_BID, None,
                       (BidState(5, "B", 5_000, 10, 7),))


def _restore(engine: Engine, state: Any) -> None:
    restore = {OrderState: engine.restore_order, ListingState: engine.restore_listing,
               ProposalState: engine.restore_proposal, AuctionState: engine.restore_auction}[type(state)]
    restore(state)


DAMAGED = [
    ("order-negative-price", replace(ORDER, price_fen=-5_000)),
    ("order-zero-price", replace(ORDER, price_fen=0)),
    ("order-off-tick", replace(ORDER, price_fen=5_005)),
    ("order-float-price", replace(ORDER, price_fen=5_000.0)),
    ("order-zero-quantity", replace(ORDER, quantity_t=0)),
    ("order-bool-quantity", replace(ORDER, quantity_t=True)),
    ("order-float-expiry", replace(ORDER, expires_at_ms=5_000_000.0)),
    ("order-gtd-without-expiry", replace(ORDER, expires_at_ms=None)),
    ("order-priority-none", replace(ORDER, priority=None)),
    ("listing-negative-price", replace(LISTING, price_fen=-10)),
    ("listing-zero-min-pick", replace(LISTING, min_pick_t=0)),
    ("listing-float-quantity", replace(LISTING, quantity_t=10.0)),
    ("proposal-null-price", replace(PROPOSAL, price_fen=None)),
    ("proposal-zero-quantity", replace(PROPOSAL, quantity_t=0)),
    ("proposal-null-expiry", replace(PROPOSAL, expires_at_ms=None)),
    ("auction-zero-reserve", replace(AUCTION, reserve_price_fen=0)),
    ("auction-float-end", replace(AUCTION, end_ts_ms=5e6)),
    ("auction-bid-negative-quantity", replace(AUCTION, bids=(BidState(5, "B", 5_000, -1, 7),))),
    ("auction-bid-zero-price", replace(AUCTION, bids=(BidState(5, "B", 0, 10, 7),))),
]


@pytest.mark.parametrize("state", [state for _, state in DAMAGED], ids=[name for name, _ in DAMAGED])
def test_a_damaged_state_is_refused_and_changes_nothing(state: Any) -> None:
    engine = _engine()
    before = engine.snapshot()
    with pytest.raises(ValueError, match=r"\S"):
        _restore(engine, state)
    assert engine.snapshot() == before


@pytest.mark.parametrize("state", [ORDER, LISTING, PROPOSAL, AUCTION], ids=["order", "listing", "proposal", "auction"])
def test_a_sound_state_is_restored(state: Any) -> None:
    engine = _engine()
    _restore(engine, state)
    assert engine.snapshot() != _engine().snapshot()
