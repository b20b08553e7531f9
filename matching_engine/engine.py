"""The facade: one :class:`Engine` holds one instrument's whole market, every mode, in one object.

``submit(command)`` first checks the timestamp (``STALE_TIMESTAMP`` if it goes backwards), then fires every
timer due at or before it (GTD orders, listings, proposals by their expiry; one-sided auctions by their end),
in order of (deadline, kind, id), then handles the command. An object whose deadline equals the command's
time is therefore already gone when the command sees it. ``WithdrawAccount`` alone fires no timers: it takes
the account out first, and what is due fires with the next command. Rejections are answers (``Rejected`` events), never
exceptions; a ``TypeError`` means the caller passed something that is not a command.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from typing import Any

from matching_engine.book import OrderBook
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
)
from matching_engine.config import InstrumentConfig, band_limits
from matching_engine.enums import Phase, ProposalStatus, Reason, Side
from matching_engine.events import DayClosed, Event, PhaseChanged
from matching_engine.floor import Floor
from matching_engine.listings import ListingBoard
from matching_engine.negotiated import NegotiatedTransferDesk
from matching_engine.one_sided import AuctionHouse
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
    ProposalState,
    TopOfBook,
)

SNAPSHOT_FORMAT = 1
PHASES = {member: member for member in Phase}

# The id each command is about, for the ``ref_id`` of its rejection.
REF_FIELDS: dict[type, str | None] = {
    OpenDay: None,
    SetPhase: None,
    CloseDay: None,
    AdvanceTime: None,
    PlaceOrder: "order_id",
    CancelOrder: "order_id",
    AmendOrder: "order_id",
    PostListing: "listing_id",
    PickListing: "listing_id",
    CancelListing: "listing_id",
    ProposeNegotiatedTransfer: "proposal_id",
    AcceptNegotiatedTransfer: "proposal_id",
    RejectNegotiatedTransfer: "proposal_id",
    WithdrawNegotiatedTransfer: "proposal_id",
    OpenAuction: "auction_id",
    PlaceBid: "bid_id",
    CancelAuction: "auction_id",
    WithdrawAuction: "auction_id",
    WithdrawBid: "bid_id",
    WithdrawAccount: None,
}


def _check_positive(value: object, what: str) -> None:
    if type(value) is not int or value <= 0:
        raise ValueError(f"{what} is {value!r}, not an int above zero")


def _check_time(value: object, what: str, optional: bool = False) -> None:
    if not (type(value) is int or (optional and value is None)):
        raise ValueError(f"{what} is {value!r}, not an int")


class Engine:
    """One instrument's order book, call auction, listing board, negotiated transfers, one-sided auctions."""

    __slots__ = (
        "_auctions",
        "_book",
        "_desk",
        "_floor",
        "_handlers",
        "_listings",
        "_timer_handlers",
        "config",
    )

    def __init__(self, config: InstrumentConfig) -> None:
        self.config = config
        floor = self._floor = Floor(config)
        book = self._book = OrderBook(floor)
        listings = self._listings = ListingBoard(floor)
        desk = self._desk = NegotiatedTransferDesk(floor)
        auctions = self._auctions = AuctionHouse(floor)
        self._handlers: dict[type, Callable[[Any, list[Event]], None]] = {
            PlaceOrder: book.place,
            CancelOrder: book.cancel,
            AmendOrder: book.amend,
            OpenDay: self._open_day,
            SetPhase: self._set_phase,
            CloseDay: self._close_day,
            AdvanceTime: self._advance_time,
            PostListing: listings.post,
            PickListing: listings.pick,
            CancelListing: listings.cancel,
            ProposeNegotiatedTransfer: desk.propose,
            AcceptNegotiatedTransfer: desk.accept,
            RejectNegotiatedTransfer: desk.reject,
            WithdrawNegotiatedTransfer: desk.withdraw,
            OpenAuction: auctions.open,
            PlaceBid: auctions.bid,
            CancelAuction: auctions.cancel,
            WithdrawAuction: auctions.withdraw,
            WithdrawBid: auctions.withdraw_bid,
            WithdrawAccount: self._withdraw_account,
        }
        self._timer_handlers: tuple[Callable[[int, int, int, list[Event]], None], ...] = (
            book.expire,
            listings.expire,
            desk.expire,
            auctions.close_due,
        )

    # --- commands ------------------------------------------------------------------------------------------
    def submit(self, command: Command) -> list[Event]:
        """Apply one command; the events it caused, in order, each with the next sequence number."""
        floor = self._floor
        handler = self._handlers.get(type(command))
        if handler is None:
            raise TypeError(f"not a command: {command!r}")
        ts_ms = command.ts_ms
        events: list[Event] = []
        if type(ts_ms) is not int or ts_ms < floor.now_ms:
            field = REF_FIELDS[type(command)]
            reason = Reason.STALE_TIMESTAMP if type(ts_ms) is int else Reason.INVALID_TIMESTAMP
            ref_id = getattr(command, field) if field else None
            stamp_ms = ts_ms if type(ts_ms) is int else floor.now_ms  # events carry integer times only
            floor.reject(events, stamp_ms, type(command).__name__, ref_id, reason)
            return events
        floor.now_ms = ts_ms
        timers = floor.timers
        # A withdrawal takes effect before what falls due at its time, which then fires with the next command
        # (without the account): a due auction must not allocate to an account that may no longer deal.
        if timers and timers[0][0] <= ts_ms and type(command) is not WithdrawAccount:
            self._fire_timers(ts_ms, events)
        handler(command, events)
        return events

    def submit_all(self, commands: Iterable[Command]) -> list[Event]:
        """Apply commands in order; all their events."""
        events: list[Event] = []
        submit = self.submit
        for command in commands:
            events.extend(submit(command))
        return events

    @classmethod
    def replay(cls, config: InstrumentConfig, commands: Iterable[Command]) -> tuple[Engine, list[Event]]:
        """A fresh engine that has applied ``commands`` (a command log), and the events they caused."""
        engine = cls(config)
        return engine, engine.submit_all(commands)

    def _fire_timers(self, ts_ms: int, events: list[Event]) -> None:
        timers = self._floor.timers
        handlers = self._timer_handlers
        while timers and timers[0][0] <= ts_ms:
            deadline_ms, kind, object_id = heapq.heappop(timers)
            handlers[kind](deadline_ms, object_id, ts_ms, events)

    def _advance_time(self, cmd: AdvanceTime, events: list[Event]) -> None:
        """Nothing beyond the timers that ``submit`` already fired."""

    def _withdraw_account(self, cmd: WithdrawAccount, events: list[Event]) -> None:
        """Everything of the account leaves the market, in this order: resting orders (by priority), listings,
        proposals (made: WITHDRAWN, naming it: REJECTED), its auctions (each with its bids released), its bids
        in other auctions. Any phase; an account with nothing live gives no events."""
        account_id = cmd.account_id
        self._book.withdraw_account(account_id, cmd.ts_ms, events)
        self._listings.withdraw_account(account_id, cmd.ts_ms, events)
        self._desk.withdraw_account(account_id, cmd.ts_ms, events)
        self._auctions.withdraw_account(account_id, cmd.ts_ms, events)

    def _open_day(self, cmd: OpenDay, events: list[Event]) -> None:
        """Start a trading day. Checks: WRONG_PHASE (not CLOSED, or the phase is not CALL or CONTINUOUS),
        INVALID_TRADING_DAY (empty, or not after the last day opened; ISO dates compare correctly)."""
        floor = self._floor
        phase = PHASES.get(cmd.phase)
        reason: Reason | None = None
        if floor.phase is not Phase.CLOSED or phase not in (Phase.CALL, Phase.CONTINUOUS):
            reason = Reason.WRONG_PHASE
        elif (
            not isinstance(cmd.trading_day, str)
            or not cmd.trading_day
            or (floor.trading_day and cmd.trading_day <= floor.trading_day)
        ):
            reason = Reason.INVALID_TRADING_DAY
        if reason is not None:
            floor.reject(events, cmd.ts_ms, "OpenDay", None, reason)
            return
        assert phase is not None
        floor.trading_day = cmd.trading_day
        floor.market.start_day(cmd.trading_day)
        self._enter(phase, cmd.ts_ms, events)

    def _set_phase(self, cmd: SetPhase, events: list[Event]) -> None:
        """Change phase within a day. Checks: WRONG_PHASE (from or to CLOSED, or to the current phase)."""
        floor = self._floor
        phase = PHASES.get(cmd.phase)
        if floor.phase is Phase.CLOSED or phase is None or phase is Phase.CLOSED or phase is floor.phase:
            floor.reject(events, cmd.ts_ms, "SetPhase", None, Reason.WRONG_PHASE)
            return
        if floor.phase is Phase.CALL:
            self._book.uncross(cmd.ts_ms, events)
        self._enter(phase, cmd.ts_ms, events)

    def _close_day(self, cmd: CloseDay, events: list[Event]) -> None:
        """End the day: uncross a running call, expire DAY orders, publish the bar and the next reference,
        cancel resting orders outside the new band. Checks: WRONG_PHASE (already CLOSED)."""
        floor = self._floor
        if floor.phase is Phase.CLOSED:
            floor.reject(events, cmd.ts_ms, "CloseDay", None, Reason.WRONG_PHASE)
            return
        if floor.phase is Phase.CALL:
            self._book.uncross(cmd.ts_ms, events)
        self._book.expire_day_orders(cmd.ts_ms, events)
        bar = floor.market.close_day()
        next_reference_fen = floor.next_reference(bar)
        floor.set_reference(next_reference_fen)
        floor.seq += 1
        events.append(
            DayClosed(
                floor.seq,
                cmd.ts_ms,
                bar.trading_day,
                bar.open_fen,
                bar.high_fen,
                bar.low_fen,
                bar.close_fen,
                bar.volume_t,
                bar.turnover_fen,
                bar.trade_count,
                next_reference_fen,
            )
        )
        self._book.cancel_outside_band(cmd.ts_ms, events)
        self._enter(Phase.CLOSED, cmd.ts_ms, events)

    def _enter(self, phase: Phase, ts_ms: int, events: list[Event]) -> None:
        floor = self._floor
        floor.phase = phase
        floor.seq += 1
        events.append(PhaseChanged(floor.seq, ts_ms, phase, floor.trading_day))

    # --- market data and other queries ---------------------------------------------------------------------
    @property
    def instrument_id(self) -> str:
        """The instrument this engine trades."""
        return self.config.instrument_id

    @property
    def phase(self) -> Phase:
        """The current trading phase."""
        return self._floor.phase

    @property
    def trading_day(self) -> str:
        """The current (or, when CLOSED, the last) trading day; "" before the first."""
        return self._floor.trading_day

    @property
    def now_ms(self) -> int:
        """The time of the last accepted command (a very negative number before any)."""
        return self._floor.now_ms

    @property
    def next_seq(self) -> int:
        """The sequence number the next event will carry."""
        return self._floor.seq + 1

    @property
    def reference_price_fen(self) -> int | None:
        """Today's reference price (None: none yet, so no price bands apply)."""
        return self._floor.reference_price_fen

    def price_band(self) -> tuple[int, int] | None:
        """The order book's lowest and highest allowed limit price today, or None without a band."""
        floor = self._floor
        return band_limits(floor.reference_price_fen, self.config.price_band_bp, self.config.tick_fen)

    def top_of_book(self) -> TopOfBook:
        """Best bid and ask with quantities (in CALL the book may be crossed; see indicative_auction)."""
        return TopOfBook(*self._book.best())

    def market_protection_fen(self, side: Side) -> int | None:
        """The worst price a market order of ``side`` without its own protection price would accept now.

        A service that holds cash for a market buy before submitting it can hold at this price: with one
        writer per book nothing changes in between. None when the opposite side is empty.
        """
        side = Side(side)
        if not (self._book.asks if side is Side.BUY else self._book.bids):
            return None
        return self._book.protection_fen(side, None)

    def depth(self, levels: int = 5) -> Depth:
        """The best ``levels`` price levels of each side, best first."""
        bids, asks = self._book.depth(max(0, levels))
        return Depth(bids, asks)

    def last_trade(self) -> LastTrade | None:
        """The last trade of a market-data mode (by default the order book's), any day."""
        return self._floor.market.last_trade

    def bar(self) -> Bar | None:
        """Today's OHLCV so far; None when CLOSED."""
        return self._floor.market.bar()

    def bars(self) -> tuple[Bar, ...]:
        """The OHLCV of every closed trading day, oldest first."""
        return tuple(self._floor.market.bars)

    def indicative_auction(self) -> AuctionIndication:
        """Where the call auction would uncross if it ended now (meaningful in CALL)."""
        return self._book.indication()

    def order(self, order_id: int) -> OrderState | None:
        """A resting order, or None."""
        order = self._book.orders.get(order_id)
        return None if order is None else order.state()

    def orders(self, account_id: str | None = None) -> list[OrderState]:
        """Resting orders (of one account), bids best first, then asks best first, each level oldest first."""
        return [
            order.state()
            for order in self._book.all_orders()
            if account_id is None or order.account_id == account_id
        ]

    def listing(self, listing_id: int) -> ListingState | None:
        """A live listing, or None."""
        listing = self._listings.listings.get(listing_id)
        return None if listing is None else listing.state()

    def listings(
        self,
        side: Side,
        *,
        viewer_id: str | None = None,
        batch_id: str | None = None,
        min_price_fen: int | None = None,
        max_price_fen: int | None = None,
        min_quantity_t: int | None = None,
        account_id: str | None = None,
        offset: int = 0,
        limit: int = 20,
    ) -> list[ListingState]:
        """Browse live listings of ``side``: best price first (lowest for SELL, highest for BUY), then oldest.

        Restricted listings appear only when ``viewer_id`` is their owner or an allowed counterparty.
        ``limit`` is capped at 1000; ``offset`` pages.
        """
        return self._listings.browse(
            side,
            viewer_id=viewer_id,
            batch_id=batch_id,
            min_price_fen=min_price_fen,
            max_price_fen=max_price_fen,
            min_quantity_t=min_quantity_t,
            account_id=account_id,
            offset=offset,
            limit=limit,
        )

    def proposal(self, proposal_id: int) -> ProposalState | None:
        """An open proposal, or None."""
        return self._desk.open.get(proposal_id)

    def proposals(self, account_id: str | None = None) -> list[ProposalState]:
        """Open proposals (that ``account_id`` made or received), by id."""
        return [
            p
            for p in self._desk.states()
            if account_id is None or account_id in (p.account_id, p.counterparty_id)
        ]

    def proposal_status(self, proposal_id: int) -> ProposalStatus | None:
        """OPEN, a final status, or None for an id never seen."""
        if proposal_id in self._desk.open:
            return ProposalStatus.OPEN
        return self._desk.closed.get(proposal_id)

    def auction(self, auction_id: int) -> AuctionState | None:
        """A live one-sided auction with its sealed bids (not for publication), or None."""
        auction = self._auctions.auctions.get(auction_id)
        return None if auction is None else auction.state()

    def auctions(self) -> list[AuctionState]:
        """Live one-sided auctions by id, with their sealed bids (not for publication)."""
        house = self._auctions.auctions
        return [house[key].state() for key in sorted(house)]

    # --- snapshot and restore ------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """The whole state as a plain JSON-safe dict; :meth:`from_snapshot` rebuilds an identical engine."""
        desk = self._desk
        return {
            "format": SNAPSHOT_FORMAT,
            "config": self.config.to_dict(),
            "floor": to_plain(self._floor.state()),
            "orders": [to_plain(order.state()) for order in self._book.all_orders()],
            "listings": [
                to_plain(self._listings.listings[key].state()) for key in sorted(self._listings.listings)
            ],
            "proposals": [to_plain(state) for state in desk.states()],
            "closed_proposals": [[key, desk.closed[key].value] for key in sorted(desk.closed)],
            "auctions": [to_plain(state) for state in self.auctions()],
            "closed_auctions": sorted(self._auctions.closed),
        }

    @classmethod
    def from_snapshot(cls, data: dict[str, Any]) -> Engine:
        """The engine :meth:`snapshot` described."""
        if data.get("format") != SNAPSHOT_FORMAT:
            raise ValueError(f"unknown snapshot format {data.get('format')!r}")
        engine = cls(InstrumentConfig.from_dict(data["config"]))
        engine.restore_floor(from_plain(FloorState, data["floor"]))
        for item in data["orders"]:
            engine.restore_order(from_plain(OrderState, item))
        for item in data["listings"]:
            engine.restore_listing(from_plain(ListingState, item))
        for item in data["proposals"]:
            engine.restore_proposal(from_plain(ProposalState, item))
        for proposal_id, status in data["closed_proposals"]:
            engine._desk.restore_closed(proposal_id, ProposalStatus(status))
        for item in data["auctions"]:
            engine.restore_auction(from_plain(AuctionState, item))
        for auction_id in data["closed_auctions"]:
            engine.restore_closed_auction(auction_id)
        return engine

    def restore_floor(self, state: FloorState) -> None:
        """Set clock, counters, phase, reference price and market data (first, on a fresh engine)."""
        self._floor.restore(state)

    # Restoring checks what it is given as a command's checks would have (an int price on the tick grid, an
    # int quantity above zero, an int time) before it changes anything, and raises ``ValueError`` otherwise:
    # a state read back from storage may have been damaged there, and the caller must learn of it rather than
    # rest a negative price or a float in the book.
    def restore_order(self, state: OrderState) -> None:
        """Put a resting order back at its place by ``priority``. Raises ``ValueError`` if it cannot rest."""
        what = f"order {state.order_id}"
        self._check_price(state.price_fen, what)
        _check_positive(state.quantity_t, f"{what}: quantity_t")
        _check_time(state.expires_at_ms, f"{what}: expires_at_ms", optional=True)
        self._check_priority(state.priority, what)
        self._book.restore(state)

    def restore_listing(self, state: ListingState) -> None:
        """Put a live listing back on the board."""
        what = f"listing {state.listing_id}"
        self._check_price(state.price_fen, what)
        _check_positive(state.quantity_t, f"{what}: quantity_t")
        _check_positive(state.min_pick_t, f"{what}: min_pick_t")
        _check_time(state.expires_at_ms, f"{what}: expires_at_ms", optional=True)
        self._check_priority(state.priority, what)
        self._listings.restore(state)

    def _check_priority(self, priority: int, what: str) -> None:
        # A priority at or above the next sequence number would rank after orders not placed yet.
        if type(priority) is not int or not 0 < priority < self.next_seq:
            raise ValueError(f"{what}: priority {priority!r} is not below next_seq {self.next_seq} "
                             "(restore the floor first)")

    def _check_price(self, price_fen: object, what: str) -> None:
        _check_positive(price_fen, f"{what}: price_fen")
        assert isinstance(price_fen, int)
        if price_fen % self.config.tick_fen:
            raise ValueError(f"{what}: price_fen {price_fen} is not on the tick grid of {self.config.tick_fen}")

    def restore_proposal(self, state: ProposalState) -> None:
        """Put back an open proposal, or remember a closed one's final status (``state.status``)."""
        if ProposalStatus(state.status) is ProposalStatus.OPEN:
            what = f"proposal {state.proposal_id}"
            self._check_price(state.price_fen, what)
            _check_positive(state.quantity_t, f"{what}: quantity_t")
            _check_time(state.expires_at_ms, f"{what}: expires_at_ms")
        self._desk.restore(state)

    def restore_auction(self, state: AuctionState) -> None:
        """Put back a one-sided auction that is still taking bids, with its bids."""
        what = f"auction {state.auction_id}"
        _check_positive(state.quantity_t, f"{what}: quantity_t")
        self._check_price(state.reserve_price_fen, what)
        _check_time(state.end_ts_ms, f"{what}: end_ts_ms")
        for bid in state.bids:
            self.check_bid(bid)
        self._auctions.restore(state)

    def check_bid(self, state: BidState) -> None:
        """Raise ``ValueError`` if this bid could not be restored with its auction (so that a caller can leave
        out a damaged bid rather than lose the whole auction)."""
        self._check_price(state.price_fen, f"bid {state.bid_id}")
        _check_positive(state.quantity_t, f"bid {state.bid_id}: quantity_t")
        self._check_priority(state.priority, f"bid {state.bid_id}")

    def restore_closed_auction(self, auction_id: int) -> None:
        """Remember that a one-sided auction has ended (late bids then get AUCTION_CLOSED)."""
        self._auctions.restore_closed(auction_id)
