"""The exchange service: one matching engine per instrument, fed by one writer thread, settling every trade
through the registry's ledger.

A writer takes the commands queued for its instrument in a batch, applies them in order inside ONE database
transaction, commits, and only then answers the callers (group commit). Each command is first checked and its
pre-trade holds worked out without writing anything; the engine then accepts or refuses it, and only an
accepted command is written with its holds, so a refused command leaves nothing behind and spoils nothing
else. The writer's session never flushes before the commit (see InstrumentDesk._writing). Should anything fail
after the engine has changed, or the commit itself fail, the transaction is rolled back and the book is
rebuilt from the database, which holds exactly the state before it; and a command fails only itself: the
batch goes again without the command that raised, or, when the commit cannot say which one it was, in halves
until that command is alone (InstrumentDesk._process). On start the books are rebuilt the same way; a row
that cannot be loaded into the book is quarantined (cancelled, its holds released) rather than stopping it.

A participant that may no longer trade (suspended or disqualified, Art. 19, 26) leaves every book: the route
that changed its status asks each book where it has something open, once that change has committed, to
withdraw it (withdraw_participant, through the engine's WithdrawAccount: orders, listings, proposals, auctions
and bids cancelled, holds released, audited). Behind that, every writer transaction reads the participants it
traded or added for again FOR SHARE before it commits and refuses itself if one may not trade, withdrawing
it first (InstrumentDesk._refuse_barred_trades, _sweep); a rebuilt book withdraws such participants before
anything else. So nothing of theirs trades, whether the withdrawal is still on its way or never came.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Connection, Select, String, bindparam, func, select, update
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session, defer

from api import metrics
from api.exchange.commands import SYSTEM, WITHDRAW, WITHDRAWERS, DeskCommand
from api.exchange.market_hours import phase_for, transitions
from api.exchange.writer import (
    TICK_S,
    Barred,
    BatchFailed,
    BookFailed,
    CommandFailed,
    Fenced,
    Job,
    Writer,
    book_moved,
    database_unavailable,
)
from matching_engine import (
    AcceptTransfer,
    AdvanceTime,
    AmendOrder,
    AuctionPricing,
    CancelAuction,
    CancelListing,
    CancelOrder,
    Engine,
    InstrumentConfig,
    OpenAuction,
    OrderAccepted,
    OrderAmended,
    OrderCancelled,
    OrderExpired,
    OrderType,
    Phase,
    PickListing,
    PlaceBid,
    PlaceOrder,
    PostListing,
    ProposeTransfer,
    Rejected,
    RejectTransfer,
    Side,
    TimeInForce,
    Trade,
    TradeMode,
    WithdrawAccount,
    WithdrawTransfer,
    to_plain,
)
from matching_engine.enums import AuctionCloseReason, ListingCloseReason, ProposalStatus
from matching_engine.events import (
    AuctionClosed,
    AuctionOpened,
    BidAccepted,
    BidReleased,
    Event,
    ListingClosed,
    ListingPosted,
    ProposalClosed,
    TransferProposed,
)
from matching_engine.records import AuctionState, BidState, ListingState, OrderState, ProposalState, SessionState
from registry.errors import (
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    RuleViolation,
    StateConflict,
)
from registry.orm import Base, EngineSession, Instrument, Order
from registry.orm import Trade as TradeRow
from registry.services import idempotency, instruments, trading
from registry.services.idempotency import Replayed
from registry.unit_of_work import FixedStatement, UnitOfWork
from rules.violations import Violation

if TYPE_CHECKING:
    from api.exchange.routing import Exchange

log = logging.getLogger("carbonx.exchange")

class EngineRefusal(DomainError):
    """The matching engine refused the command (a stable reason code such as PRICE_ABOVE_BAND)."""

    status = 409
    code = "order_rejected"


WRITER_ID_BLOCK = 512  # keys a writer takes from a sequence at a time: a batch writes a hundred postings or more
ORDERS_ROUTED_KEPT = 100_000  # order → instrument answers kept for routing cancels and amends
_ENGINE_SESSIONS = Base.metadata.tables["engine_sessions"]
_SAVE_ENGINE_SESSION = FixedStatement(lambda _: update(_ENGINE_SESSIONS).where(
    _ENGINE_SESSIONS.c.instrument_id == bindparam("instrument")).values(
    {c: bindparam(c) for c in ("next_seq", "trading_day", "reference_price_fen", "updated_at")}))



def order_view(order: Order) -> dict[str, Any]:
    return {"id": order.id, "client_order_id": order.client_order_id, "side": order.side,
            "order_type": order.order_type, "tif": order.tif, "price_fen": order.price_fen,
            "quantity_t": order.quantity_t, "filled_t": order.filled_t, "remaining_t": order.remaining_t,
            "status": order.status, "reason": order.reason, "cash_held_fen": order.cash_held_fen,
            "created_at": order.created_at.isoformat(), "updated_at": order.updated_at.isoformat()}


def _opposite(side: str) -> str:
    return "buy" if side == "sell" else "sell"


def _ms(at: datetime | None) -> int | None:
    return int(at.timestamp() * 1000) if at else None


QUARANTINED = "QUARANTINED"  # the reason of an order a rebuilt book could not hold


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


def engine_state_trade_id(uow: UnitOfWork, instrument_id: int) -> int:
    """The next engine trade id: one past the last trade the database has for the instrument."""
    last = uow.session.scalar(select(func.max(TradeRow.engine_trade_id)).where(TradeRow.instrument_id == instrument_id))
    return (last or 0) + 1


class InstrumentDesk(Writer):
    """The single writer of one instrument's book."""

    def __init__(self, exchange: Exchange, instrument_id: int, epoch: int | None = None) -> None:
        super().__init__(f"desk-{instrument_id}")
        self.exchange = exchange
        self.instrument_id = instrument_id
        # The owner epoch this process took the book at; None when one process owns every book. Every
        # transaction of this writer checks it first (_writing): a stale owner can never commit.
        self.epoch = epoch
        self.fenced = False
        self.lock = threading.Lock()  # readers of the in-memory book take it too
        self.kept: dict[Any, Any] = {}  # the book's open orders, kept across batches (trading.keep_open_orders)
        self.barred: set[int] = set()  # participants that may not trade with something in the book: see _sweep
        self.engine = self._rebuild()
        self.last_ts_ms = self.engine.now_ms
        self.published: list[Event] = []  # events of the batch in progress, published after its commit
        self.stale = False  # the in-memory book may differ from the database: rebuild before the next batch
        self.last_tick = time.monotonic()
        self.known_ids: dict[Any, int] = {}  # account ids by code, shared by this writer's units of work
        self.id_pool: dict[str, list[int]] = {}  # keys from the sequences, shared likewise
        self.connection: Connection | None = None  # the writer's own, see _session
        self.thread.start()

    # --- building the book from the database ------------------------------------------------------------
    def _rebuild(self) -> Engine:
        """The book as the database has it. A row the book cannot take (a value Python cannot read back, a
        price or quantity the engine refuses) is quarantined rather than stopping the book: see _quarantine."""
        registry = self.exchange.registry
        damaged: list[tuple[int, str, str]] = []  # (order id, kind, what is wrong), quarantined once read
        with registry.uow() as uow:
            instrument = uow.session.get(Instrument, self.instrument_id)
            assert instrument is not None
            self.code = instrument.code
            engine = Engine(InstrumentConfig(instrument_id=instrument.code, **instrument.config))
            saved = uow.session.get(EngineSession, self.instrument_id)
            now_ms = int(uow.now().timestamp() * 1000)
            open_orders = self._open_rows(uow, "order", damaged)
            priorities = [order.priority for order in open_orders if isinstance(order.priority, int)]
            # Never refuse to rebuild over a sequence that lags its orders: carry on after the newest.
            next_seq = max(saved.next_seq if saved else 1, max(priorities, default=0) + 1)
            if saved is None and not open_orders:
                engine.submit_all(transitions(self.exchange.market_hours(uow), uow.now(), Phase.CLOSED, "", now_ms))
            else:
                engine.restore_session(SessionState(
                    now_ms=now_ms, next_seq=next_seq, next_trade_id=engine_state_trade_id(uow, self.instrument_id),
                    phase=phase_for(self.exchange.market_hours(uow), uow.now()),
                    trading_day=saved.trading_day if saved else uow.today().isoformat(),
                    reference_price_fen=saved.reference_price_fen if saved else engine.config.reference_price_fen,
                    last_trade=None, bar=None))
            resting = []
            for order in open_orders:
                try:
                    engine.restore_order(OrderState(
                        order_id=order.id, account_id=str(order.participant_id), side=Side(order.side.upper()),
                        price_fen=cast(int, order.price_fen), quantity_t=order.remaining_t, tif=TimeInForce(order.tif),
                        expires_at_ms=_ms(order.expires_at), stp=engine.config.default_stp,
                        priority=cast(int, order.priority)))
                except Exception as exc:
                    damaged.append((order.id, "order", _problem(exc)))
                    continue
                resting.append(order)
            for listing in self._open_rows(uow, "listing", damaged):
                try:
                    allowed = listing.allowed_counterparties
                    engine.restore_listing(ListingState(
                        listing_id=listing.id, account_id=str(listing.participant_id),
                        side=Side(listing.side.upper()), price_fen=cast(int, listing.price_fen),
                        quantity_t=listing.remaining_t, min_pick_t=listing.min_pick_t or 1,
                        expires_at_ms=_ms(listing.expires_at),
                        batch_id=str(listing.batch_id) if listing.batch_id else None,
                        allowed_counterparties=frozenset(str(a) for a in allowed) if allowed else None,
                        priority=cast(int, listing.priority)))
                except Exception as exc:
                    damaged.append((listing.id, "listing", _problem(exc)))
            for auction in self._open_rows(uow, "auction", damaged):
                bids = []
                for b in self._open_rows(uow, "bid", damaged, parent_id=auction.id):
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
                        reserve_price_fen=cast(int, auction.price_fen), end_ts_ms=cast(int, _ms(auction.expires_at)),
                        pricing=AuctionPricing(auction.order_type),  # an auction row keeps its pricing there
                        batch_id=str(auction.batch_id) if auction.batch_id else None, bids=tuple(bids)))
                except Exception as exc:
                    damaged.append((auction.id, "auction", _problem(exc)))
            for proposal in self._open_rows(uow, "proposal", damaged):
                try:
                    engine.restore_proposal(ProposalState(
                        proposal_id=proposal.id, account_id=str(proposal.participant_id),
                        counterparty_id=str(proposal.counterparty_participant_id),
                        side=Side(proposal.side.upper()), price_fen=cast(int, proposal.price_fen),
                        quantity_t=proposal.remaining_t, expires_at_ms=cast(int, _ms(proposal.expires_at)),
                        batch_id=str(proposal.batch_id) if proposal.batch_id else None))
                except Exception as exc:
                    damaged.append((proposal.id, "proposal", _problem(exc)))
            # Participants that may no longer trade but still have something here: withdrawn first (_sweep).
            self.barred = trading.barred_with_open_interest(uow, self.instrument_id)
            # The resting orders just read are what the book holds: the writer keeps them as it keeps those of
            # its batches (trading.keep_open_orders), so the first trade against each needs no read.
            for order in resting:
                uow.session.expunge(order)
        if damaged:
            self._quarantine(damaged)
        self.kept.clear()
        self.kept.update({("order_id", order.id): order for order in resting})
        return engine

    def _open_rows(self, uow: UnitOfWork, kind: str, damaged: list[tuple[int, str, str]],
                   parent_id: int | None = None) -> list[Order]:
        """The open orders, listings, auctions or proposals of the book (or an auction's bids), in time
        priority. If one of them cannot be read (a value the database holds but Python cannot: year 10000,
        say), the others are read one by one and that one is added to `damaged`."""
        try:
            if kind == "bid":
                return trading.bids_of(uow, cast(int, parent_id))
            return trading.open_orders(uow, self.instrument_id, kind)
        except Exception as exc:
            if not _unreadable(exc):
                raise
        rows = []
        for order_id in uow.session.scalars(_open_ids(self.instrument_id, kind, parent_id)):
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

    def _quarantine(self, damaged: list[tuple[int, str, str]]) -> None:
        """Take rows the book cannot hold out of it for good, each in a transaction of its own: the order (or
        listing, auction, proposal, bid) is cancelled with the reason QUARANTINED, what it holds goes back to
        available through the ledger as a cancel would, an audit entry says what was wrong, and the operator is
        alerted (the log and carbonx_exchange_quarantined_total). An auction's bids go with it. Should the
        holds not be releasable, the row is still cancelled (the holds stay for the operator to repair)."""
        registry = self.exchange.registry
        listed = {order_id for order_id, _, _ in damaged}
        for order_id, kind, _ in list(damaged):
            if kind == "auction":
                with registry.uow() as uow:
                    bid_ids = list(uow.session.scalars(_open_ids(self.instrument_id, "bid", order_id)))
                damaged.extend((bid_id, "bid", f"its auction {order_id} was quarantined")
                               for bid_id in bid_ids if bid_id not in listed)
        for order_id, kind, problem in damaged:
            released = True
            try:
                self._cancel_quarantined(order_id, kind, problem, release=True)
            except Exception:
                log.exception("releasing the holds of quarantined %s %s failed; cancelling it without", kind, order_id)
                released = False
                self._cancel_quarantined(order_id, kind, problem, release=False)
            metrics.BOOK_QUARANTINED.labels(kind).inc()
            log.error("QUARANTINED %s %s of instrument %s: the book cannot hold it (%s). It is cancelled%s; an "
                      "operator should look into how the row came to be.", kind, order_id, self.code, problem,
                      " and its holds are released" if released else ", but its holds could NOT be released "
                      "and need repair")

    def _cancel_quarantined(self, order_id: int, kind: str, problem: str, *, release: bool) -> None:
        """Cancel a quarantined row in a transaction of its own, releasing its holds as a cancel does (or, with
        `release` False, only marking it cancelled, without reading it)."""
        with self.exchange.registry.uow() as uow:
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
                trading.release(uow, order, order.remaining_t, self.exchange.fee_bp, status="cancelled",
                                reason=QUARANTINED)
                order.status, order.reason, order.updated_at = "cancelled", QUARANTINED, uow.now()
                if clear:
                    order.expires_at = None
            else:
                uow.session.execute(update(Order).where(Order.id == order_id).values(
                    status="cancelled", reason=QUARANTINED, updated_at=uow.now(), **clear))
            uow.audit("order.quarantined", "order", order_id, {
                "instrument": self.code, "kind": kind, "problem": problem, "holds_released": release,
                "expires_at_stored": stored.expires_at})
            uow.commit()

    def _replies_held(self) -> AbstractContextManager[None]:
        return self.exchange.coordinator.holding_replies()

    def serve(self, batch: list[Job]) -> None:
        """Carry out one batch and answer its callers; then let time pass if it is due (a steady stream of
        commands never leaves the writer idle long enough to tick)."""
        try:
            if self.fenced:  # commands queued before the desk was let go of
                raise book_moved()
            if self.stale and not self._try_rebuild():
                raise database_unavailable()
            if self.barred:  # before a read too: nobody sees what is no longer there to take
                try:
                    self._sweep()
                except Fenced:
                    self._let_go()
                    raise book_moved() from None
            if all(job.command.kind in READS for job in batch):
                self._answer_reads(batch)
            else:
                self._process(batch)
        except Exception as exc:  # the writer must outlive any failure: answer everyone, keep serving
            for job in batch:
                if not job.future.done():
                    job.future.set_exception(exc if isinstance(exc, DomainError) else StateConflict(
                        "The exchange could not complete this command; nothing was done. Retry.",
                        "交易系统未能完成该指令，未作任何变更，请重试。"))
        if time.monotonic() - self.last_tick >= TICK_S:
            self._tick()

    def _answer_reads(self, batch: list[Job]) -> None:
        """Reads of the book (depth, the listing board) need no transaction: the book as it stands is what the
        last committed batch left."""
        with self.lock:
            answers = [READS[job.command.kind](self, job.command) for job in batch]
        for job, answer in zip(batch, answers, strict=True):
            job.future.set_result(answer)

    @contextmanager
    def _writing(self) -> Iterator[UnitOfWork]:
        """The writer's transaction, holding the book's lock. It never flushes before its commit: every read of
        what it has changed goes through the unit of work's own maps (orders by key, locked balances, live
        serial blocks), so a batch of commands writes its rows in one flush of a few multi-row statements. It
        reads only the balances its commands take from freely; credits and the spending of holds are added
        at commit without reading their rows (UnitOfWork.defer_balances)."""
        registry = self.exchange.registry
        with self.lock, UnitOfWork(self._session, registry.clock, None) as uow:
            uow.known_ids = self.known_ids
            uow.kept = self.kept
            uow.id_pool = self.id_pool
            uow.id_block = WRITER_ID_BLOCK
            uow.session.autoflush = False
            uow.defer_balances = True
            if self.epoch is not None and instruments.book_epoch(uow, self.instrument_id) != self.epoch:
                raise Fenced(f"instrument {self.instrument_id}: epoch {self.epoch} is no longer current")
            yield uow

    def _tick(self) -> None:
        """Let time pass in an idle book: expire GTD/DAY orders, listings and proposals that are due."""
        self.last_tick = time.monotonic()
        if self.stale and not self._try_rebuild():
            return
        if self.barred:
            try:
                self._sweep()
            except Fenced:
                self._let_go()
                return
        try:
            with self._writing() as uow:
                events = self.engine.submit(AdvanceTime(self.ts_ms(uow)))
                if events:
                    instrument = uow.session.get(Instrument, self.instrument_id)
                    assert instrument is not None
                    self.apply(uow, instrument, events)
                    self.published.extend(events)
                self._follow_calendar(uow)
                if not self.published:
                    return
                self._refuse_barred_trades(uow)
                self._save_session(uow)
                uow.commit()
                trading.keep_open_orders(uow)
                snapshot = self._snapshot()
        except Fenced:
            self._let_go()
            return
        except Barred as barred:
            log.warning("instrument %s: time passing would trade for participants that may not trade (%s); "
                        "withdrawing them first", self.instrument_id, barred)
            self.barred.update(barred.participants)
            self._forget()
            if self._try_rebuild():
                try:
                    self._sweep()
                except Fenced:
                    self._let_go()
            return
        except Exception:
            log.exception("letting time pass on instrument %s failed; rebuilding", self.instrument_id)
            self._forget()
            self._try_rebuild()
            return
        self._publish(self.code, snapshot)

    def _let_go(self) -> None:
        """This writer's process no longer owns the book: forget it, answer whatever is queued with "retry",
        and have the exchange route the book's commands to its owner from now on."""
        log.error("instrument %s: another process owns the book now (epoch %s is stale); letting go",
                  self.instrument_id, self.epoch)
        self.fenced = True
        self._forget()
        self.exchange.let_go(self)

    def _follow_calendar(self, uow: UnitOfWork) -> None:
        """Open, pause, resume or close the book as the trading calendar says (closing expires DAY orders)."""
        commands = transitions(self.exchange.market_hours(uow), uow.now(), self.engine.phase, self.engine.trading_day,
                               self.ts_ms(uow))
        if not commands:
            return
        instrument = uow.session.get(Instrument, self.instrument_id)
        assert instrument is not None
        for command in commands:
            events = self.engine.submit(command)
            try:
                self.apply(uow, instrument, events)
            except Exception as exc:
                raise BatchFailed(str(exc)) from exc
            self.published.extend(events)

    def _session(self) -> Session:
        """A session on the writer's own connection, kept from one batch to the next: taking one from the
        pool for every batch cost a round trip to ping it and the pool's bookkeeping, while the writer
        waited. After a failure the writer lets go of it (it may be the cause) and takes a fresh one."""
        if self.connection is None:
            self.connection = self.exchange.registry.engine.connect()
        return Session(bind=self.connection, expire_on_commit=False, autoflush=False)

    def _let_go_of_connection(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def _forget(self) -> None:
        """After a failed transaction: what this writer kept from earlier ones may no longer hold, nor its
        connection."""
        self.published.clear()
        self.known_ids.clear()
        self.kept.clear()
        self._let_go_of_connection()

    def _try_rebuild(self) -> bool:
        """Rebuild the book from the database; on failure stay stale and try again with the next batch."""
        try:
            engine = self._rebuild()
        except Exception:
            log.exception("rebuilding the book of instrument %s failed; will retry", self.instrument_id)
            self.stale = True
            return False
        with self.lock:
            self.engine = engine
            self.last_ts_ms = max(self.last_ts_ms, engine.now_ms)
        self.stale = False
        return True

    def _commit_run(self, run: list[Job]) -> None:
        """One transaction for these commands; answer them once it has committed. Raises CommandFailed
        naming the command that raised, BookFailed, or whatever the commit raised."""
        outcomes: list[tuple[Job, dict[str, Any] | None, DomainError | None]] = []
        committed, commit_seconds, snapshot = False, 0.0, None
        try:
            with self._writing() as uow:
                self._preload(uow, run)
                try:
                    self._follow_calendar(uow)
                except Exception as exc:
                    raise BookFailed(str(exc)) from exc
                for job in run:
                    uow.actor = job.command.principal
                    try:
                        replay = self._replay(uow, job)
                        result = replay if replay is not None else self.handle(uow, job.command)
                    except BatchFailed as exc:  # after the engine changed
                        raise CommandFailed(job) from exc.__cause__
                    except DomainError as refusal:  # refused before anything of it was written
                        outcomes.append((job, None, refusal))
                        continue
                    except Exception as exc:  # anything else: the command may have left something behind
                        raise CommandFailed(job) from exc
                    if replay is None:
                        try:
                            self._remember(uow, job, result)
                        except Exception as exc:
                            raise CommandFailed(job) from exc
                    outcomes.append((job, result, None))
                self._save_session(uow)
                self._refuse_barred_trades(uow)
                uow.actor = None
                committing = time.perf_counter()
                uow.commit()
                committed = True
                commit_seconds = time.perf_counter() - committing
                trading.keep_open_orders(uow)
                snapshot = self._snapshot() if self.published else None
        except Exception:
            if not committed:
                raise
            # Committed: the batch must never go round again. What the writer keeps may be off: rebuild the
            # book before the next batch (serve and _tick check `stale`).
            log.exception("after committing a batch on instrument %s; the book will be rebuilt", self.instrument_id)
            self.stale = True
        try:
            metrics.writer_batch_committed(((job.command.kind, error is None) for job, _, error in outcomes),
                                           commit_seconds)
            self._publish(self.code, snapshot)
        except Exception:  # market data is told again by the next batch; the answers must go out
            log.exception("publishing a committed batch of instrument %s failed", self.instrument_id)
        if self.stale:
            self._forget()
        for done, answer, error in outcomes:
            if error is not None:
                done.future.set_exception(error)
            elif answer is not None:
                done.future.set_result(answer)

    # --- participants that may no longer trade (Art. 19, 26) -------------------------------------------------
    def _sweep(self) -> None:
        """Withdraw what participants that may no longer trade still have in the book (found when it was
        rebuilt, or by a trade refused at commit) before anything else is done, each in a transaction of its
        own that does nothing else (no calendar, no timers: WithdrawAccount fires none). Should one fail, the
        book is rebuilt (which finds them again) and the next batch tries anew. Raises Fenced when another
        process owns the book now."""
        participants, self.barred = sorted(self.barred), set()
        for participant_id in participants:
            try:
                self._withdraw_now(participant_id)
            except Fenced:
                raise
            except Exception:
                log.exception("withdrawing participant %s from the book of instrument %s failed; rebuilding",
                              participant_id, self.instrument_id)
                self._forget()
                self._try_rebuild()
                return

    def _withdraw_now(self, participant_id: int) -> None:
        """One participant's withdrawal (_withdraw_participant, by the system) in a transaction of its own."""
        command = DeskCommand(WITHDRAW, SYSTEM, {"participant_id": participant_id})
        with self._writing() as uow:
            instrument = uow.session.get(Instrument, self.instrument_id)
            assert instrument is not None
            uow.memo["instrument"] = instrument
            done = self._withdraw_participant(uow, instrument, command)
            if not done["withdrawn"]:
                return
            self._save_session(uow)
            uow.commit()
            trading.keep_open_orders(uow)
            snapshot = self._snapshot()
        log.warning("instrument %s: withdrew %d orders of participant %s (%s) found in the book", self.code,
                    len(done["withdrawn"]), participant_id, done["reason"])
        self._publish(self.code, snapshot)

    def _refuse_barred_trades(self, uow: UnitOfWork) -> None:
        """The second line of defence: before a transaction commits, the participants of its trades and those
        who added to the book in it (_dealing: the engine's events say who) are read again (FOR SHARE, see
        trading.barred); if one may no longer trade, the transaction is refused (Barred). A status change
        either committed before (and is seen here) or waits for this commit (and the withdrawal the route asks
        for after it then finds what this transaction added). So this closes the moment between a status
        change's commit and that withdrawal, and covers a withdrawal that never came (its process died):
        nothing of a suspended or disqualified participant trades or enters the book, whatever is still in
        it. One query per transaction that traded or added. (SQLite has one writer at a time: no lock there.)"""
        found = trading.barred(uow, _dealing(self.published))
        if found:
            raise Barred(found)

    def _withdraw_participant(self, uow: UnitOfWork, instrument: Instrument, command: DeskCommand) -> dict[str, Any]:
        """Take everything of a participant that may no longer trade out of this book (engine.WithdrawAccount):
        its orders, listings, proposals, auctions and bids are cancelled and their holds released through the
        ledger as a cancel releases them, with the reason PARTICIPANT_SUSPENDED or PARTICIPANT_DISQUALIFIED;
        proposals naming it and bids in its auctions, others' orders, with COUNTERPARTY_SUSPENDED or
        COUNTERPARTY_DISQUALIFIED. The reason comes from the participant's status as it stands: one active
        and admitted again (a re-admission overtook the command) keeps what it has."""
        if not command.principal.has(*WITHDRAWERS):
            raise Forbidden("Only the bureau, the operations center or the system withdraws a participant.",
                            "只有市生态环境局、运营管理中心或系统可撤下主体的委托。")
        participant_id = int(command.params["participant_id"])
        reason = trading.withdrawal_reason_of(uow, participant_id)
        withdrawn: list[dict[str, Any]] = []
        if reason is not None:
            events = self.run_engine(uow, instrument, WithdrawAccount(self.ts_ms(uow), str(participant_id)))
            for event in events:
                order_id = _closed_order_id(event)
                order = trading.order_by_id(uow, order_id) if order_id is not None else None
                if order is None:
                    continue
                order.reason = reason if order.participant_id == participant_id else trading.counterparty_reason(reason)
                withdrawn.append({"id": order.id, "kind": order.kind, "participant_id": order.participant_id,
                                  "status": order.status, "reason": order.reason})
        if withdrawn:
            uow.audit("exchange.participant_withdrawn", "participant", participant_id, {
                "instrument": self.code, "reason": reason, "by_user_id": command.principal.user_id or None,
                "orders": [{k: w[k] for k in ("id", "kind", "participant_id")} for w in withdrawn]})
        return {"instrument": self.code, "participant_id": participant_id, "reason": reason, "withdrawn": withdrawn}

    def _preload(self, uow: UnitOfWork, batch: list[Job]) -> None:
        """Read what the batch's commands will need (its traders, their holdings, the orders they name) in a
        few queries for all of them."""
        traders = {job.command.principal.participant_id for job in batch
                   if job.command.principal.participant_id and job.command.kind != WITHDRAW}
        client_ids = {(job.command.principal.participant_id, str(job.command.params["client_order_id"]))
                      for job in batch if "client_order_id" in job.command.params}
        order_ids = {int(job.command.params[key]) for job in batch
                     for key in ("order_id", "listing_id", "auction_id", "proposal_id") if key in job.command.params}
        sellers = {job.command.principal.participant_id for job in batch if job.command.params.get("side") == "sell"}
        instrument = uow.session.get(Instrument, self.instrument_id)
        assert instrument is not None
        uow.memo["instrument"] = instrument
        trading.preload(uow, instrument, traders, sellers, client_ids, order_ids, self.exchange.resale_lock)

    def _snapshot(self) -> dict[str, Any]:
        engine, band = self.engine, self.engine.price_band()
        return {"depth": to_plain(engine.depth(10)), "top": to_plain(engine.top_of_book()),
                "price_band_fen": list(band) if band else None, "reference_price_fen": engine.reference_price_fen,
                "bar": to_plain(engine.bar())}

    def _publish(self, code: str, snapshot: dict[str, Any] | None) -> None:
        """Tell the market what the committed batch did: its trades, then the book as it now stands."""
        events, self.published = self.published, []
        messages = []
        for event in events:
            if isinstance(event, Trade):
                metrics.trade_committed(str(event.mode), event.quantity_t)
                messages.append({"type": "trade", "instrument": code, "trade_id": event.trade_id,
                                 "price_fen": event.price_fen, "quantity_t": event.quantity_t,
                                 "aggressor": str(event.aggressor).lower() if event.aggressor else None,
                                 "ts_ms": event.ts_ms})
        if snapshot is not None:
            messages.append({"type": "book", "instrument": code, **snapshot})
        if messages:
            self.exchange.broker.publish(code, messages)

    def _replay(self, uow: UnitOfWork, job: Job) -> dict[str, Any] | None:
        """The stored answer of an earlier request with the same Idempotency-Key, if any."""
        command = job.command
        return idempotency.replay(uow, command.principal.user_id, command.idempotency_key, command.request_hash,
                                  wait=False)

    def _remember(self, uow: UnitOfWork, job: Job, result: dict[str, Any]) -> None:
        command = job.command
        idempotency.remember(uow, command.principal.user_id, command.idempotency_key, command.request_hash, result)

    def _save_session(self, uow: UnitOfWork) -> None:
        """Write the engine's sequence and market state, without reading the row first (one statement per
        batch: the writer is the only one to change it); the very first batch of a book makes it."""
        state = {"next_seq": self.engine.next_seq, "trading_day": self.engine.trading_day,
                 "reference_price_fen": self.engine.reference_price_fen, "updated_at": uow.now()}
        if uow.execute_many(_SAVE_ENGINE_SESSION, [{"instrument": self.instrument_id, **state}]) == 0:
            uow.session.add(EngineSession(instrument_id=self.instrument_id, **state))

    def ts_ms(self, uow: UnitOfWork) -> int:
        """Time for the engine: the clock's, never going backwards."""
        self.last_ts_ms = max(self.last_ts_ms, int(uow.now().timestamp() * 1000))
        return self.last_ts_ms

    # --- the commands -------------------------------------------------------------------------------------
    def handle(self, uow: UnitOfWork, command: DeskCommand) -> dict[str, Any]:
        if command.kind in READS:
            return READS[command.kind](self, command)
        instrument = uow.memo.get("instrument") or uow.session.get(Instrument, self.instrument_id)
        assert instrument is not None
        uow.memo["instrument"] = instrument  # read once per batch (the session forgets rows nothing holds)
        handler = {"place": self._place, "cancel": self._cancel, "amend": self._amend,
                   "post_listing": self._post_listing, "pick": self._pick, "cancel_listing": self._cancel_listing,
                   "propose": self._propose, "accept": self._accept,
                   "reject": self._close_proposal, "withdraw": self._close_proposal,
                   "open_auction": self._open_auction, "bid": self._bid,
                   "cancel_auction": self._cancel_auction, WITHDRAW: self._withdraw_participant}[command.kind]
        return handler(uow, instrument, command)

    def _active(self, instrument: Instrument) -> None:
        if instrument.status != "active":
            raise RuleViolation([Violation("HALTED", "Art. 20", "instrument", "该交易品种已暂停交易。",
                                           "Trading in this instrument is halted.")])

    def _hold(self, uow: UnitOfWork, instrument: Instrument, command: DeskCommand, *, kind: str, side: str,
              price_fen: int, quantity_t: int, order_type: str = "LIMIT",
              **extra: Any) -> trading.OrderPlan | dict[str, Any]:
        """Check and plan one side of a listing, pick, proposal or acceptance with its hold (or replay it);
        `run_engine` records it once the engine has accepted."""
        principal, body = command.principal, command.params
        earlier = trading.existing_order(uow, principal.participant_id, body["client_order_id"])
        if earlier is not None:
            if earlier.request_hash != command.request_hash:
                raise InvalidInput("client_order_id was already used for a different request.",
                                   "client_order_id 已用于另一笔委托。")
            return Replayed(order_view(earlier))
        expires_at = self._instant(uow, body, "end_at" if "end_at" in body else "expires_at")
        return trading.plan_order(uow, principal, instrument, trading.OrderRequest(
            client_order_id=body["client_order_id"], side=side, order_type=order_type, tif="GTC", price_fen=price_fen,
            hold_price_fen=price_fen, quantity_t=quantity_t, expires_at=expires_at,
            request_hash=command.request_hash, kind=kind, **extra), self.exchange.fee_bp, self.exchange.resale_lock)

    def _instant(self, uow: UnitOfWork, body: dict[str, Any], field: str) -> datetime | None:
        """The expiry or auction end a command gives (None if it gives none), in UTC: after now and no further
        ahead than the exchange's horizon (CARBONX_MAX_HORIZON_DAYS). The API bounds every instant already;
        this also guards a command that came another way (routed from a process of another version, say)."""
        given = body.get(field)
        if given is None:
            return None
        try:
            at = datetime.fromisoformat(given)
            utc = at.astimezone(UTC) if at.tzinfo is not None else None
        except (TypeError, ValueError, OverflowError):
            utc = None
        if utc is None:
            raise InvalidInput(f"{field} is not an instant with a time zone the exchange can keep.",
                               f"{field} 不是带时区且可保存的时间。",
                               [Violation("INVALID_INSTANT", "Art. 20", field, "时间无效。", "Not a valid instant.")])
        now, days = uow.now(), self.exchange.max_horizon_days
        if utc <= now:
            raise InvalidInput(f"{field} must lie after now ({now.isoformat()}).",
                               f"{field} 必须晚于当前时间（{now.isoformat()}）。",
                               [Violation("INSTANT_PASSED", "Art. 20", field, "该时间已过。",
                                          "That instant has passed.")])
        if utc > now + timedelta(days=days):
            raise InvalidInput(f"{field} must lie within {days} days of now.",
                               f"{field} 不得晚于当前时间之后 {days} 天。",
                               [Violation("BEYOND_HORIZON", "Art. 20", field, f"该时间超出 {days} 天的期限。",
                                          f"That instant lies beyond the {days}-day horizon.")])
        return utc

    def _post_listing(self, uow: UnitOfWork, instrument: Instrument, command: DeskCommand) -> dict[str, Any]:
        """挂牌: post a listing at a price; its side is held like an order."""
        self._active(instrument)
        body = command.params
        listing = self._hold(uow, instrument, command, kind="listing", side=body["side"],
                             price_fen=body["price_fen"], quantity_t=body["quantity_t"],
                             min_pick_t=body["min_pick_t"], batch_id=body.get("batch_id"),
                             allowed_counterparties=body.get("allowed_counterparties"))
        if isinstance(listing, dict):
            return listing
        allowed = body.get("allowed_counterparties")
        self.run_engine(uow, instrument, PostListing(
            self.ts_ms(uow), listing.order.id, str(command.principal.participant_id), Side(body["side"].upper()),
            body["price_fen"], body["quantity_t"], body["min_pick_t"], expires_at_ms=_ms(listing.order.expires_at),
            batch_id=str(body["batch_id"]) if body.get("batch_id") else None,
            allowed_counterparties=frozenset(str(a) for a in allowed) if allowed else None), listing)
        return order_view(listing.order)

    @staticmethod
    def _parent(uow: UnitOfWork, instrument: Instrument, order_id: int, kind: str, name_zh: str) -> Order:
        """The listing or auction a pick or bid is for, in this instrument."""
        parent = trading.order_by_id(uow, order_id)
        if parent is None or parent.kind != kind or parent.instrument_id != instrument.id:
            raise NotFound(f"{kind.capitalize()} {order_id} not found.", f"未找到{name_zh} {order_id}。")
        return parent

    def _pick(self, uow: UnitOfWork, instrument: Instrument, command: DeskCommand) -> dict[str, Any]:
        """点选: take some or all of a listing at its price, at once."""
        self._active(instrument)
        body = command.params
        listing = self._parent(uow, instrument, body["listing_id"], "listing", "挂牌")
        assert listing.price_fen is not None
        pick = self._hold(uow, instrument, command, kind="pick", side=_opposite(listing.side),
                          price_fen=listing.price_fen, quantity_t=body["quantity_t"], parent_order_id=listing.id,
                          batch_id=listing.batch_id)
        if isinstance(pick, dict):
            return pick
        self.run_engine(uow, instrument, PickListing(self.ts_ms(uow), pick.order.id, listing.id,
                                                     str(command.principal.participant_id), body["quantity_t"]),
                        pick)
        return order_view(pick.order)

    def _cancel_listing(self, uow: UnitOfWork, instrument: Instrument, command: DeskCommand) -> dict[str, Any]:
        listing = self._open_order(uow, command)
        self.run_engine(uow, instrument, CancelListing(self.ts_ms(uow), listing.id,
                                                       str(command.principal.participant_id)))
        return order_view(listing)

    def _browse(self, command: DeskCommand) -> dict[str, Any]:
        """The listing board, best price first then oldest, as the caller may pick from it."""
        p = command.params
        viewer = str(command.principal.participant_id) if command.principal.participant_id else None
        states = self.engine.listings(Side(p["side"].upper()), viewer_id=viewer,
                                      batch_id=str(p["batch_id"]) if p.get("batch_id") else None,
                                      min_price_fen=p.get("min_price_fen"), max_price_fen=p.get("max_price_fen"),
                                      min_quantity_t=p.get("min_quantity_t"), offset=p.get("offset", 0),
                                      limit=p.get("limit", 20))
        return {"items": [{"listing_id": s.listing_id, "side": str(s.side).lower(), "price_fen": s.price_fen,
                           "quantity_t": s.quantity_t, "min_pick_t": s.min_pick_t, "batch_id": s.batch_id,
                           "expires_at_ms": s.expires_at_ms, "restricted": s.allowed_counterparties is not None}
                          for s in states]}

    def _propose(self, uow: UnitOfWork, instrument: Instrument, command: DeskCommand) -> dict[str, Any]:
        """协议转让: propose a quantity and price to one named counterparty."""
        self._active(instrument)
        body = command.params
        proposal = self._hold(uow, instrument, command, kind="proposal", side=body["side"],
                              price_fen=body["price_fen"], quantity_t=body["quantity_t"],
                              counterparty_participant_id=body["counterparty_participant_id"],
                              batch_id=body.get("batch_id"))
        if isinstance(proposal, dict):
            return proposal
        expires_at = proposal.order.expires_at
        assert expires_at is not None
        self.run_engine(uow, instrument, ProposeTransfer(
            self.ts_ms(uow), proposal.order.id, str(command.principal.participant_id),
            str(body["counterparty_participant_id"]), Side(body["side"].upper()), body["price_fen"],
            body["quantity_t"], int(expires_at.timestamp() * 1000),
            batch_id=str(body["batch_id"]) if body.get("batch_id") else None), proposal)
        return order_view(proposal.order)

    def _open_auction(self, uow: UnitOfWork, instrument: Instrument, command: DeskCommand) -> dict[str, Any]:
        """单向竞价: offer a lot (or ask for one) with a reserve price; sealed bids until it ends."""
        self._active(instrument)
        body = command.params
        auction = self._hold(uow, instrument, command, kind="auction", side=body["side"],
                             price_fen=body["reserve_price_fen"], quantity_t=body["quantity_t"],
                             order_type=body["pricing"], batch_id=body.get("batch_id"))
        if isinstance(auction, dict):
            return auction
        ends = auction.order.expires_at
        assert ends is not None
        self.run_engine(uow, instrument, OpenAuction(
            self.ts_ms(uow), auction.order.id, str(command.principal.participant_id), Side(body["side"].upper()),
            body["quantity_t"], body["reserve_price_fen"], int(ends.timestamp() * 1000),
            AuctionPricing(body["pricing"]), batch_id=str(body["batch_id"]) if body.get("batch_id") else None),
            auction)
        return order_view(auction.order)

    def _bid(self, uow: UnitOfWork, instrument: Instrument, command: DeskCommand) -> dict[str, Any]:
        """A sealed, binding bid; what it could cost (or deliver) is held until the auction closes."""
        self._active(instrument)
        body = command.params
        auction = self._parent(uow, instrument, body["auction_id"], "auction", "竞价")
        bid = self._hold(uow, instrument, command, kind="bid", side=_opposite(auction.side),
                         price_fen=body["price_fen"], quantity_t=body["quantity_t"], parent_order_id=auction.id,
                         batch_id=auction.batch_id)
        if isinstance(bid, dict):
            return bid
        self.run_engine(uow, instrument, PlaceBid(self.ts_ms(uow), auction.id, bid.order.id,
                                                  str(command.principal.participant_id), body["price_fen"],
                                                  body["quantity_t"]), bid)
        return order_view(bid.order)

    def _cancel_auction(self, uow: UnitOfWork, instrument: Instrument, command: DeskCommand) -> dict[str, Any]:
        auction = self._open_order(uow, command)
        self.run_engine(uow, instrument, CancelAuction(self.ts_ms(uow), auction.id,
                                                       str(command.principal.participant_id)))
        return order_view(auction)

    def _proposal_for_counterparty(self, uow: UnitOfWork, command: DeskCommand) -> Order:
        proposal = trading.order_by_id(uow, command.params["proposal_id"])
        me = command.principal.participant_id
        if proposal is None or proposal.kind != "proposal" or me not in (
                proposal.participant_id, proposal.counterparty_participant_id):
            raise NotFound("Proposal not found.", "未找到该协议转让申请。")
        return proposal

    def _accept(self, uow: UnitOfWork, instrument: Instrument, command: DeskCommand) -> dict[str, Any]:
        """The named counterparty accepts: its side is held and the transfer settles at once."""
        self._active(instrument)
        proposal = self._proposal_for_counterparty(uow, command)
        assert proposal.price_fen is not None
        acceptance = self._hold(uow, instrument, command, kind="acceptance",
                                side=_opposite(proposal.side), price_fen=proposal.price_fen,
                                quantity_t=proposal.remaining_t, parent_order_id=proposal.id,
                                batch_id=proposal.batch_id)
        if isinstance(acceptance, dict):
            return acceptance
        self.run_engine(uow, instrument, AcceptTransfer(self.ts_ms(uow), proposal.id,
                                                        str(command.principal.participant_id)), acceptance)
        return order_view(acceptance.order)

    def _close_proposal(self, uow: UnitOfWork, instrument: Instrument, command: DeskCommand) -> dict[str, Any]:
        """Reject (the counterparty) or withdraw (the initiator): the initiator's hold is released."""
        proposal = self._proposal_for_counterparty(uow, command)
        who = str(command.principal.participant_id)
        close = RejectTransfer if command.kind == "reject" else WithdrawTransfer
        self.run_engine(uow, instrument, close(self.ts_ms(uow), proposal.id, who))
        return order_view(proposal)

    def _depth(self, command: DeskCommand) -> dict[str, Any]:
        """A read of the live book (routed like a command, so only the owner's book is ever read)."""
        return self._snapshot() | {"depth": to_plain(self.engine.depth(int(command.params["levels"])))}

    def _place(self, uow: UnitOfWork, instrument: Instrument, command: DeskCommand) -> dict[str, Any]:
        body, principal, fee_bp = command.params, command.principal, self.exchange.fee_bp
        if instrument.status != "active":
            raise RuleViolation([Violation("HALTED", "Art. 20", "instrument", "该交易品种已暂停交易。",
                                           "Trading in this instrument is halted.")])
        earlier = trading.existing_order(uow, principal.participant_id, body["client_order_id"])
        if earlier is not None:
            if earlier.request_hash != command.request_hash:
                raise InvalidInput("client_order_id was already used for a different order.",
                                   "client_order_id 已用于另一笔订单。")
            return Replayed(order_view(earlier))
        hold_price = body.get("price_fen")
        if body["order_type"] == "MARKET" and body["side"] == "buy":
            band = self.engine.price_band()
            hold_price = body.get("protection_price_fen") or (band[1] if band else None)
            if hold_price is None:
                raise InvalidInput("A market buy needs protection_price_fen when the instrument has no band.",
                                   "无价格涨跌幅限制时，市价买单须给出保护价。")
        tif = body.get("tif") or ("IOC" if body["order_type"] == "MARKET" else "GTC")
        expires_at = self._instant(uow, body, "expires_at")
        plan = trading.plan_order(uow, principal, instrument, trading.OrderRequest(
            client_order_id=body["client_order_id"], side=body["side"], order_type=body["order_type"], tif=tif,
            price_fen=body.get("price_fen"), hold_price_fen=hold_price, quantity_t=body["quantity_t"],
            expires_at=expires_at, request_hash=command.request_hash), fee_bp, self.exchange.resale_lock)
        self.run_engine(uow, instrument, PlaceOrder(
            ts_ms=self.ts_ms(uow), order_id=plan.order.id, account_id=str(principal.participant_id),
            side=Side(body["side"].upper()), quantity_t=body["quantity_t"], price_fen=body.get("price_fen"),
            order_type=OrderType(body["order_type"]), tif=TimeInForce(tif),
            expires_at_ms=int(expires_at.timestamp() * 1000) if expires_at else None,
            protection_price_fen=hold_price if body["order_type"] == "MARKET" else None), plan)
        return order_view(plan.order)

    def _open_order(self, uow: UnitOfWork, command: DeskCommand) -> Order:
        order = trading.get_order(uow, command.principal.participant_id, command.params["order_id"])
        if order.status != "open":
            raise StateConflict(f"The order is {order.status}.", f"订单状态为 {order.status}。")
        return order

    def _cancel(self, uow: UnitOfWork, instrument: Instrument, command: DeskCommand) -> dict[str, Any]:
        order = self._open_order(uow, command)
        self.run_engine(uow, instrument, CancelOrder(self.ts_ms(uow), order.id,
                                                     str(command.principal.participant_id)))
        return order_view(order)

    def _amend(self, uow: UnitOfWork, instrument: Instrument, command: DeskCommand) -> dict[str, Any]:
        order = self._open_order(uow, command)
        quantity_t, price_fen = command.params.get("quantity_t"), command.params.get("price_fen")
        extra = (quantity_t - order.remaining_t) if quantity_t is not None else 0
        hold = trading.plan_extra_hold(uow, order, instrument, extra, price_fen if order.side == "buy" else None,
                                       self.exchange.fee_bp, self.exchange.resale_lock)
        self.run_engine(uow, instrument, AmendOrder(self.ts_ms(uow), order.id,
                                                    str(command.principal.participant_id),
                                                    quantity_t=quantity_t, price_fen=price_fen), hold)
        return order_view(order)

    # --- applying engine events -------------------------------------------------------------------------
    def apply(self, uow: UnitOfWork, instrument: Instrument, events: list[Event]) -> None:
        """Turn the engine's events into order updates and settlements, in this transaction."""
        fee_bp = self.exchange.fee_bp
        # The orders a command traded, read in one query rather than one each, and what settling them will
        # move locked in one more.
        trades = [event for event in events if isinstance(event, Trade) and event.mode != TradeMode.NEGOTIATED]
        resting = trading.orders_by_id(uow, {i for t in trades for i in (t.buy_order_id, t.sell_order_id)})
        trading.prepare_settlement(uow, [(resting[t.buy_order_id], resting[t.sell_order_id]) for t in trades])
        for event in events:
            if isinstance(event, OrderAccepted):
                order = trading.order_by_id(uow, event.order_id)
                assert order is not None
                order.priority = event.seq
            elif isinstance(event, ListingPosted):
                listing = trading.order_by_id(uow, event.listing_id)
                assert listing is not None
                listing.priority = event.seq
            elif isinstance(event, BidAccepted):
                bid = trading.order_by_id(uow, event.bid_id)
                assert bid is not None
                bid.priority = event.seq
            elif isinstance(event, BidReleased):
                bid = trading.order_by_id(uow, event.bid_id)
                assert bid is not None
                trading.release(uow, bid, event.released_t, fee_bp, status="cancelled", reason="NOT_ALLOCATED")
            elif isinstance(event, AuctionClosed):
                auction = trading.order_by_id(uow, event.auction_id)
                assert auction is not None
                trading.release(uow, auction, event.unallocated_t, fee_bp,
                                status="cancelled" if event.reason == AuctionCloseReason.CANCELLED else "expired",
                                reason=str(event.reason))
                if auction.status == "open" and auction.remaining_t == 0:
                    auction.status = "filled"
            elif isinstance(event, ListingClosed):
                listing = trading.order_by_id(uow, event.listing_id)
                assert listing is not None
                status = {ListingCloseReason.FILLED: "filled", ListingCloseReason.EXPIRED: "expired"}.get(
                    event.reason, "cancelled")
                trading.release(uow, listing, event.remaining_t, fee_bp, status=status, reason=str(event.reason))
            elif isinstance(event, ProposalClosed):
                proposal = trading.order_by_id(uow, event.proposal_id)
                assert proposal is not None
                if event.status != ProposalStatus.ACCEPTED:
                    status = "expired" if event.status == ProposalStatus.EXPIRED else "cancelled"
                    trading.release(uow, proposal, proposal.remaining_t, fee_bp, status=status,
                                    reason=str(event.status))
            elif isinstance(event, Trade):
                if event.mode == TradeMode.NEGOTIATED:
                    proposal = trading.order_by_id(uow, event.buy_order_id)
                    assert proposal is not None
                    acceptance = trading.acceptance_of(uow, proposal.id)
                    buy, sell = (proposal, acceptance) if proposal.side == "buy" else (acceptance, proposal)
                else:
                    buy, sell = resting[event.buy_order_id], resting[event.sell_order_id]
                settling = time.perf_counter()
                trading.settle(uow, instrument, engine_trade_id=event.trade_id, mode=str(event.mode),
                               price_fen=event.price_fen, quantity_t=event.quantity_t, buy=buy, sell=sell,
                               aggressor=str(event.aggressor).lower() if event.aggressor else None,
                               trading_day=self.engine.trading_day, fee_bp=fee_bp,
                               resale_lock=self.exchange.resale_lock)
                metrics.SETTLEMENT_SECONDS.observe(time.perf_counter() - settling)
            elif isinstance(event, OrderCancelled):
                order = trading.order_by_id(uow, event.order_id)
                assert order is not None
                trading.release(uow, order, event.cancelled_t, fee_bp, status="cancelled",
                                reason=str(event.reason))
            elif isinstance(event, OrderExpired):
                order = trading.order_by_id(uow, event.order_id)
                assert order is not None
                trading.release(uow, order, event.expired_t, fee_bp, status="expired", reason="expired")
            elif isinstance(event, OrderAmended):
                order = trading.order_by_id(uow, event.order_id)
                assert order is not None
                if not event.priority_kept:
                    order.priority = event.seq
                order.price_fen = event.price_fen
                cut = event.old_quantity_t - event.quantity_t
                if cut <= 0:
                    # A raise was held before the engine saw it; a buy may now need less cash (a lower price).
                    order.remaining_t = event.quantity_t
                trading.release(uow, order, max(cut, 0), fee_bp)
                order.quantity_t = order.filled_t + order.remaining_t

    def run_engine(self, uow: UnitOfWork, instrument: Instrument, command: Any,
                   planned: trading.OrderPlan | trading.ExtraHold | None = None) -> list[Event]:
        """Submit to the engine. A rejection refuses the command, and nothing of it has been written: the
        order and holds it `planned` were only checked so far. Once the engine has accepted, they are
        recorded and the events applied; any failure from here on fails the batch (the book has changed)."""
        events = self.engine.submit(command)
        if len(events) == 1 and isinstance(events[0], Rejected):
            reason = str(events[0].reason)
            raise EngineRefusal(f"The order was refused: {reason}.", f"订单被拒绝：{reason}。",
                                [Violation(reason, "Art. 20", None, f"撮合引擎拒绝：{reason}",
                                           f"refused by the matching engine: {reason}")])
        try:
            if isinstance(planned, trading.OrderPlan):
                trading.record_order(uow, planned)
            elif planned is not None:
                trading.add_hold(uow, planned)
            self.apply(uow, instrument, events)
        except Exception as exc:
            raise BatchFailed(str(exc)) from exc
        self.published.extend(events)
        return events


# Commands that only read the book, by kind: answered without a transaction when a batch holds nothing else.
READS: dict[str, Callable[[InstrumentDesk, DeskCommand], dict[str, Any]]] = {
    "depth": InstrumentDesk._depth, "browse": InstrumentDesk._browse}

def _dealing(events: list[Event]) -> set[int]:
    """The participants (account ids) who traded in these events or added to the book: placed, amended,
    listed, proposed (and whom they named), opened an auction or bid. A replayed answer has no events."""
    found: set[str] = set()
    for event in events:
        if isinstance(event, Trade):
            found.update((event.buy_account_id, event.sell_account_id))
        elif isinstance(event, TransferProposed):
            found.update((event.account_id, event.counterparty_id))
        elif isinstance(event, OrderAccepted | OrderAmended | ListingPosted | AuctionOpened | BidAccepted):
            found.add(event.account_id)
    return {int(account) for account in found}


def _closed_order_id(event: Event) -> int | None:
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

