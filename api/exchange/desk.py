"""One instrument's book and its single writer: queue → batch → for each command: plan (registry.services.trading)
→ engine.submit → settle (registry.services.settlement) → one commit → answers → market data.

A writer (api/exchange/writer.py) takes the commands queued for its instrument in a batch; the desk applies them
in order inside ONE database transaction, commits, and only then answers the callers (group commit). Each
command is first planned, its pre-trade holds worked out without writing anything; the engine then accepts or
refuses it, and only an accepted command is written with its holds, so a refused command leaves nothing behind
and spoils nothing else (api/exchange/handlers.py, one method per kind). The writer's session never flushes
before the commit (see InstrumentDesk._writing). Should anything fail after the engine has changed, or the
commit itself fail, the transaction is rolled back and the book is rebuilt from the database, which holds
exactly the state before it; and a command fails only itself (Writer._process). A commit that was sent but
not answered may have landed: its commands are answered "outcome unknown", never refused. On start the books are rebuilt
the same way (settlement.rebuild_book); a row that cannot be loaded into the book is quarantined (cancelled,
its holds released) rather than stopping it.

A participant that may no longer trade (suspended or disqualified, Art. 19, 26) leaves every book: the route
that changed its status asks each book where it has something open, once that change has committed, to
withdraw it (withdraw_participant, through the engine's WithdrawAccount: orders, listings, proposals, auctions
and bids cancelled, holds released, audited). Behind that, every writer transaction reads the participants it
traded or added for again FOR SHARE before it commits and refuses itself if one may not trade, withdrawing
it first (InstrumentDesk._refuse_barred_trades, _sweep); a rebuilt book withdraws such participants before
anything else. So nothing of theirs trades, whether the withdrawal is still on its way or never came.

A batch the bureau takes back (Art. 26) is frozen first, so no plan holds its credits again; then each book
where something holds them withdraws it (withdraw_batch: WithdrawBatch, closed through the engine's cancel of
each kind), before the credits are taken back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from api import metrics
from api.exchange.commands import (
    READS,
    SYSTEM,
    Accept,
    Amend,
    Bid,
    Cancel,
    CancelAuction,
    CancelListing,
    OpenAuction,
    Pick,
    Place,
    PostListing,
    Propose,
    Reject,
    Withdraw,
    WithdrawBatch,
    WithdrawParticipant,
)
from api.exchange.handlers import CommandSteps
from api.exchange.market_hours import phase_for, transitions
from api.exchange.writer import (
    TICK_S,
    Barred,
    BatchFailed,
    BookFailed,
    CommandFailed,
    CommitUncertain,
    Fenced,
    Job,
    Writer,
    book_moved,
    database_unavailable,
)
from matching_engine import (
    AdvanceTime,
    AuctionOpened,
    BidAccepted,
    Engine,
    ListingPosted,
    OrderAccepted,
    OrderAmended,
    Phase,
    Trade,
)
from matching_engine.events import Event, NegotiatedTransferProposed
from registry.caches import WriterCache
from registry.errors import DomainError, StateConflict
from registry.services import idempotency, instruments, settlement, trading
from registry.services.trading import Terms
from registry.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from api.exchange.routing import Exchange

log = logging.getLogger("carbonx.exchange")


class InstrumentDesk(Writer, CommandSteps):
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
        self.cache = WriterCache()  # what this writer keeps from one transaction to the next (registry.caches)
        self.barred: set[int] = set()  # participants that may not trade with something in the book: see _sweep
        self.engine = self._rebuild()
        self.last_ts_ms = self.engine.now_ms
        self.published: list[Event] = []  # events of the batch in progress, published after its commit
        self.stale = False  # the in-memory book may differ from the database: rebuild before the next batch
        self.last_tick = time.monotonic()
        self.connection: Connection | None = None  # the writer's own, see _session
        self.thread.start()

    @property
    def terms(self) -> Terms:
        return self.exchange.terms

    # --- building the book from the database ------------------------------------------------------------
    def _rebuild(self) -> Engine:
        """The book as the database has it (settlement.rebuild_book); rows it cannot take are quarantined."""
        hours = self.exchange.market_hours
        book = settlement.rebuild_book(
            self.exchange.registry, self.instrument_id,
            opening=lambda uow, now_ms: transitions(hours(uow), uow.now(), Phase.CLOSED, "", now_ms),
            phase=lambda uow: phase_for(hours(uow), uow.now()))
        self.code = book.code
        # Participants that may no longer trade but still have something here: withdrawn first (_sweep).
        self.barred = book.barred
        if book.damaged:
            self._quarantine(book.damaged)
        self.cache.kept.clear()
        self.cache.kept.update({("order_id", order.id): order for order in book.resting})
        return book.engine

    def _quarantine(self, damaged: list[settlement.Damaged]) -> None:
        """Take rows the book cannot hold out of it for good, each in a transaction of its own
        (settlement.cancel_quarantined): cancelled with the reason QUARANTINED, what it holds back to
        available as a cancel would, an audit entry saying what was wrong, and the operator alerted (the log
        and carbonx_exchange_quarantined_total). An auction's bids go with it. Should the holds not be
        releasable, the row is still cancelled (the holds stay for the operator to repair)."""
        registry, fee_bp = self.exchange.registry, self.terms.fee_bp
        for order_id, kind, problem in settlement.with_bids_of_damaged_auctions(registry, self.instrument_id, damaged):
            released = True
            try:
                settlement.cancel_quarantined(registry, self.code, order_id, kind, problem, fee_bp, release=True)
            except Exception:
                log.exception("releasing the holds of quarantined %s %s failed; cancelling it without", kind, order_id)
                released = False
                settlement.cancel_quarantined(registry, self.code, order_id, kind, problem, fee_bp, release=False)
            metrics.BOOK_QUARANTINED.labels(kind).inc()
            log.error("QUARANTINED %s %s of instrument %s: the book cannot hold it (%s). It is cancelled%s; an "
                      "operator should look into how the row came to be.", kind, order_id, self.code, problem,
                      " and its holds are released" if released else ", but its holds could NOT be released "
                      "and need repair")

    # --- the writer ---------------------------------------------------------------------------------------
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
            if all(isinstance(job.command, READS) for job in batch):
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
            answers = [self.read(job.command) for job in batch]
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
                    self.settle(uow, events)
                    self.published.extend(events)
                self._follow_calendar(uow)
                if not self.published:
                    return
                self._refuse_barred_trades(uow)
                self._save_engine_state(uow)
                uow.commit()
                trading.keep_open_orders(uow)
                snapshot = self.snapshot()
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
        for command in commands:
            events = self.engine.submit(command)
            try:
                self.settle(uow, events)
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

    def _commit_run(self, run: list[Job]) -> None:
        """One transaction for these commands; answer them once it has committed. Raises CommandFailed
        naming the command that raised, BookFailed, CommitUncertain when the COMMIT was sent but not answered
        (it may have taken effect), or whatever else the commit raised (nothing was written)."""
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
                self._save_engine_state(uow)
                self._refuse_barred_trades(uow)
                uow.actor = None
                committing = time.perf_counter()
                try:
                    uow.commit()
                except DomainError:  # the database answered: rolled back, nothing written
                    raise
                except Exception as exc:
                    if uow.committing:  # sent, unanswered: it may have taken effect
                        raise CommitUncertain(str(exc)) from exc
                    raise
                committed = True
                commit_seconds = time.perf_counter() - committing
                trading.keep_open_orders(uow)
                snapshot = self.snapshot() if self.published else None
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
        command = WithdrawParticipant(principal=SYSTEM, participant_id=participant_id)
        with self._writing() as uow:
            trading.book_instrument(uow, self.instrument_id)
            done = self._withdraw_participant(uow, command)
            if not done["withdrawn"]:
                return
            self._save_engine_state(uow)
            uow.commit()
            trading.keep_open_orders(uow)
            snapshot = self.snapshot()
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

    def _preload(self, uow: UnitOfWork, batch: list[Job]) -> None:
        """Read what the batch's commands will need (its traders, their holdings, the orders they name) in a
        few queries for all of them."""
        commands = [job.command for job in batch]
        traders = {c.principal.participant_id for c in commands
                   if c.principal.participant_id and not isinstance(c, WithdrawParticipant | WithdrawBatch)}
        client_ids = {(c.principal.participant_id, c.client_order_id) for c in commands
                      if isinstance(c, Place | PostListing | Pick | Propose | Accept | Reject | Withdraw | OpenAuction
                                    | Bid)}
        order_ids = {c.order_id for c in commands if isinstance(c, Cancel | Amend | CancelListing | CancelAuction)}
        order_ids |= {c.listing_id for c in commands if isinstance(c, Pick)}
        order_ids |= {c.auction_id for c in commands if isinstance(c, Bid)}
        order_ids |= {c.proposal_id for c in commands if isinstance(c, Accept | Reject | Withdraw)}
        sellers = {c.principal.participant_id for c in commands
                   if isinstance(c, Place | PostListing | Propose | OpenAuction) and c.side == "sell"}
        instrument = trading.book_instrument(uow, self.instrument_id)
        trading.preload(uow, instrument, traders, sellers, client_ids, order_ids, self.terms.resale_lock)

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

    def _save_engine_state(self, uow: UnitOfWork) -> None:
        """Write the engine's sequence and market state, without reading the row first (one statement per
        batch: the writer is the only one to change it); the very first batch of a book makes it."""
        settlement.save_engine_state(uow, self.instrument_id, self.engine.next_seq, self.engine.trading_day,
                                     self.engine.reference_price_fen)

    def ts_ms(self, uow: UnitOfWork) -> int:
        """Time for the engine: the clock's, never going backwards."""
        self.last_ts_ms = max(self.last_ts_ms, int(uow.now().timestamp() * 1000))
        return self.last_ts_ms



def _dealing(events: list[Event]) -> set[int]:
    """The participants (account ids) who traded in these events or added to the book: placed, amended,
    listed, proposed (and whom they named), opened an auction or bid. A replayed answer has no events."""
    found: set[str] = set()
    for event in events:
        if isinstance(event, Trade):
            found.update((event.buy_account_id, event.sell_account_id))
        elif isinstance(event, NegotiatedTransferProposed):
            found.update((event.account_id, event.counterparty_id))
        elif isinstance(event, OrderAccepted | OrderAmended | ListingPosted | AuctionOpened | BidAccepted):
            found.add(event.account_id)
    return {int(account) for account in found}


