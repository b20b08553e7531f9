"""Who carries out a book's commands: `Exchange` keeps the desks this process owns (fenced by the epoch it
took each book at, see api/exchange/ownership.py) and sends every other book's commands to its owner over a
Redis stream (in their wire form, Command.to_dict), answering the caller from the owner's reply. The routes
hand it typed commands (api/exchange/commands.py); it finds the book, gives each command its request hash and
never touches the ledger itself.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from dataclasses import replace
from typing import Any, cast

import anyio.from_thread
from starlette.concurrency import run_in_threadpool

from api.exchange.commands import (
    ANYONE,
    Accept,
    Amend,
    Bid,
    Browse,
    Cancel,
    CancelAuction,
    CancelListing,
    Command,
    Depth,
    OpenAuction,
    Pick,
    Place,
    PostListing,
    Propose,
    Reject,
    Withdraw,
    WithdrawBatch,
    WithdrawParticipant,
    from_dict,
)
from api.exchange.desk import InstrumentDesk
from api.exchange.market_data import Broker, LocalBroker
from api.exchange.market_hours import MarketHours
from api.exchange.ownership import Coordinator, LocalCoordinator
from api.exchange.writer import (
    ANSWER_TIMEOUT_S,
    Job,
    Outcome,
    answer_or_raise,
    awaited,
    book_moved,
    outcome_of,
    timed_out,
)
from registry.context import Registry
from registry.errors import (
    DomainError,
    Unavailable,
)
from registry.principals import Principal
from registry.services import instruments, market_calendar, revocations, trading
from registry.services.idempotency import Replayed
from registry.unit_of_work import UnitOfWork
from rules.violations import Violation

log = logging.getLogger("carbonx.exchange")

ORDERS_ROUTED_KEPT = 100_000  # order → instrument answers kept for routing cancels and amends


class Exchange:
    """The desks this process owns, and the way to the owner of every other book."""

    def __init__(self, registry: Registry, fee_bp: int, coordinator: Coordinator | None = None,
                 broker: Broker | None = None, resale_lock: bool = True, hours: MarketHours | None = None,
                 books: frozenset[str] | None = None, max_horizon_days: int = 365) -> None:
        self.registry = registry
        self.books = books  # the codes of the books this process may own (None: any)
        self.hours = hours or MarketHours((), always_open=True)
        self.terms = trading.Terms(fee_bp, resale_lock, max_horizon_days)  # what every desk plans and settles by
        self.broker: Broker = broker or LocalBroker()
        self.coordinator: Coordinator = coordinator or LocalCoordinator()
        self._desks: dict[int, InstrumentDesk] = {}
        self._ids_by_code: dict[str, int] = {}
        self._codes_by_id: dict[int, str] = {}
        self._instrument_by_order: dict[int, int] = {}
        self._lock = threading.Lock()
        self.coordinator.start(self._serve_routed, self._instrument_ids, self._acquired, self._may_own, self._lost)

    def market_hours(self, uow: UnitOfWork) -> MarketHours:
        """The trading periods with the calendar as it stands (closures the operator recorded included)."""
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
                found = instruments.code_of(uow, instrument_id)
                if found is None:
                    return False
                code = self._codes_by_id[instrument_id] = found  # a code never changes
        return code in self.books

    def desk(self, instrument_id: int) -> InstrumentDesk:
        """This process's writer of the book, built on first use at the epoch this process owns it at. A book
        this process no longer owns (lost in the moment since the caller asked) gets no desk: "retry"."""
        with self._lock:
            desk = self._desks.get(instrument_id)
            if desk is None:
                epoch = self.coordinator.epoch(instrument_id)
                if epoch is None and self.coordinator.fenced:
                    raise book_moved()
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
    async def submit(self, instrument_id: int, command: Command) -> dict[str, Any]:
        """`submit_all` for one command: its answer, or its refusal raised."""
        (outcome,) = await self.submit_all(instrument_id, [command])
        return answer_or_raise(outcome)

    async def submit_all(self, instrument_id: int, commands: list[Command]) -> list[Outcome]:
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
            raise timed_out()
        return [RoutedRefusal(a["error"]) if "error" in a else Replayed(a["result"]) if a.get("replayed")
                else a["result"] for a in answer["answers"]]

    def _serve_routed(self, instrument_id: int, data: dict[str, Any],
                      reply: Callable[[dict[str, Any]], None]) -> None:
        """Queue another process's commands for this process's desk; answer all of them at once when the
        last is done."""
        parsed: list[Command | DomainError] = []
        for wire in data["commands"]:
            try:
                parsed.append(from_dict(wire))
            except DomainError as unfit:  # refused at the door: it alone is answered so
                parsed.append(unfit)
        futures: list[Future[dict[str, Any]]] = [Future() for _ in parsed]
        jobs = [Job(command, future) for command, future in zip(parsed, futures, strict=True)
                if not isinstance(command, DomainError)]
        finished = itertools.count(1)

        def done(_: Future[dict[str, Any]]) -> None:
            if next(finished) == len(futures):
                reply({"answers": [_routed_answer(outcome_of(future)) for future in futures]})

        for future in futures:
            future.add_done_callback(done)
        for command, future in zip(parsed, futures, strict=True):
            if isinstance(command, DomainError):
                future.set_exception(command)
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

    async def place(self, instrument_code: str, command: Place) -> dict[str, Any]:
        instrument_id = await self.instrument_id_async(instrument_code)
        placed = await self.submit(instrument_id, command.digested(("instrument", instrument_code)))
        self._remember_instrument(placed["id"], instrument_id)
        return placed

    async def cancel(self, command: Cancel) -> dict[str, Any]:
        return await self.submit(await self._instrument_of(command.principal, command.order_id), command)

    async def order_batch(self, principal: Principal, cancels: list[Cancel],
                          places: list[tuple[str, Place]]) -> tuple[list[Outcome], list[Outcome]]:
        """Cancel and place orders in one go: each command is carried out or refused on its own, exactly as if
        sent alone, and the outcomes come back in the order asked. A book's commands go to it together (one
        routed message per book), cancels before places; different books work on theirs at the same time."""
        outcomes: list[Outcome | None] = [None] * (len(cancels) + len(places))
        by_book: dict[int, list[tuple[int, Command]]] = {}
        for slot, cancel in enumerate(cancels):
            try:
                instrument_id = await self._instrument_of(principal, cancel.order_id)
            except DomainError as refusal:
                outcomes[slot] = refusal
                continue
            by_book.setdefault(instrument_id, []).append((slot, cancel))
        for slot, (code, place) in enumerate(places, start=len(cancels)):
            try:
                instrument_id = await self.instrument_id_async(code)
            except DomainError as refusal:
                outcomes[slot] = refusal
                continue
            by_book.setdefault(instrument_id, []).append((slot, place.digested(("instrument", code))))

        async def run(instrument_id: int, commands: list[tuple[int, Command]]) -> None:
            try:
                answers = await self.submit_all(instrument_id, [command for _, command in commands])
            except DomainError as refusal:  # the book's owner did not answer: none of these is known done
                answers = [refusal] * len(commands)
            for (slot, command), answer in zip(commands, answers, strict=True):
                outcomes[slot] = answer
                if isinstance(command, Place) and not isinstance(answer, DomainError):
                    self._remember_instrument(answer["id"], instrument_id)

        await asyncio.gather(*(run(i, commands) for i, commands in by_book.items()))
        done = cast(list[Outcome], outcomes)  # every slot is filled now: by a refusal above or by run()
        return done[:len(cancels)], done[len(cancels):]

    async def amend(self, command: Amend) -> dict[str, Any]:
        return await self.submit(await self._instrument_of(command.principal, command.order_id), command)

    async def post_listing(self, instrument_code: str, command: PostListing) -> dict[str, Any]:
        return await self._by_code(instrument_code, command)

    async def open_auction(self, instrument_code: str, command: OpenAuction) -> dict[str, Any]:
        return await self._by_code(instrument_code, command)

    async def bid(self, command: Bid) -> dict[str, Any]:
        return await self._on_order(command.auction_id, command, any_owner=True)

    async def cancel_auction(self, command: CancelAuction) -> dict[str, Any]:
        return await self._on_order(command.order_id, command)

    async def propose(self, instrument_code: str, command: Propose) -> dict[str, Any]:
        return await self._by_code(instrument_code, command)

    async def browse(self, instrument_code: str, command: Browse) -> dict[str, Any]:
        return await self._by_code(instrument_code, command)

    async def pick(self, command: Pick) -> dict[str, Any]:
        return await self._on_order(command.listing_id, command, any_owner=True)

    async def cancel_listing(self, command: CancelListing) -> dict[str, Any]:
        return await self._on_order(command.order_id, command)

    async def answer_proposal(self, command: Accept | Reject | Withdraw) -> dict[str, Any]:
        """accept, reject or withdraw a proposal (accepting records the counterparty's side once)."""
        return await self._on_order(command.proposal_id, command, any_owner=True)

    async def _by_code(self, code: str, command: Command) -> dict[str, Any]:
        instrument_id = await self.instrument_id_async(code)
        return await self.submit(instrument_id, command.digested(("instrument", code), ("kind", command.kind)))

    async def _on_order(self, order_id: int, command: Command, any_owner: bool = False) -> dict[str, Any]:
        """A command about an existing listing, auction or proposal, sent to its instrument's book. Others'
        listings and proposals addressed to you are found too (the desk checks who may act)."""
        principal = command.principal

        def instrument_of_order() -> int:
            with self.registry.uow(principal) as uow:
                return trading.instrument_of_order(uow, principal.participant_id, order_id, any_owner)

        instrument_id = await run_in_threadpool(instrument_of_order)
        return await self.submit(instrument_id, command.digested(("kind", command.kind)))

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

    # --- what may no longer trade: a participant (Art. 19, 26), a batch taken back (Art. 26) ----------------
    async def withdraw_participant(self, principal: Principal, participant_id: int) -> list[Outcome]:
        """Have every book in which the participant has something open (or is named by an open proposal)
        withdraw it (the desk's withdraw_participant); each book's answer or refusal. Called after the status
        change has committed."""
        def books(uow: UnitOfWork) -> list[int]:
            return trading.instruments_with_open_interest(uow, participant_id)

        return await self._on_every_book(principal, books, WithdrawParticipant(principal=principal,
                                                                               participant_id=participant_id))

    async def withdraw_batch(self, principal: Principal, batch_id: int) -> list[Outcome]:
        """Have every book in which something open holds credits of the batch withdraw it (the desk's
        withdraw_batch); each book's answer or refusal. Called after the batch's freeze has committed."""
        def books(uow: UnitOfWork) -> list[int]:
            return revocations.books_holding(uow, batch_id)

        return await self._on_every_book(principal, books, WithdrawBatch(principal=principal, batch_id=batch_id))

    async def _on_every_book(self, principal: Principal, books: Callable[[UnitOfWork], list[int]],
                             command: Command) -> list[Outcome]:
        """Send the command to each of the books found (routed to each book's owner like any command), all at
        once; each book's answer or refusal."""
        def found() -> list[int]:
            with self.registry.uow(principal) as uow:
                return books(uow)

        async def send(instrument_id: int) -> Outcome:
            try:
                (outcome,) = await self.submit_all(instrument_id, [command])
            except DomainError as refusal:
                return refusal
            return outcome

        return list(await asyncio.gather(*(send(i) for i in await run_in_threadpool(found))))

    # --- market data from the live book -------------------------------------------------------------------
    async def depth(self, principal: Principal | None, instrument_id: int, levels: int) -> dict[str, Any]:
        return await self.submit(instrument_id, Depth(principal=principal or ANYONE, levels=levels))


def withdraw_from_market(exchange: Exchange, principal: Principal, participant_id: int) -> list[Outcome]:
    """For a synchronous route, after it has committed a status change that leaves the participant unable to
    trade: withdraw everything it has on the exchange (Exchange.withdraw_participant), waiting for the books'
    answers. A book that cannot do it now (moved, out of reach) is logged; its writer still refuses any trade
    of the participant and withdraws it when it next finds it (InstrumentDesk._refuse_barred_trades, _sweep):
    the status change has committed, so the route answers it whatever happens here."""
    return _withdrawn(exchange.withdraw_participant, principal, participant_id, "participant")


def withdraw_batch_from_market(exchange: Exchange, principal: Principal, batch_id: int) -> list[Outcome]:
    """For a synchronous route, after it has committed a batch's freeze (Art. 26): withdraw whatever holds
    the batch's credits on the exchange (Exchange.withdraw_batch), waiting for the books' answers. A book that
    cannot do it now is logged; the take back that follows then finds credits still held and refuses, to be
    retried (registry.services.revocations.take_back)."""
    return _withdrawn(exchange.withdraw_batch, principal, batch_id, "batch")


def _withdrawn(withdraw: Callable[[Principal, int], Coroutine[Any, Any, list[Outcome]]], principal: Principal,
               target_id: int, what: str) -> list[Outcome]:
    """Run a withdrawal from a synchronous route (in its worker thread) and log the books that failed it."""
    try:
        outcomes = anyio.from_thread.run(withdraw, principal, target_id)
    except Exception:
        log.exception("withdrawing %s %s from the exchange failed for now", what, target_id)
        return []
    for outcome in outcomes:
        if isinstance(outcome, DomainError):
            log.warning("withdrawing %s %s from a book failed for now (%s)", what, target_id, outcome.message_en)
    return outcomes


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

