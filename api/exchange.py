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

import asyncio
import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import anyio.from_thread
from sqlalchemy import Connection, Select, String, bindparam, func, select, update
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from sqlalchemy.orm import Session, defer
from starlette.concurrency import run_in_threadpool

from api import metrics
from api.market_data import Broker, LocalBroker
from api.market_hours import MarketHours, phase_for, transitions
from api.ownership import Coordinator, LocalCoordinator
from api.problems import retryable
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
from registry.caches import WriterCache
from registry.context import Registry
from registry.errors import (
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    OutcomeUnknown,
    RuleViolation,
    StateConflict,
    Unavailable,
)
from registry.orm import Base, EngineSession, Instrument, Order
from registry.orm import Trade as TradeRow
from registry.principals import Principal
from registry.services import idempotency, instruments, market_calendar, trading
from registry.services.idempotency import Replayed
from registry.statements import FixedStatement
from registry.unit_of_work import UnitOfWork
from rules.violations import Violation

log = logging.getLogger("carbonx.exchange")
BATCH_LIMIT = 64
TICK_S = 1.0  # an idle book still lets time pass, so expiries happen when due rather than at the next command
ANSWER_TIMEOUT_S = 30.0
ORDERS_ROUTED_KEPT = 100_000  # order → instrument answers kept for routing cancels and amends
_ENGINE_SESSIONS = Base.metadata.tables["engine_sessions"]
_SAVE_ENGINE_SESSION = FixedStatement(lambda _: update(_ENGINE_SESSIONS).where(
    _ENGINE_SESSIONS.c.instrument_id == bindparam("instrument")).values(
    {c: bindparam(c) for c in ("next_seq", "trading_day", "reference_price_fen", "updated_at")}))


class EngineRefusal(DomainError):
    """The matching engine refused the command (a stable reason code such as PRICE_ABOVE_BAND)."""

    status = 409
    code = "order_rejected"


class _BatchFailed(Exception):
    """Something failed after the engine changed: the transaction is rolled back and the book rebuilt."""


class _CommandFailed(Exception):
    """One command of a batch raised something other than a refusal: it alone fails, the rest go again."""

    def __init__(self, job: Job) -> None:
        super().__init__(job.command.kind)
        self.job = job


class _BookFailed(Exception):
    """What the book does before a batch's commands (the calendar's transitions) failed."""


class _Barred(Exception):
    """A trade of the transaction involves participants that may no longer trade (Art. 19, 26): nothing of it is
    written; what they have in the book is withdrawn, and the commands go again."""

    def __init__(self, participants: dict[int, str]) -> None:
        super().__init__(", ".join(f"{p}: {r}" for p, r in sorted(participants.items())))
        self.participants = participants


class _Fenced(Exception):
    """Another process has taken the book since this writer's process did (the book's epoch moved on): this
    writer must never commit again; its process lets go of the book and routes its commands to the owner."""


def _book_moved() -> Unavailable:
    return Unavailable("This order book has just moved to another server; nothing was done. Retry.",
                       "该订单簿刚转由另一台服务器处理，未作任何变更，请重试。")


@dataclass
class DeskCommand:
    """A command for an instrument's writer, as plain data so it can be routed to another process."""

    kind: str  # "place", "cancel", "amend"
    principal: Principal
    params: dict[str, Any]
    idempotency_key: str | None = None
    request_hash: str = ""

    def to_dict(self) -> dict[str, Any]:
        p = self.principal
        return {"kind": self.kind, "params": self.params, "idempotency_key": self.idempotency_key,
                "request_hash": self.request_hash,
                "principal": {"user_id": p.user_id, "participant_id": p.participant_id, "username": p.username,
                              "roles": sorted(p.roles)}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DeskCommand:
        p = data["principal"]
        return cls(data["kind"], Principal(p["user_id"], p["participant_id"], p["username"], frozenset(p["roles"])),
                   data["params"], data["idempotency_key"], data["request_hash"])


# Who withdraws a participant from the books: the bureau (Art. 26), the operations center (Art. 19), an admin,
# and a writer itself when it finds one in its book (SYSTEM: no user, no organisation).
WITHDRAWERS = ("bureau", "operator", "admin", "system")
SYSTEM = Principal(0, 0, "system", frozenset({"system"}))
WITHDRAW = "withdraw_participant"
BARRED_RETRIES = 3  # a batch refused for a barred participant's trade goes again after its withdrawal


@dataclass
class Job:
    """One command waiting for its instrument's writer, with where its answer goes."""

    command: DeskCommand
    future: Future[dict[str, Any]] = field(default_factory=Future)


Outcome = dict[str, Any] | DomainError  # a command's answer, or its refusal


def _timed_out() -> OutcomeUnknown:
    return OutcomeUnknown("The exchange did not answer in time; the command may or may not have been carried out. "
                          "Retry with the same client_order_id or Idempotency-Key: the retry tells you, and never "
                          "does it twice.",
                          "交易系统未及时响应，该指令可能已执行也可能未执行。请以相同的 client_order_id 或 "
                          "Idempotency-Key 重试以获知结果，重试绝不会重复执行。")


def outcome_of(future: Future[dict[str, Any]]) -> Outcome:
    """A finished job's answer or refusal; a job not finished yet has timed out. (The writer only ever fails a
    job with a DomainError: it turns anything else into a StateConflict.)"""
    if not future.done():
        return _timed_out()
    error = future.exception()
    if error is None:
        return future.result()
    return error if isinstance(error, DomainError) else StateConflict(str(error), str(error))


async def awaited(futures: list[Future[dict[str, Any]]], timeout_s: float) -> list[Outcome]:
    """The writer's answers to these jobs, awaited on the event loop rather than by a thread parked on each:
    the writer completes the futures in its own thread, and the last of them wakes the loop once. A job not
    done within the timeout is answered as timed out (it may still be carried out). A request that goes away
    (its task cancelled) drops only its own wait; the writer's futures are never cancelled, so the writer
    answers the rest of its batch as usual."""
    if not futures:
        return []
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[None] = loop.create_future()
    finished = itertools.count(1)  # next() is atomic: the writer may finish jobs while another thread adds them

    def wake() -> None:  # on the loop
        if not waiter.done():
            waiter.set_result(None)

    def relay(_: Future[dict[str, Any]]) -> None:  # in the writer's thread (or at once, if already done)
        if next(finished) == len(futures):
            with suppress(RuntimeError):  # the loop has closed (the server stopping): nobody waits any longer
                loop.call_soon_threadsafe(wake)

    for future in futures:
        future.add_done_callback(relay)
    with suppress(TimeoutError):
        await asyncio.wait_for(waiter, timeout_s)
    return [outcome_of(future) for future in futures]


def answer_or_raise(outcome: Outcome) -> dict[str, Any]:
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


def _place_command(principal: Principal, instrument_code: str, body: dict[str, Any],
                   idempotency_key: str | None) -> DeskCommand:
    params = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in body.items()}
    digest = idempotency.request_hash({"instrument": instrument_code, **params})
    return DeskCommand("place", principal, params, idempotency_key, digest)


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


class InstrumentDesk:
    """The single writer of one instrument's book."""

    def __init__(self, exchange: Exchange, instrument_id: int, epoch: int | None = None) -> None:
        self.exchange = exchange
        self.instrument_id = instrument_id
        # The owner epoch this process took the book at; None when one process owns every book. Every
        # transaction of this writer checks it first (_writing): a stale owner can never commit.
        self.epoch = epoch
        self.fenced = False
        self.closed = False  # stopped: whatever is queued from now on is answered "retry" at once
        self._closing = threading.Lock()
        self.queue: queue.Queue[Job | None] = queue.Queue()
        self.lock = threading.Lock()  # readers of the in-memory book take it too
        self.cache = WriterCache()  # what this writer keeps from one transaction to the next (registry.caches)
        self.barred: set[int] = set()  # participants that may not trade with something in the book: see _sweep
        self.engine = self._rebuild()
        self.last_ts_ms = self.engine.now_ms
        self.published: list[Event] = []  # events of the batch in progress, published after its commit
        self.stale = False  # the in-memory book may differ from the database: rebuild before the next batch
        self.last_tick = time.monotonic()
        self.connection: Connection | None = None  # the writer's own, see _session
        self.thread = threading.Thread(target=self._run, name=f"desk-{instrument_id}", daemon=True)
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
        self.cache.kept.clear()
        self.cache.kept.update({("order_id", order.id): order for order in resting})
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

    # --- the writer ---------------------------------------------------------------------------------------
    def submit(self, job: Job) -> dict[str, Any]:
        self.enqueue([job])
        return job.future.result(timeout=ANSWER_TIMEOUT_S)

    def enqueue(self, jobs: list[Job]) -> None:
        """Queue jobs for the writer, one after another (the writer applies them in this order); a desk that
        has stopped answers them at once: the book moved, retry (it will be routed)."""
        with self._closing:
            if not self.closed:
                for job in jobs:
                    self.queue.put(job)
                return
        for job in jobs:
            job.future.set_exception(_book_moved())

    def stop(self) -> None:
        self.queue.put(None)
        self.thread.join(timeout=5)

    def _answer_queued(self, answer: DomainError) -> None:
        """Answer every job still queued (the desk has stopped and will run none of them)."""
        while True:
            try:
                job = self.queue.get_nowait()
            except queue.Empty:
                return
            if job is not None:
                job.future.set_exception(answer)

    def _run(self) -> None:
        while True:
            try:
                first = self.queue.get(timeout=TICK_S)
            except queue.Empty:
                self._tick()
                continue
            if first is None:
                with self._closing:
                    self.closed = True
                self._answer_queued(_book_moved())
                self._let_go_of_connection()
                return
            batch = [first]
            while len(batch) < BATCH_LIMIT:
                try:
                    job = self.queue.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    self.queue.put(None)
                    break
                batch.append(job)
            with self.exchange.coordinator.holding_replies():  # the batch's routed answers in one round trip
                self.serve(batch)

    def serve(self, batch: list[Job]) -> None:
        """Carry out one batch and answer its callers; then let time pass if it is due (a steady stream of
        commands never leaves the writer idle long enough to tick)."""
        try:
            if self.fenced:  # commands queued before the desk was let go of
                raise _book_moved()
            if self.stale and not self._try_rebuild():
                raise _database_unavailable()
            if self.barred:  # before a read too: nobody sees what is no longer there to take
                try:
                    self._sweep()
                except _Fenced:
                    self._let_go()
                    raise _book_moved() from None
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
        what it has changed goes through the unit of work's cache (orders by key, locked balances, live
        serial blocks), so a batch of commands writes its rows in one flush of a few multi-row statements. It
        reads only the balances its commands take from freely; credits and the spending of holds are added
        at commit without reading their rows (TransactionCache.defer_balances)."""
        registry = self.exchange.registry
        with self.lock, UnitOfWork(self._session, registry.clock, None, self.cache.for_transaction()) as uow:
            uow.session.autoflush = False
            if self.epoch is not None and instruments.book_epoch(uow, self.instrument_id) != self.epoch:
                raise _Fenced(f"instrument {self.instrument_id}: epoch {self.epoch} is no longer current")
            yield uow

    def _tick(self) -> None:
        """Let time pass in an idle book: expire GTD/DAY orders, listings and proposals that are due."""
        self.last_tick = time.monotonic()
        if self.stale and not self._try_rebuild():
            return
        if self.barred:
            try:
                self._sweep()
            except _Fenced:
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
        except _Fenced:
            self._let_go()
            return
        except _Barred as barred:
            log.warning("instrument %s: time passing would trade for participants that may not trade (%s); "
                        "withdrawing them first", self.instrument_id, barred)
            self.barred.update(barred.participants)
            self._forget()
            if self._try_rebuild():
                try:
                    self._sweep()
                except _Fenced:
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
                raise _BatchFailed(str(exc)) from exc
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
        self.cache.forget()
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

    def _process(self, batch: list[Job]) -> None:
        """Carry out a batch: its commands in order in one transaction, committed before anyone is answered
        (group commit). A command that raises anything but a refusal fails alone: the transaction is rolled
        back, the book rebuilt, and the batch tried again without it. A failure no command can be blamed for
        (the commit's, say, when the database refuses one of the rows) splits the batch in halves, each tried
        on its own in order, until the command that fails is alone; the others commit as they would have."""
        runs = [batch]
        barred_retries = 0
        while runs:
            run = runs.pop(0)
            try:
                if self.barred:
                    self._sweep()
                self._commit_run(run)
                continue
            except _Barred as barred:  # a trade with a participant that may not trade: withdraw it, go again
                barred_retries += 1
                log.warning("instrument %s: a batch would trade for participants that may not trade (%s); %s",
                            self.instrument_id, barred, "withdrawing them and trying the batch again"
                            if barred_retries <= BARRED_RETRIES else "refusing the batch")
                if barred_retries <= BARRED_RETRIES:
                    self.barred.update(barred.participants)
                    runs.insert(0, run)
                else:
                    self._fail(run, barred)
            except _CommandFailed as failed:
                culprit, cause = failed.job, failed.__cause__ or failed
                log.error("command %s on instrument %s failed; it alone is refused, the rest of its batch is "
                          "tried again", culprit.command.kind, self.instrument_id, exc_info=cause)
                self._fail([culprit], cause)
                rest = [job for job in run if job is not culprit]
                if rest:
                    runs.insert(0, rest)
            except _Fenced:  # let go first, so that a caller retrying at once is routed to the owner
                self._let_go()
                self._fail([job for waiting in [run, *runs] for job in waiting], _book_moved())
                return
            except _BookFailed as failed:  # letting the calendar's time pass failed: no command is to blame
                log.error("batch of %d commands on instrument %s failed before its commands; rebuilding the "
                          "book", len(run), self.instrument_id, exc_info=failed.__cause__ or failed)
                self._fail(run, failed)
            except Exception as exc:
                log.error("batch of %d commands on instrument %s failed; %s", len(run), self.instrument_id,
                          "it is refused" if len(run) == 1 else "trying its halves on their own", exc_info=exc)
                if len(run) == 1:
                    self._fail(run, exc)
                else:
                    middle = len(run) // 2
                    runs[:0] = [run[:middle], run[middle:]]
            self._forget()
            if not self._try_rebuild():
                self._fail([job for waiting in runs for job in waiting], None)
                return

    def _fail(self, jobs: list[Job], cause: BaseException | None) -> None:
        """Answer jobs whose transaction failed: nothing of them was written."""
        failure: DomainError
        if cause is None:  # the book could not be rebuilt: nothing of these commands ran
            failure = _database_unavailable()
        elif _database_lost(cause):  # perhaps during the commit: whether it landed is not known here
            failure = _database_lost_outcome_unknown()
        elif isinstance(cause, Unavailable):
            failure = cause
        else:
            failure = StateConflict("The exchange could not complete this command; nothing was done. Retry.",
                                    "交易系统未能完成该指令，未作任何变更，请重试。")
            failure.__cause__ = cause
        for job in jobs:
            metrics.EXCHANGE_COMMANDS.labels(job.command.kind, "failed").inc()
            if not job.future.done():
                job.future.set_exception(failure)

    def _commit_run(self, run: list[Job]) -> None:
        """One transaction for these commands; answer them once it has committed. Raises _CommandFailed
        naming the command that raised, _BookFailed, or whatever the commit raised."""
        outcomes: list[tuple[Job, dict[str, Any] | None, DomainError | None]] = []
        committed, commit_seconds, snapshot = False, 0.0, None
        try:
            with self._writing() as uow:
                self._preload(uow, run)
                try:
                    self._follow_calendar(uow)
                except Exception as exc:
                    raise _BookFailed(str(exc)) from exc
                for job in run:
                    uow.actor = job.command.principal
                    try:
                        replay = self._replay(uow, job)
                        result = replay if replay is not None else self.handle(uow, job.command)
                    except _BatchFailed as exc:  # after the engine changed
                        raise _CommandFailed(job) from exc.__cause__
                    except DomainError as refusal:  # refused before anything of it was written
                        outcomes.append((job, None, refusal))
                        continue
                    except Exception as exc:  # anything else: the command may have left something behind
                        raise _CommandFailed(job) from exc
                    if replay is None:
                        try:
                            self._remember(uow, job, result)
                        except Exception as exc:
                            raise _CommandFailed(job) from exc
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
        book is rebuilt (which finds them again) and the next batch tries anew. Raises _Fenced when another
        process owns the book now."""
        participants, self.barred = sorted(self.barred), set()
        for participant_id in participants:
            try:
                self._withdraw_now(participant_id)
            except _Fenced:
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
            uow.cache.memo["instrument"] = instrument
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
        trading.barred); if one may no longer trade, the transaction is refused (_Barred). A status change
        either committed before (and is seen here) or waits for this commit (and the withdrawal the route asks
        for after it then finds what this transaction added). So this closes the moment between a status
        change's commit and that withdrawal, and covers a withdrawal that never came (its process died):
        nothing of a suspended or disqualified participant trades or enters the book, whatever is still in
        it. One query per transaction that traded or added. (SQLite has one writer at a time: no lock there.)"""
        found = trading.barred(uow, _dealing(self.published))
        if found:
            raise _Barred(found)

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
        uow.cache.memo["instrument"] = instrument
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
        if uow.sql.execute_many(_SAVE_ENGINE_SESSION, [{"instrument": self.instrument_id, **state}]) == 0:
            uow.session.add(EngineSession(instrument_id=self.instrument_id, **state))

    def ts_ms(self, uow: UnitOfWork) -> int:
        """Time for the engine: the clock's, never going backwards."""
        self.last_ts_ms = max(self.last_ts_ms, int(uow.now().timestamp() * 1000))
        return self.last_ts_ms

    # --- the commands -------------------------------------------------------------------------------------
    def handle(self, uow: UnitOfWork, command: DeskCommand) -> dict[str, Any]:
        if command.kind in READS:
            return READS[command.kind](self, command)
        instrument = uow.cache.memo.get("instrument") or uow.session.get(Instrument, self.instrument_id)
        assert instrument is not None
        uow.cache.memo["instrument"] = instrument  # read once per batch (the session forgets rows nothing holds)
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
            raise _BatchFailed(str(exc)) from exc
        self.published.extend(events)
        return events


# Commands that only read the book, by kind: answered without a transaction when a batch holds nothing else.
READS: dict[str, Callable[[InstrumentDesk, DeskCommand], dict[str, Any]]] = {
    "depth": InstrumentDesk._depth, "browse": InstrumentDesk._browse}


class Exchange:
    """The desks this process owns, and the way to the owner of every other book."""

    def __init__(self, registry: Registry, fee_bp: int, coordinator: Coordinator | None = None,
                 broker: Broker | None = None, resale_lock: bool = True, hours: MarketHours | None = None,
                 books: frozenset[str] | None = None, max_horizon_days: int = 365) -> None:
        self.registry = registry
        self.max_horizon_days = max_horizon_days  # how far ahead an expiry or an auction's end may lie
        self.books = books  # the codes of the books this process may own (None: any)
        self.hours = hours or MarketHours((), always_open=True)
        self.fee_bp = fee_bp
        self.resale_lock = resale_lock
        self.broker: Broker = broker or LocalBroker()
        self.coordinator: Coordinator = coordinator or LocalCoordinator()
        self._desks: dict[int, InstrumentDesk] = {}
        self._ids_by_code: dict[str, int] = {}
        self._codes_by_id: dict[int, str] = {}
        self._instrument_by_order: dict[int, int] = {}
        self._lock = threading.Lock()
        self.coordinator.start(self._serve_routed, self._instrument_ids, self._acquired, self._may_own, self._lost)

    def market_hours(self, uow: UnitOfWork) -> MarketHours:
        """The sessions with the calendar as it stands (closures the operator recorded included)."""
        calendar = market_calendar.current(uow)
        if self.hours.calendar is not calendar:
            self.hours = replace(self.hours, calendar=calendar)
        return self.hours

    def _instrument_ids(self) -> list[int]:
        with self.registry.uow() as uow:
            return [i.id for i in instruments.all_instruments(uow) if self.books is None or i.code in self.books]

    def _may_own(self, instrument_id: int) -> bool:
        """Whether this process may take the book (asked by the coordinator, in its threads)."""
        if self.books is None:
            return True
        code = self._codes_by_id.get(instrument_id)
        if code is None:
            with self.registry.uow() as uow:
                found = uow.session.get(Instrument, instrument_id)
                if found is None:
                    return False
                code = self._codes_by_id[instrument_id] = found.code  # a code never changes
        return code in self.books

    def desk(self, instrument_id: int) -> InstrumentDesk:
        """This process's writer of the book, built on first use at the epoch this process owns it at. A book
        this process no longer owns (lost in the moment since the caller asked) gets no desk: "retry"."""
        with self._lock:
            desk = self._desks.get(instrument_id)
            if desk is None:
                epoch = self.coordinator.epoch(instrument_id)
                if epoch is None and self.coordinator.fenced:
                    raise _book_moved()
                desk = self._desks[instrument_id] = InstrumentDesk(self, instrument_id, epoch)
            return desk

    def let_go(self, desk: InstrumentDesk) -> None:
        """A writer found its book taken by another process (called in that writer's thread): stop owning it
        and route its commands from now on."""
        with self._lock:
            if self._desks.get(desk.instrument_id) is desk:
                del self._desks[desk.instrument_id]
        desk.queue.put(None)  # the writer ends after answering what is queued (fenced: "retry")
        if self.coordinator.epoch(desk.instrument_id) == desk.epoch:  # not if it has taken the book again since
            self.coordinator.let_go(desk.instrument_id)

    def _lost(self, instrument_id: int) -> None:
        """The coordinator found this process no longer owns the book (its lock session is gone)."""
        with self._lock:
            desk = self._desks.pop(instrument_id, None)
        if desk is not None:
            desk.fenced = True
            desk.stop()

    def _acquired(self, instrument_id: int) -> None:
        """This process just took ownership: whatever it knew of the book may be stale, so build it anew."""
        with self._lock:
            stale = self._desks.pop(instrument_id, None)
        if stale is not None:
            stale.stop()
        self.desk(instrument_id)

    def stop(self) -> None:
        self.coordinator.stop()
        with self._lock:
            for desk in self._desks.values():
                desk.stop()
            self._desks.clear()

    # --- sending a command to its book ----------------------------------------------------------------------
    async def submit(self, instrument_id: int, command: DeskCommand) -> dict[str, Any]:
        """`submit_all` for one command: its answer, or its refusal raised."""
        (outcome,) = await self.submit_all(instrument_id, [command])
        return answer_or_raise(outcome)

    async def submit_all(self, instrument_id: int, commands: list[DeskCommand]) -> list[Outcome]:
        """Apply commands, in this order, on this process's desk if it owns the book, else on the owner's (one
        routed message for all of them, and one answer). Nothing blocks the event loop or parks a thread while
        the writer works; only what needs the database first (a desk not yet built, an ownership not yet
        tried) goes to the thread pool."""
        owned = self.coordinator.owns_at_once(instrument_id)
        if owned is None:
            owned = await run_in_threadpool(self.coordinator.owns, instrument_id)
        if owned:
            desk = self._desks.get(instrument_id)
            if desk is None:  # building a book reads the database
                desk = await run_in_threadpool(self.desk, instrument_id)
            jobs = [Job(command) for command in commands]
            desk.enqueue(jobs)
            return await awaited([job.future for job in jobs], ANSWER_TIMEOUT_S)
        answer = await self.coordinator.send(instrument_id, {"commands": [c.to_dict() for c in commands]},
                                             ANSWER_TIMEOUT_S)
        if answer is None:  # a timeout, or Redis lost the way back: the command may have been carried out
            raise _timed_out()
        return [RoutedRefusal(a["error"]) if "error" in a else Replayed(a["result"]) if a.get("replayed")
                else a["result"] for a in answer["answers"]]

    def _serve_routed(self, instrument_id: int, data: dict[str, Any],
                      reply: Callable[[dict[str, Any]], None]) -> None:
        """Queue another process's commands for this process's desk; answer all of them at once when the
        last is done."""
        jobs = [Job(DeskCommand.from_dict(command)) for command in data["commands"]]
        finished = itertools.count(1)

        def done(_: Future[dict[str, Any]]) -> None:
            if next(finished) == len(jobs):
                reply({"answers": [_routed_answer(outcome_of(job.future)) for job in jobs]})

        for job in jobs:
            job.future.add_done_callback(done)
        try:
            desk = self.desk(instrument_id)
        except Unavailable as moved:
            for job in jobs:
                job.future.set_exception(moved)
            return
        desk.enqueue(jobs)

    def instrument_id(self, code: str) -> int:
        """The id of the instrument with this code (404 when there is none); an instrument keeps its code and
        id for good, so each is read once per process."""
        found = self._ids_by_code.get(code)
        if found is None:
            with self.registry.uow() as uow:
                found = self._ids_by_code[code] = instruments.get(uow, code).id
        return found

    async def instrument_id_async(self, code: str) -> int:
        """`instrument_id` for the event loop: a known code at once, the database read in the thread pool."""
        found = self._ids_by_code.get(code)
        return found if found is not None else await run_in_threadpool(self.instrument_id, code)

    async def place(self, principal: Principal, instrument_code: str, body: dict[str, Any],
                    idempotency_key: str | None) -> dict[str, Any]:
        instrument_id = await self.instrument_id_async(instrument_code)
        placed = await self.submit(instrument_id, _place_command(principal, instrument_code, body, idempotency_key))
        self._remember_instrument(placed["id"], instrument_id)
        return placed

    async def cancel(self, principal: Principal, order_id: int) -> dict[str, Any]:
        return await self.submit(await self._instrument_of(principal, order_id),
                                 DeskCommand("cancel", principal, {"order_id": order_id}))

    async def order_batch(self, principal: Principal, cancels: list[int],
                          places: list[tuple[str, dict[str, Any]]]) -> tuple[list[Outcome], list[Outcome]]:
        """Cancel and place orders in one go: each command is carried out or refused on its own, exactly as if
        sent alone, and the outcomes come back in the order asked. A book's commands go to it together (one
        routed message per book), cancels before places; different books work on theirs at the same time."""
        outcomes: list[Outcome | None] = [None] * (len(cancels) + len(places))
        by_book: dict[int, list[tuple[int, DeskCommand]]] = {}
        for slot, order_id in enumerate(cancels):
            try:
                instrument_id = await self._instrument_of(principal, order_id)
            except DomainError as refusal:
                outcomes[slot] = refusal
                continue
            by_book.setdefault(instrument_id, []).append(
                (slot, DeskCommand("cancel", principal, {"order_id": order_id})))
        for slot, (code, body) in enumerate(places, start=len(cancels)):
            try:
                instrument_id = await self.instrument_id_async(code)
            except DomainError as refusal:
                outcomes[slot] = refusal
                continue
            by_book.setdefault(instrument_id, []).append((slot, _place_command(principal, code, body, None)))

        async def run(instrument_id: int, commands: list[tuple[int, DeskCommand]]) -> None:
            try:
                answers = await self.submit_all(instrument_id, [command for _, command in commands])
            except DomainError as refusal:  # the book's owner did not answer: none of these is known done
                answers = [refusal] * len(commands)
            for (slot, command), answer in zip(commands, answers, strict=True):
                outcomes[slot] = answer
                if command.kind == "place" and not isinstance(answer, DomainError):
                    self._remember_instrument(answer["id"], instrument_id)

        await asyncio.gather(*(run(i, commands) for i, commands in by_book.items()))
        done = cast(list[Outcome], outcomes)  # every slot is filled now: by a refusal above or by run()
        return done[:len(cancels)], done[len(cancels):]

    async def amend(self, principal: Principal, order_id: int, quantity_t: int | None,
                    price_fen: int | None) -> dict[str, Any]:
        return await self.submit(await self._instrument_of(principal, order_id), DeskCommand(
            "amend", principal, {"order_id": order_id, "quantity_t": quantity_t, "price_fen": price_fen}))

    async def post_listing(self, principal: Principal, instrument_code: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self._by_code(principal, instrument_code, "post_listing", body)

    async def open_auction(self, principal: Principal, instrument_code: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self._by_code(principal, instrument_code, "open_auction", body)

    async def bid(self, principal: Principal, auction_id: int, body: dict[str, Any]) -> dict[str, Any]:
        return await self._on_order(principal, auction_id, "bid", {**body, "auction_id": auction_id}, any_owner=True)

    async def cancel_auction(self, principal: Principal, auction_id: int) -> dict[str, Any]:
        return await self._on_order(principal, auction_id, "cancel_auction", {"order_id": auction_id})

    async def propose(self, principal: Principal, instrument_code: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self._by_code(principal, instrument_code, "propose", body)

    async def browse(self, principal: Principal | None, instrument_code: str,
                     query: dict[str, Any]) -> dict[str, Any]:
        anyone = principal or Principal(0, 0, "public", frozenset())
        return await self._by_code(anyone, instrument_code, "browse", query)

    async def pick(self, principal: Principal, listing_id: int, body: dict[str, Any]) -> dict[str, Any]:
        return await self._on_order(principal, listing_id, "pick", {**body, "listing_id": listing_id},
                                    any_owner=True)

    async def cancel_listing(self, principal: Principal, listing_id: int) -> dict[str, Any]:
        return await self._on_order(principal, listing_id, "cancel_listing", {"order_id": listing_id})

    async def answer_proposal(self, principal: Principal, proposal_id: int, kind: str) -> dict[str, Any]:
        """accept, reject or withdraw a proposal (accepting records the counterparty's side once)."""
        params = {"proposal_id": proposal_id, "client_order_id": f"{kind}:{proposal_id}"}
        return await self._on_order(principal, proposal_id, kind, params, any_owner=True)

    async def _by_code(self, principal: Principal, code: str, kind: str, params: dict[str, Any]) -> dict[str, Any]:
        instrument_id = await self.instrument_id_async(code)
        params = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in params.items()}
        digest = idempotency.request_hash({"instrument": code, "kind": kind, **params})
        return await self.submit(instrument_id, DeskCommand(kind, principal, params, None, digest))

    async def _on_order(self, principal: Principal, order_id: int, kind: str, params: dict[str, Any],
                        any_owner: bool = False) -> dict[str, Any]:
        """A command about an existing listing or proposal, sent to its instrument's book. Others' listings
        and proposals addressed to you are found too (the desk checks who may act)."""
        def instrument_of_order() -> int:
            with self.registry.uow(principal) as uow:
                row = uow.session.get(Order, order_id)
                if row is None or (not any_owner and row.participant_id != principal.participant_id):
                    raise NotFound(f"{order_id} not found.", f"未找到 {order_id}。")
                return row.instrument_id

        instrument_id = await run_in_threadpool(instrument_of_order)
        digest = idempotency.request_hash({"kind": kind, **params})
        return await self.submit(instrument_id, DeskCommand(kind, principal, params, None, digest))

    async def _instrument_of(self, principal: Principal, order_id: int) -> int:
        """Which book an order is in, to route a cancel or amend there (the desk checks whose it is). An order
        never changes instrument, so the answer is kept; orders placed through this process are known."""
        found = self._instrument_by_order.get(order_id)
        if found is None:
            def read() -> int:
                with self.registry.uow(principal) as uow:
                    return trading.get_order(uow, principal.participant_id, order_id).instrument_id

            found = await run_in_threadpool(read)
            self._remember_instrument(order_id, found)
        return found

    def _remember_instrument(self, order_id: int, instrument_id: int) -> None:
        if len(self._instrument_by_order) >= ORDERS_ROUTED_KEPT:
            self._instrument_by_order.clear()
        self._instrument_by_order[order_id] = instrument_id

    # --- a participant that may no longer trade (Art. 19, 26) ---------------------------------------------
    async def withdraw_participant(self, principal: Principal, participant_id: int) -> list[Outcome]:
        """Have every book in which the participant has something open (or is named by an open proposal)
        withdraw it (the desk's withdraw_participant, routed to each book's owner like any command), all at
        once; each book's answer or refusal. Called after the status change has committed."""
        def books() -> list[int]:
            with self.registry.uow(principal) as uow:
                return trading.instruments_with_open_interest(uow, participant_id)

        async def withdraw(instrument_id: int) -> Outcome:
            try:
                (outcome,) = await self.submit_all(instrument_id, [
                    DeskCommand(WITHDRAW, principal, {"participant_id": participant_id})])
            except DomainError as refusal:
                return refusal
            return outcome

        return list(await asyncio.gather(*(withdraw(i) for i in await run_in_threadpool(books))))

    # --- market data from the live book -------------------------------------------------------------------
    async def depth(self, principal: Principal | None, instrument_id: int, levels: int) -> dict[str, Any]:
        anyone = principal or Principal(0, 0, "public", frozenset())
        return await self.submit(instrument_id, DeskCommand("depth", anyone, {"levels": levels}))


def withdraw_from_market(exchange: Exchange, principal: Principal, participant_id: int) -> list[Outcome]:
    """For a synchronous route, after it has committed a status change that leaves the participant unable to
    trade: withdraw everything it has on the exchange (Exchange.withdraw_participant), waiting for the books'
    answers. A book that cannot do it now (moved, out of reach) is logged; its writer still refuses any trade
    of the participant and withdraws it when it next finds it (InstrumentDesk._refuse_barred_trades, _sweep):
    the status change has committed, so the route answers it whatever happens here."""
    try:
        outcomes = anyio.from_thread.run(exchange.withdraw_participant, principal, participant_id)
    except Exception:
        log.exception("withdrawing participant %s from the exchange failed for now; the books' writers will "
                      "when they next find it there", participant_id)
        return []
    for outcome in outcomes:
        if isinstance(outcome, DomainError):
            log.warning("withdrawing participant %s from a book failed for now (%s); its writer will when it "
                        "next finds the participant there", participant_id, outcome.message_en)
    return outcomes


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


def _routed_answer(outcome: Outcome) -> dict[str, Any]:
    if not isinstance(outcome, DomainError):  # a replayed answer says so across processes too
        return {"result": outcome, "replayed": True} if isinstance(outcome, Replayed) else {"result": outcome}
    return {"error": {"status": outcome.status, "code": outcome.code, "en": outcome.message_en,
                      "zh": outcome.message_zh, "violations": [v.as_dict() for v in outcome.violations]}}


class RoutedRefusal(DomainError):
    """A refusal the owning process answered, re-raised here with its status, code and violations."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error["en"], error["zh"],
                         [Violation(v["code"], v["article"], v["field"], v["message_zh"], v["message_en"])
                          for v in error["violations"]])
        self.status = int(error["status"])
        self.code = str(error["code"])


def _database_lost(error: BaseException) -> bool:
    """Whether the writer's database went away (its connection broke, the server is down), as opposed to a
    refusal or a passing conflict: the command may go again once it is back."""
    return isinstance(error, DBAPIError) and (error.connection_invalidated or (
        isinstance(error, OperationalError) and not retryable(error)))


def _database_lost_outcome_unknown() -> OutcomeUnknown:
    return OutcomeUnknown("The exchange lost its database while carrying out this command; it may or may not have "
                          "been carried out. Retry with the same client_order_id or Idempotency-Key: the retry "
                          "tells you, and never does it twice.",
                          "交易系统在执行该指令时与数据库断开，该指令可能已执行也可能未执行。请以相同的 "
                          "client_order_id 或 Idempotency-Key 重试以获知结果，重试绝不会重复执行。")


def _database_unavailable() -> Unavailable:
    return Unavailable("The exchange cannot reach its database; nothing was done. Retry shortly.",
                       "交易系统暂时无法访问数据库，未作任何变更，请稍后重试。")
