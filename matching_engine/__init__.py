"""The matching engine: the three Jiaxing trade modes (Art. 20) of one instrument, in memory.

Pure and deterministic: standard library and ``sortedcontainers`` only, no I/O, no clock (every command
carries its ``ts_ms``), integers only (prices ``*_fen`` per tonne, quantities ``*_t`` in whole tonnes). The
same commands in the same order give the same events; a restored snapshot, or a replayed command log, gives
the same state and the same events from then on.

Facade
------
::

    from matching_engine import Engine, InstrumentConfig, OpenDay, Phase, PlaceOrder, Side

    engine = Engine(InstrumentConfig("JX-PV-2024", tick_fen=1, lot_t=1, reference_price_fen=5_000))
    engine.submit(OpenDay(ts_ms, "2026-11-23", Phase.CONTINUOUS))
    events = engine.submit(PlaceOrder(ts_ms, order_id=1, account_id="A", side=Side.BUY, quantity_t=10,
                                      price_fen=5_000))

``Engine(config: InstrumentConfig)`` holds one instrument's whole market in one object: the order book
(continuous trading and the call auction, 竞价交易), the listing board (挂牌点选), negotiated transfers
(协议转让) and one-sided auctions (单向竞价). A service keeps one engine per instrument and feeds each from
one writer, journaling the commands it submits.

* ``submit(command) -> list[Event]`` applies one command. First the timestamp is checked (going backwards
  is ``STALE_TIMESTAMP``), then everything due at or before it fires, in (deadline, kind, id) order: GTD
  orders, listings and proposals expire, one-sided auctions close and allocate. An object whose deadline
  equals the command's time is gone when the command sees it. Refusals are ``Rejected`` events, never
  exceptions (a ``TypeError`` means the argument was not a command).
* ``submit_all(commands) -> list[Event]``; ``Engine.replay(config, commands) -> (Engine, list[Event])``.
* ``snapshot() -> dict`` (plain, JSON-safe) and ``Engine.from_snapshot(dict) -> Engine``. To rebuild from a
  service's own tables instead, on a fresh engine: ``restore_floor(FloorState)``,
  ``restore_order(OrderState)`` (in any order: ``priority`` places it), ``restore_listing(ListingState)``,
  ``restore_proposal(ProposalState)`` (open, or a closed one's final status),
  ``restore_auction(AuctionState)`` with its bids, ``restore_closed_auction(id)``. A ``priority`` is the
  ``seq`` of the event that queued the object: ``OrderAccepted``, ``OrderAmended`` with
  ``priority_kept=False``, ``ListingPosted``, ``BidAccepted``. Each ``restore_*`` checks its state as a
  command would have been checked (int prices on the tick grid, int quantities above zero, int times) and
  raises ``ValueError`` before changing anything; ``check_bid(BidState)`` checks one bid alone.
* Queries: ``phase``, ``trading_day``, ``now_ms``, ``next_seq``, ``reference_price_fen``, ``price_band()``,
  ``top_of_book()``, ``depth(levels=5)``, ``last_trade()``, ``bar()`` (today's OHLCV), ``bars()`` (closed
  days), ``indicative_auction()``, ``market_protection_fen(side)``, ``order(id)``, ``orders(account_id)``,
  ``listing(id)``, ``listings(side, viewer_id=, batch_id=, min_price_fen=, max_price_fen=, min_quantity_t=,
  account_id=, offset=0, limit=20)``, ``proposal(id)``, ``proposals(account_id)``, ``proposal_status(id)``,
  ``auction(id)``, ``auctions()`` (the last two include sealed bids: not for publication).

Commands (frozen dataclasses; ``command_to_dict`` / ``command_from_dict`` for the journal)
------------------------------------------------------------------------------------------
* trading day: ``OpenDay(ts_ms, trading_day, phase=CALL)``, ``SetPhase(ts_ms, phase)``, ``CloseDay(ts_ms)``,
  ``AdvanceTime(ts_ms)``.
* order book: ``PlaceOrder(ts_ms, order_id, account_id, side, quantity_t, price_fen=None, order_type=LIMIT,
  tif=None, expires_at_ms=None, stp=None, protection_price_fen=None)``, ``CancelOrder(ts_ms, order_id,
  account_id)``, ``AmendOrder(ts_ms, order_id, account_id, quantity_t=None, price_fen=None)``.
* listing-pick: ``PostListing(ts_ms, listing_id, account_id, side, price_fen, quantity_t, min_pick_t,
  expires_at_ms=None, batch_id=None, allowed_counterparties=None)``, ``PickListing(ts_ms, pick_id, listing_id,
  account_id, quantity_t)``, ``CancelListing(ts_ms, listing_id, account_id)``.
* negotiated: ``ProposeNegotiatedTransfer(ts_ms, proposal_id, account_id, counterparty_id, side, price_fen,
  quantity_t, expires_at_ms, batch_id=None)``; ``AcceptNegotiatedTransfer``, ``RejectNegotiatedTransfer``,
  ``WithdrawNegotiatedTransfer(ts_ms, proposal_id, account_id)``.
* one-sided: ``OpenAuction(ts_ms, auction_id, account_id, side, quantity_t, reserve_price_fen, end_ts_ms,
  pricing=PAY_AS_BID, batch_id=None)``, ``PlaceBid(ts_ms, auction_id, bid_id, account_id, price_fen,
  quantity_t)``, ``CancelAuction(ts_ms, auction_id, account_id)``; ``WithdrawAuction(ts_ms, auction_id)``: the
  market takes an auction off whatever bids it has (its lot may no longer be sold); ``WithdrawBid(ts_ms,
  auction_id, bid_id)``: it takes one bid out.
* an account leaves the market: ``WithdrawAccount(ts_ms, account_id)`` takes all of it off at once (its
  orders cancelled with ``ACCOUNT_WITHDRAWN``, its listings cancelled, its proposals withdrawn, proposals
  naming it rejected, its auctions cancelled with every bid released, its bids in other auctions released).

Events (frozen dataclasses, each starting ``seq, ts_ms``; ``event_to_dict`` / ``event_from_dict``)
-------------------------------------------------------------------------------------------------
``Rejected(command, ref_id, reason)``; ``PhaseChanged(phase, trading_day)``; ``DayClosed`` (the day's OHLCV,
turnover, trade count and the next reference price); ``OrderAccepted``; ``OrderAmended(old_quantity_t,
quantity_t, priority_kept)``; ``OrderCancelled(cancelled_t, remaining_t, reason)``; ``OrderExpired``;
``Trade(trade_id, mode, price_fen, quantity_t, buy_order_id, sell_order_id, buy_account_id, sell_account_id,
aggressor, batch_id)`` for every mode; ``CallAuctionResult(price_fen, matched_t, buy_surplus_t,
sell_surplus_t)``; ``ListingPosted``; ``ListingClosed(remaining_t, reason)``; ``NegotiatedTransferProposed(block)``;
``ProposalClosed(status)``; ``AuctionOpened``; ``BidAccepted``; ``AuctionClosed(reason, allocated_t,
unallocated_t, clearing_price_fen, winning_bids)``; ``BidReleased(released_t)``. Reason codes are the
stable values of :class:`Reason` and :class:`CancelReason`; every handler's docstring lists its checks in
the order they are made, and the first that fails is reported.

Rules in brief
--------------
* Phases: CLOSED → ``OpenDay`` → CALL or CONTINUOUS ⇄ CALL / HALTED → ``CloseDay`` → CLOSED. New interest
  (orders, listings, picks, proposals, acceptances, auctions, bids) needs CALL or CONTINUOUS; cancelling,
  withdrawing and rejecting work in any phase. Leaving CALL (or closing the day in it) uncrosses the book.
* Continuous: price-time priority, trades at the resting order's price. GTC, DAY (expires at ``CloseDay``),
  GTD, IOC, FOK; market orders are IOC or FOK bounded by their ``protection_price_fen`` or by the best
  opposite price ± ``market_protection_bp``, inside the band. Amend: a quantity cut keeps priority, a raise
  or a price change loses it. Self-trade prevention by the incoming order's mode (default from the config):
  CANCEL_NEWEST, CANCEL_OLDEST, CANCEL_BOTH, DECREMENT.
* Call auction: one price maximising volume, then least imbalance, then nearest the reference (today's last
  trade, else the reference price), then the lower price; orders paired in price-time priority. If a pair
  would be one account's, the newer order's STP mode applies and the price is computed again.
* Listings: picks fill at once at the listed price, at least ``min_pick_t`` unless they take the whole
  remainder, at most the remainder; never the lister's own account; only allowed counterparties if the
  listing names any (it is hidden from others when browsing). Browsing: best price first, then oldest.
* Negotiated: only the named counterparty accepts or rejects; the initiator withdraws until acceptance.
  The price lies within ``negotiated_band_bp`` of the reference, or ``block_band_bp`` from
  ``block_threshold_t``; checked when proposed and again when accepted.
* One-sided: sealed binding bids from opening until ``end_ts_ms`` (exclusive), at or above the reserve for
  a SELL lot (at or below for a BUY lot); at the end, allocation by price then time, the last winner partly
  filled; PAY_AS_BID or UNIFORM (everyone at the last winning price).
* Bands apply only with a reference price; ``CloseDay`` sets the next one by ``reference_price_rule``
  (PREVIOUS_CLOSE or PREVIOUS_VWAP, rounded half up) from the trades of ``market_data_modes``, and cancels
  resting orders outside the new band (``OUTSIDE_BAND``), so no order-book trade is ever outside the band.
  Listings and proposals stay, but cannot be picked or accepted while their price is outside the band.

Configuration: :class:`InstrumentConfig` — ``tick_fen``, ``lot_t``, ``min_order_t``, ``max_order_t``,
``reference_price_fen``, ``price_band_bp``, ``market_protection_bp``, ``default_stp``,
``reference_price_rule``, ``market_data_modes``, ``listing_band_bp``, ``max_listing_t``,
``negotiated_band_bp``, ``block_threshold_t``, ``block_band_bp``, ``negotiated_min_t``, ``negotiated_max_t``,
``max_live_orders``, ``max_live_listings``, ``max_live_proposals``, ``max_live_auctions``,
``max_bids_per_auction``.

Benchmark: ``python -m matching_engine.bench [--commands N] [--listings N] [--bids N] [--seed S] [--json]``.
"""

from matching_engine.codec import from_plain, to_plain
from matching_engine.commands import (
    AcceptNegotiatedTransfer,
    AdvanceTime,
    AmendOrder,
    CancelAuction,
    CancelListing,
    CancelOrder,
    CloseDay,
    Command,
    OpenAuction,
    OpenDay,
    PickListing,
    PlaceBid,
    PlaceOrder,
    PostListing,
    ProposeNegotiatedTransfer,
    RejectNegotiatedTransfer,
    SetPhase,
    WithdrawAccount,
    WithdrawAuction,
    WithdrawBid,
    WithdrawNegotiatedTransfer,
    command_from_dict,
    command_to_dict,
)
from matching_engine.config import InstrumentConfig, band_limits
from matching_engine.engine import Engine
from matching_engine.enums import (
    AuctionCloseReason,
    AuctionPricing,
    CancelReason,
    ListingCloseReason,
    OrderType,
    Phase,
    ProposalStatus,
    Reason,
    ReferencePriceRule,
    Side,
    StpMode,
    TimeInForce,
    TradeMode,
)
from matching_engine.events import (
    AuctionClosed,
    AuctionOpened,
    BidAccepted,
    BidReleased,
    CallAuctionResult,
    DayClosed,
    Event,
    ListingClosed,
    ListingPosted,
    NegotiatedTransferProposed,
    OrderAccepted,
    OrderAmended,
    OrderCancelled,
    OrderExpired,
    PhaseChanged,
    ProposalClosed,
    Rejected,
    Trade,
    event_from_dict,
    event_to_dict,
)
from matching_engine.records import (
    AuctionIndication,
    AuctionState,
    Bar,
    BidState,
    Depth,
    FloorState,
    LastTrade,
    ListingState,
    OrderState,
    PriceLevel,
    ProposalState,
    TopOfBook,
)

__all__ = [
    "AcceptNegotiatedTransfer",
    "AdvanceTime",
    "AmendOrder",
    "AuctionCloseReason",
    "AuctionClosed",
    "AuctionIndication",
    "AuctionOpened",
    "AuctionPricing",
    "AuctionState",
    "Bar",
    "BidAccepted",
    "BidReleased",
    "BidState",
    "CallAuctionResult",
    "CancelAuction",
    "CancelListing",
    "CancelOrder",
    "CancelReason",
    "CloseDay",
    "Command",
    "DayClosed",
    "Depth",
    "Engine",
    "Event",
    "FloorState",
    "InstrumentConfig",
    "LastTrade",
    "ListingCloseReason",
    "ListingClosed",
    "ListingPosted",
    "ListingState",
    "NegotiatedTransferProposed",
    "OpenAuction",
    "OpenDay",
    "OrderAccepted",
    "OrderAmended",
    "OrderCancelled",
    "OrderExpired",
    "OrderState",
    "OrderType",
    "Phase",
    "PhaseChanged",
    "PickListing",
    "PlaceBid",
    "PlaceOrder",
    "PostListing",
    "PriceLevel",
    "ProposalClosed",
    "ProposalState",
    "ProposalStatus",
    "ProposeNegotiatedTransfer",
    "Reason",
    "ReferencePriceRule",
    "RejectNegotiatedTransfer",
    "Rejected",
    "SetPhase",
    "Side",
    "StpMode",
    "TimeInForce",
    "TopOfBook",
    "Trade",
    "TradeMode",
    "WithdrawAccount",
    "WithdrawAuction",
    "WithdrawBid",
    "WithdrawNegotiatedTransfer",
    "band_limits",
    "command_from_dict",
    "command_to_dict",
    "event_from_dict",
    "event_to_dict",
    "from_plain",
    "to_plain",
]
