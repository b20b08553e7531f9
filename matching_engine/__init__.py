"""The matching engine: the three Jiaxing trade modes (Art. 20) of one instrument, in memory.

Pure and deterministic: standard library and ``sortedcontainers`` only, no I/O, no clock (every command
carries its ``ts_ms``), integers only (prices ``*_fen`` per tonne, quantities ``*_t`` whole tonnes). The same
commands in the same order give the same events; a snapshot restored, or a command log replayed, gives the
same state and the same events from then on.

Facade
------
::

    from matching_engine import Engine, InstrumentConfig, PlaceOrder, Side

    engine = Engine(InstrumentConfig("JX-PV-2024", tick_fen=1, lot_t=1, reference_price_fen=5_000))
    engine.submit(OpenDay(ts_ms, "2026-11-23", Phase.CONTINUOUS))
    events = engine.submit(PlaceOrder(ts_ms, order_id=1, account_id="A", side=Side.BUY,
                                      quantity_t=10, price_fen=5_000))

``Engine(config)`` owns one instrument: its order book (continuous trading and the call auction), listing
board, negotiated transfers and one-sided auctions. A service keeps one engine per instrument and feeds
each from one writer.

``Engine.submit(command) -> list[Event]``: apply one command, get its events, each with the next ``seq``.
``Engine.submit_all(commands)`` and ``Engine.replay(config, commands) -> (engine, events)`` for command logs.

Commands (frozen dataclasses; ``command_to_dict`` / ``command_from_dict`` for the journal):
  session      ``OpenDay(ts_ms, trading_day, phase=CALL)``, ``SetPhase(ts_ms, phase)``, ``CloseDay(ts_ms)``,
               ``AdvanceTime(ts_ms)``
  order book   ``PlaceOrder(ts_ms, order_id, account_id, side, quantity_t, price_fen=None, order_type=LIMIT,
               tif=None (GTC, or IOC for MARKET), expires_at_ms=None, stp=None, protection_price_fen=None)``,
               ``CancelOrder(ts_ms, order_id, account_id)``,
               ``AmendOrder(ts_ms, order_id, account_id, quantity_t=None, price_fen=None)``
  listing-pick ``PostListing(ts_ms, listing_id, account_id, side, price_fen, quantity_t, min_pick_t,
               expires_at_ms=None, batch_id=None, allowed_counterparties=None)``,
               ``PickListing(ts_ms, pick_id, listing_id, account_id, quantity_t)``,
               ``CancelListing(ts_ms, listing_id, account_id)``
  negotiated   ``ProposeTransfer(ts_ms, proposal_id, account_id, counterparty_id, side, price_fen,
               quantity_t, expires_at_ms, batch_id=None)``, ``AcceptTransfer`` / ``RejectTransfer`` /
               ``WithdrawTransfer(ts_ms, proposal_id, account_id)``
  one-sided    ``OpenAuction(ts_ms, auction_id, account_id, side, quantity_t, reserve_price_fen, end_ts_ms,
               pricing=PAY_AS_BID, batch_id=None)``,
               ``PlaceBid(ts_ms, auction_id, bid_id, account_id, price_fen, quantity_t)``,
               ``CancelAuction(ts_ms, auction_id, account_id)``

Events (frozen dataclasses, all starting ``seq, ts_ms``; ``event_to_dict`` / ``event_from_dict``):
``Rejected(command, ref_id, reason)``, ``PhaseChanged``, ``DayClosed`` (the day's OHLCV and next reference),
``OrderAccepted``, ``OrderAmended``, ``OrderCancelled(reason)``, ``OrderExpired``, ``Trade`` (every mode:
``trade_id, mode, price_fen, quantity_t, buy_order_id, sell_order_id, buy_account_id, sell_account_id,
aggressor, batch_id``), ``CallAuctionResult``, ``ListingPosted``, ``ListingClosed``, ``TransferProposed``,
``ProposalClosed``, ``AuctionOpened``, ``BidAccepted``, ``AuctionClosed``, ``BidReleased``.
Rejection reasons are the stable codes of :class:`Reason`; each handler's docstring lists its checks in
the order they are made (the first failing one is reported).

Queries: ``phase``, ``trading_day``, ``now_ms``, ``next_seq``, ``reference_price_fen``, ``price_band()``,
``top_of_book()``, ``depth(levels=5)``, ``last_trade()``, ``bar()`` (today's OHLCV), ``bars()`` (closed
days), ``indicative_auction()``, ``order(id)``, ``orders(account_id=None)``, ``listing(id)``,
``listings(side, viewer_id=, batch_id=, min_price_fen=, max_price_fen=, min_quantity_t=, account_id=,
offset=, limit=20)``, ``proposal(id)``, ``proposals(account_id=None)``, ``proposal_status(id)``,
``auction(id)``, ``auctions()``.

State: ``snapshot() -> dict`` (plain, JSON-safe) and ``Engine.from_snapshot(dict)``; or rebuild from a
service's own tables on a fresh engine: ``restore_session(SessionState)``, ``restore_order(OrderState)``,
``restore_listing(ListingState)``, ``restore_proposal(ProposalState)``, ``restore_auction(AuctionState)``,
``restore_closed_auction(id)``. ``priority`` in those records is the ``seq`` of the event that queued the
object (``OrderAccepted``, ``OrderAmended`` that lost priority, ``ListingPosted``, ``BidAccepted``).

Configuration: :class:`InstrumentConfig` (tick, lot, min/max order size, price band, market-order
protection, default STP, reference-price rule, market-data modes, listing and negotiated bands, block
threshold and band, negotiated min/max, capacity limits).

Benchmark: ``python -m matching_engine.bench [--commands N] [--seed S]``.
"""

from matching_engine.codec import from_plain, to_plain
from matching_engine.commands import (
    AcceptTransfer,
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
    ProposeTransfer,
    RejectTransfer,
    SetPhase,
    WithdrawTransfer,
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
    OrderAccepted,
    OrderAmended,
    OrderCancelled,
    OrderExpired,
    PhaseChanged,
    ProposalClosed,
    Rejected,
    Trade,
    TransferProposed,
    event_from_dict,
    event_to_dict,
)
from matching_engine.records import (
    AuctionIndication,
    AuctionState,
    Bar,
    BidState,
    Depth,
    LastTrade,
    ListingState,
    OrderState,
    PriceLevel,
    ProposalState,
    SessionState,
    TopOfBook,
)

__all__ = [
    "AcceptTransfer",
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
    "InstrumentConfig",
    "LastTrade",
    "ListingCloseReason",
    "ListingClosed",
    "ListingPosted",
    "ListingState",
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
    "ProposeTransfer",
    "Reason",
    "ReferencePriceRule",
    "RejectTransfer",
    "Rejected",
    "SessionState",
    "SetPhase",
    "Side",
    "StpMode",
    "TimeInForce",
    "TopOfBook",
    "Trade",
    "TradeMode",
    "TransferProposed",
    "WithdrawTransfer",
    "band_limits",
    "command_from_dict",
    "command_to_dict",
    "event_from_dict",
    "event_to_dict",
    "from_plain",
    "to_plain",
]
