"""Settlement: what the matching engine's events mean for the registry, and the book as the registry has it.

`apply` turns a command's events into order updates and ledger movements in the writer's transaction: a
trade settles delivery versus payment (delivery.settle: serial blocks to the buyer, cash to the seller, the
fee to the exchange), a cancel, expiry or amendment releases what was held. `rebuild_book` is the other way
round: the open orders, listings, auctions (with their bids) and proposals of an instrument, loaded into a
fresh engine in time priority; a row the book cannot take (a value Python cannot read back, a price the
engine refuses) is reported as damaged, and `cancel_quarantined` takes it out of the book for good (cancelled
with the reason QUARANTINED, its holds released as a cancel releases them, audited).

The writer (api/exchange/desk.py) calls these; nothing here keeps state between transactions.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, String, bindparam, func, select, update
from sqlalchemy.exc import DataError
from sqlalchemy.orm import defer

from matching_engine import (
    AuctionPricing,
    Command,
    Engine,
    InstrumentConfig,
    OrderAccepted,
    OrderAmended,
    OrderCancelled,
    OrderExpired,
    Phase,
    Side,
    TimeInForce,
    Trade,
    TradeMode,
)
from matching_engine.enums import AuctionCloseReason, ListingCloseReason, ProposalStatus
from matching_engine.events import (
    AuctionClosed,
    BidAccepted,
    BidReleased,
    Event,
    ListingClosed,
    ListingPosted,
    ProposalClosed,
)
from matching_engine.records import AuctionState, BidState, FloorState, ListingState, OrderState, ProposalState
from registry.context import Registry
from registry.orm import Base, EngineState, Instrument, Order
from registry.orm import Trade as TradeRow
from registry.services import delivery, trading
from registry.statements import FixedStatement
from registry.unit_of_work import UnitOfWork

QUARANTINED = "QUARANTINED"  # the reason of an order a rebuilt book could not hold
_ENGINE_STATES = Base.metadata.tables["engine_states"]
_SAVE_ENGINE_STATE = FixedStatement(lambda _: update(_ENGINE_STATES).where(
    _ENGINE_STATES.c.instrument_id == bindparam("instrument")).values(
    {c: bindparam(c) for c in ("next_seq", "trading_day", "reference_price_fen", "updated_at")}))


def ms(at: datetime | None) -> int | None:
    """An instant as the engine counts time (milliseconds since the epoch)."""
    return int(at.timestamp() * 1000) if at else None


# --- engine events → the ledger ----------------------------------------------------------------------------
def apply(uow: UnitOfWork, instrument_id: int, events: list[Event], terms: trading.Terms, trading_day: str,
          timed: Callable[[float], None] | None = None) -> None:
    """Turn the engine's events into order updates and settlements, in this transaction. `timed` hears how
    long each trade's settlement took (seconds)."""
    fee_bp = terms.fee_bp
    # The orders a command traded, read in one query rather than one each, and what settling them will
    # move locked in one more.
    trades = [event for event in events if isinstance(event, Trade) and event.mode != TradeMode.NEGOTIATED]
    resting = trading.orders_by_id(uow, {i for t in trades for i in (t.buy_order_id, t.sell_order_id)})
    delivery.prepare_settlement(uow, [(resting[t.buy_order_id], resting[t.sell_order_id]) for t in trades])
    for event in events:
        if isinstance(event, OrderAccepted):
            _order(uow, event.order_id).priority = event.seq
        elif isinstance(event, ListingPosted):
            _order(uow, event.listing_id).priority = event.seq
        elif isinstance(event, BidAccepted):
            _order(uow, event.bid_id).priority = event.seq
        elif isinstance(event, BidReleased):
            delivery.release(uow, _order(uow, event.bid_id), event.released_t, fee_bp, status="cancelled",
                            reason="NOT_ALLOCATED")
        elif isinstance(event, AuctionClosed):
            auction = _order(uow, event.auction_id)
            delivery.release(uow, auction, event.unallocated_t, fee_bp,
                            status="cancelled" if event.reason == AuctionCloseReason.CANCELLED else "expired",
                            reason=str(event.reason))
            if auction.status == "open" and auction.remaining_t == 0:
                auction.status = "filled"
        elif isinstance(event, ListingClosed):
            status = {ListingCloseReason.FILLED: "filled", ListingCloseReason.EXPIRED: "expired"}.get(
                event.reason, "cancelled")
            delivery.release(uow, _order(uow, event.listing_id), event.remaining_t, fee_bp, status=status,
                            reason=str(event.reason))
        elif isinstance(event, ProposalClosed):
            proposal = _order(uow, event.proposal_id)
            if event.status != ProposalStatus.ACCEPTED:
                status = "expired" if event.status == ProposalStatus.EXPIRED else "cancelled"
                delivery.release(uow, proposal, proposal.remaining_t, fee_bp, status=status,
                                reason=str(event.status))
        elif isinstance(event, Trade):
            if event.mode == TradeMode.NEGOTIATED:
                proposal = _order(uow, event.buy_order_id)
                acceptance = delivery.acceptance_of(uow, proposal.id)
                buy, sell = (proposal, acceptance) if proposal.side == "buy" else (acceptance, proposal)
            else:
                buy, sell = resting[event.buy_order_id], resting[event.sell_order_id]
            settling = time.perf_counter()
            delivery.settle(uow, trading.book_instrument(uow, instrument_id), engine_trade_id=event.trade_id,
                           mode=str(event.mode), price_fen=event.price_fen, quantity_t=event.quantity_t, buy=buy,
                           sell=sell, aggressor=str(event.aggressor).lower() if event.aggressor else None,
                           trading_day=trading_day, fee_bp=fee_bp, resale_lock=terms.resale_lock)
            if timed is not None:
                timed(time.perf_counter() - settling)
        elif isinstance(event, OrderCancelled):
            delivery.release(uow, _order(uow, event.order_id), event.cancelled_t, fee_bp, status="cancelled",
                            reason=str(event.reason))
        elif isinstance(event, OrderExpired):
            delivery.release(uow, _order(uow, event.order_id), event.expired_t, fee_bp, status="expired",
                            reason="expired")
        elif isinstance(event, OrderAmended):
            order = _order(uow, event.order_id)
            if not event.priority_kept:
                order.priority = event.seq
            order.price_fen = event.price_fen
            cut = event.old_quantity_t - event.quantity_t
            if cut <= 0:
                # A raise was held before the engine saw it; a buy may now need less cash (a lower price).
                order.remaining_t = event.quantity_t
            delivery.release(uow, order, max(cut, 0), fee_bp)
            order.quantity_t = order.filled_t + order.remaining_t


def _order(uow: UnitOfWork, order_id: int) -> Order:
    order = trading.order_by_id(uow, order_id)
    assert order is not None
    return order


def closed_order_id(event: Event) -> int | None:
    """The order (listing, proposal, auction, bid) an event of a withdrawal closed."""
    if isinstance(event, OrderCancelled):
        return event.order_id
    if isinstance(event, ListingClosed):
        return event.listing_id
    if isinstance(event, ProposalClosed):
        return event.proposal_id
    if isinstance(event, AuctionClosed):
        return event.auction_id
    if isinstance(event, BidReleased):
        return event.bid_id
    return None


def mark_withdrawn(uow: UnitOfWork, events: list[Event], participant_id: int, reason: str) -> list[dict[str, Any]]:
    """Give what a withdrawal of the participant closed (its events, already applied) the reason: its own
    orders `reason`, others' (proposals naming it, bids in its auctions) the counterparty's."""
    withdrawn: list[dict[str, Any]] = []
    for event in events:
        order_id = closed_order_id(event)
        order = trading.order_by_id(uow, order_id) if order_id is not None else None
        if order is None:
            continue
        order.reason = reason if order.participant_id == participant_id else trading.counterparty_reason(reason)
        withdrawn.append({"id": order.id, "kind": order.kind, "participant_id": order.participant_id,
                          "status": order.status, "reason": order.reason})
    return withdrawn


def save_engine_state(uow: UnitOfWork, instrument_id: int, next_seq: int, trading_day: str,
                      reference_price_fen: int | None) -> None:
    """Write the engine's sequence and market state, without reading the row first (one statement per
    batch: the writer is the only one to change it); the very first batch of a book makes it."""
    state = {"next_seq": next_seq, "trading_day": trading_day, "reference_price_fen": reference_price_fen,
             "updated_at": uow.now()}
    if uow.sql.execute_many(_SAVE_ENGINE_STATE, [{"instrument": instrument_id, **state}]) == 0:
        uow.session.add(EngineState(instrument_id=instrument_id, **state))


# --- the book from the database ----------------------------------------------------------------------------
Damaged = tuple[int, str, str]  # (order id, kind, what is wrong)


@dataclass
class Book:
    """An instrument's book as the database has it."""

    code: str
    engine: Engine
    resting: list[Order]  # the resting orders read, detached: the writer keeps them (trading.keep_open_orders)
    barred: set[int]  # participants that may no longer trade but have something here
    damaged: list[Damaged] = field(default_factory=list)  # rows the book could not take: quarantine them


def rebuild_book(registry: Registry, instrument_id: int, *, opening: Callable[[UnitOfWork, int], list[Command]],
                 phase: Callable[[UnitOfWork], Phase]) -> Book:
    """The book as the database has it. A book with neither a saved engine state nor open orders starts with the
    calendar's `opening` commands; otherwise it resumes in the calendar's `phase`. A row the book cannot take
    is listed in `damaged` rather than stopping it."""
    damaged: list[Damaged] = []
    with registry.uow() as uow:
        instrument = uow.session.get(Instrument, instrument_id)
        assert instrument is not None
        engine = Engine(InstrumentConfig(instrument_id=instrument.code, **instrument.config))
        saved = uow.session.get(EngineState, instrument_id)
        now_ms = int(uow.now().timestamp() * 1000)
        open_orders = _open_rows(uow, instrument_id, "order", damaged)
        priorities = [order.priority for order in open_orders if isinstance(order.priority, int)]
        # Never refuse to rebuild over a sequence that lags its orders: carry on after the newest.
        next_seq = max(saved.next_seq if saved else 1, max(priorities, default=0) + 1)
        if saved is None and not open_orders:
            engine.submit_all(opening(uow, now_ms))
        else:
            engine.restore_floor(FloorState(
                now_ms=now_ms, next_seq=next_seq, next_trade_id=_next_trade_id(uow, instrument_id),
                phase=phase(uow), trading_day=saved.trading_day if saved else uow.today().isoformat(),
                reference_price_fen=saved.reference_price_fen if saved else engine.config.reference_price_fen,
                last_trade=None, bar=None))
        resting = []
        for order in open_orders:
            try:
                engine.restore_order(OrderState(
                    order_id=order.id, account_id=str(order.participant_id), side=Side(order.side.upper()),
                    price_fen=cast(int, order.price_fen), quantity_t=order.remaining_t, tif=TimeInForce(order.tif),
                    expires_at_ms=ms(order.expires_at), stp=engine.config.default_stp,
                    priority=cast(int, order.priority)))
            except Exception as exc:
                damaged.append((order.id, "order", _problem(exc)))
                continue
            resting.append(order)
        for listing in _open_rows(uow, instrument_id, "listing", damaged):
            try:
                allowed = listing.allowed_counterparties
                engine.restore_listing(ListingState(
                    listing_id=listing.id, account_id=str(listing.participant_id),
                    side=Side(listing.side.upper()), price_fen=cast(int, listing.price_fen),
                    quantity_t=listing.remaining_t, min_pick_t=listing.min_pick_t or 1,
                    expires_at_ms=ms(listing.expires_at),
                    batch_id=str(listing.batch_id) if listing.batch_id else None,
                    allowed_counterparties=frozenset(str(a) for a in allowed) if allowed else None,
                    priority=cast(int, listing.priority)))
            except Exception as exc:
                damaged.append((listing.id, "listing", _problem(exc)))
        for auction in _open_rows(uow, instrument_id, "auction", damaged):
            bids = []
            for b in _open_rows(uow, instrument_id, "bid", damaged, parent_id=auction.id):
                try:
                    bid = BidState(b.id, str(b.participant_id), cast(int, b.price_fen), b.remaining_t,
                                   cast(int, b.priority))
                    engine.check_bid(bid)
                except Exception as exc:
                    damaged.append((b.id, "bid", _problem(exc)))
                    continue
                bids.append(bid)
            try:
                engine.restore_auction(AuctionState(
                    auction_id=auction.id, account_id=str(auction.participant_id),
                    side=Side(auction.side.upper()), quantity_t=auction.remaining_t,
                    reserve_price_fen=cast(int, auction.price_fen), end_ts_ms=cast(int, ms(auction.expires_at)),
                    pricing=AuctionPricing(auction.order_type),  # an auction row keeps its pricing there
                    batch_id=str(auction.batch_id) if auction.batch_id else None, bids=tuple(bids)))
            except Exception as exc:
                damaged.append((auction.id, "auction", _problem(exc)))
        for proposal in _open_rows(uow, instrument_id, "proposal", damaged):
            try:
                engine.restore_proposal(ProposalState(
                    proposal_id=proposal.id, account_id=str(proposal.participant_id),
                    counterparty_id=str(proposal.counterparty_participant_id),
                    side=Side(proposal.side.upper()), price_fen=cast(int, proposal.price_fen),
                    quantity_t=proposal.remaining_t, expires_at_ms=cast(int, ms(proposal.expires_at)),
                    batch_id=str(proposal.batch_id) if proposal.batch_id else None))
            except Exception as exc:
                damaged.append((proposal.id, "proposal", _problem(exc)))
        # Participants that may no longer trade but still have something here: withdrawn first.
        barred = trading.barred_with_open_interest(uow, instrument_id)
        # The resting orders just read are what the book holds: the writer keeps them as it keeps those of
        # its batches (trading.keep_open_orders), so the first trade against each needs no read.
        for order in resting:
            uow.session.expunge(order)
        return Book(instrument.code, engine, resting, barred, damaged)


def _next_trade_id(uow: UnitOfWork, instrument_id: int) -> int:
    """The next engine trade id: one past the last trade the database has for the instrument."""
    last = uow.session.scalar(select(func.max(TradeRow.engine_trade_id)).where(TradeRow.instrument_id == instrument_id))
    return (last or 0) + 1


def _unreadable(exc: BaseException) -> bool:
    """Whether reading a row failed on its values (rather than on the database being out of reach)."""
    return isinstance(exc, DataError | ValueError | TypeError | ArithmeticError | LookupError | AssertionError)


def _problem(exc: BaseException) -> str:
    """What was wrong with a row, short enough for a log line and an audit entry."""
    cause = getattr(exc, "orig", None) or exc
    return f"{type(cause).__name__}: {cause}"[:300]


def _open_ids(instrument_id: int, kind: str, parent_id: int | None = None) -> Select[int]:
    """The keys of what trading.open_orders (or, for kind "bid", trading.bids_of) reads, in the same order:
    keys can always be read, whatever the rows hold."""
    if kind == "bid":
        return select(Order.id).where(Order.parent_order_id == parent_id, Order.kind == "bid",
                                      Order.status == "open").order_by(Order.priority, Order.id)
    query = select(Order.id).where(Order.instrument_id == instrument_id, Order.status == "open", Order.kind == kind)
    if kind in ("order", "listing"):
        query = query.where(Order.priority.is_not(None))
    return query.order_by(Order.priority, Order.id)


def _open_rows(uow: UnitOfWork, instrument_id: int, kind: str, damaged: list[Damaged],
               parent_id: int | None = None) -> list[Order]:
    """The open orders, listings, auctions or proposals of the book (or an auction's bids), in time
    priority. If one of them cannot be read (a value the database holds but Python cannot: year 10000,
    say), the others are read one by one and that one is added to `damaged`."""
    try:
        if kind == "bid":
            return trading.bids_of(uow, cast(int, parent_id))
        return trading.open_orders(uow, instrument_id, kind)
    except Exception as exc:
        if not _unreadable(exc):
            raise
    rows = []
    for order_id in uow.session.scalars(_open_ids(instrument_id, kind, parent_id)):
        try:
            order = uow.session.get(Order, order_id)
        except Exception as exc:
            if not _unreadable(exc):
                raise
            damaged.append((order_id, kind, _problem(exc)))
            continue
        if order is not None:
            rows.append(order)
    return rows


# --- quarantine ----------------------------------------------------------------------------------------------
def with_bids_of_damaged_auctions(registry: Registry, instrument_id: int, damaged: list[Damaged]) -> list[Damaged]:
    """The damaged rows and, after them, the open bids of every damaged auction (they go with it)."""
    listed = {order_id for order_id, _, _ in damaged}
    found = list(damaged)
    for order_id, kind, _ in damaged:
        if kind == "auction":
            with registry.uow() as uow:
                bid_ids = list(uow.session.scalars(_open_ids(instrument_id, "bid", order_id)))
            found.extend((bid_id, "bid", f"its auction {order_id} was quarantined")
                         for bid_id in bid_ids if bid_id not in listed)
    return found


def cancel_quarantined(registry: Registry, code: str, order_id: int, kind: str, problem: str, fee_bp: int, *,
                       release: bool) -> None:
    """Cancel a quarantined row in a transaction of its own, releasing its holds as a cancel does (or, with
    `release` False, only marking it cancelled, without reading it), with an audit entry saying what was
    wrong."""
    with registry.uow() as uow:
        stored = uow.session.execute(select(
            Order.status, Order.expires_at.cast(String)).where(Order.id == order_id)).one()
        if stored.status != "open":
            return
        try:  # an expiry that cannot be read is cleared: a request gave it, nothing else needs it
            uow.session.execute(select(Order.expires_at).where(Order.id == order_id)).one()
            clear = {}
        except Exception as exc:
            if not _unreadable(exc):
                raise
            clear = {"expires_at": None}
        if release:
            order = uow.session.scalars(select(Order).where(Order.id == order_id).options(
                *([defer(Order.expires_at)] if clear else []))).one()
            delivery.release(uow, order, order.remaining_t, fee_bp, status="cancelled", reason=QUARANTINED)
            order.status, order.reason, order.updated_at = "cancelled", QUARANTINED, uow.now()
            if clear:
                order.expires_at = None
        else:
            uow.session.execute(update(Order).where(Order.id == order_id).values(
                status="cancelled", reason=QUARANTINED, updated_at=uow.now(), **clear))
        uow.audit("order.quarantined", "order", order_id, {
            "instrument": code, "kind": kind, "problem": problem, "holds_released": release,
            "expires_at_stored": stored.expires_at})
        uow.commit()
