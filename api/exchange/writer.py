"""The writer's plumbing: one thread per book takes the commands queued for it in batches, and each caller
waits on a future for its answer. A batch is applied in one transaction and answered only once it has
committed (group commit, InstrumentDesk._commit_run); should a run of commands fail, `Writer._process` finds the
one to blame (it alone is refused, the rest go again) or, when the commit cannot say which, splits the run in
halves until that command is alone. A run whose COMMIT was sent but not answered is never tried again: its
commands are answered "outcome unknown" (CommitUncertain). What a command does is the desk's
(api/exchange/desk.py); who owns which book, routing's (api/exchange/routing.py).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import queue
import threading
from concurrent.futures import Future
from contextlib import AbstractContextManager, nullcontext, suppress
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import DBAPIError, OperationalError

from api import metrics
from api.exchange.commands import Command
from api.problems import retryable
from registry.errors import DomainError, OutcomeUnknown, StateConflict, Unavailable

log = logging.getLogger("carbonx.exchange")
BATCH_LIMIT = 64
TICK_S = 1.0  # an idle book still lets time pass, so expiries happen when due rather than at the next command
ANSWER_TIMEOUT_S = 30.0
BARRED_RETRIES = 3  # a batch refused for a barred participant's trade goes again after its withdrawal


class BatchFailed(Exception):
    """Something failed after the engine changed: the transaction is rolled back and the book rebuilt."""


class CommandFailed(Exception):
    """One command of a batch raised something other than a refusal: it alone fails, the rest go again."""

    def __init__(self, job: Job) -> None:
        super().__init__(job.command.kind)
        self.job = job


class CommitUncertain(Exception):
    """The run's COMMIT was sent but no answer came back (the connection was lost during it, say): the
    transaction may have taken effect. Its commands are answered OutcomeUnknown and never tried again: a
    retry inside the writer would find what the first try wrote (its own hold, an order already cancelled)
    and refuse a command that took effect. The caller asks by client_order_id or Idempotency-Key."""


class BookFailed(Exception):
    """What the book does before a batch's commands (the calendar's transitions) failed."""


class Barred(Exception):
    """A trade of the transaction involves participants that may no longer trade (Art. 19, 26): nothing of it is
    written; what they have in the book is withdrawn, and the commands go again."""

    def __init__(self, participants: dict[int, str]) -> None:
        super().__init__(", ".join(f"{p}: {r}" for p, r in sorted(participants.items())))
        self.participants = participants


class Fenced(Exception):
    """Another process has taken the book since this writer's process did (the book's epoch moved on): this
    writer must never commit again; its process lets go of the book and routes its commands to the owner."""


def book_moved() -> Unavailable:
    return Unavailable("This order book has just moved to another server; nothing was done. Retry.",
                       "该订单簿刚转由另一台服务器处理，未作任何变更，请重试。")



@dataclass
class Job:
    """One command waiting for its instrument's writer, with where its answer goes."""

    command: Command
    future: Future[dict[str, Any]] = field(default_factory=Future)


Outcome = dict[str, Any] | DomainError  # a command's answer, or its refusal


def timed_out() -> OutcomeUnknown:
    return OutcomeUnknown("The exchange did not answer in time; the command may or may not have been carried out. "
                          "Retry with the same client_order_id or Idempotency-Key: the retry tells you, and never "
                          "does it twice.",
                          "交易系统未及时响应，该指令可能已执行也可能未执行。请以相同的 client_order_id 或 "
                          "Idempotency-Key 重试以获知结果，重试绝不会重复执行。")


def outcome_of(future: Future[dict[str, Any]]) -> Outcome:
    """A finished job's answer or refusal; a job not finished yet has timed out. (The writer only ever fails a
    job with a DomainError: it turns anything else into a StateConflict.)"""
    if not future.done():
        return timed_out()
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



def database_lost(error: BaseException) -> bool:
    """Whether the writer's database went away (its connection broke, the server is down), as opposed to a
    refusal or a passing conflict: the command may go again once it is back."""
    return isinstance(error, DBAPIError) and (error.connection_invalidated or (
        isinstance(error, OperationalError) and not retryable(error)))


def database_lost_outcome_unknown() -> OutcomeUnknown:
    return OutcomeUnknown("The exchange lost its database while carrying out this command; it may or may not have "
                          "been carried out. Retry with the same client_order_id or Idempotency-Key: the retry "
                          "tells you, and never does it twice.",
                          "交易系统在执行该指令时与数据库断开，该指令可能已执行也可能未执行。请以相同的 "
                          "client_order_id 或 Idempotency-Key 重试以获知结果，重试绝不会重复执行。")


def database_unavailable() -> Unavailable:
    return Unavailable("The exchange cannot reach its database; nothing was done. Retry shortly.",
                       "交易系统暂时无法访问数据库，未作任何变更，请稍后重试。")

class Writer:
    """The single writer thread of one book: it takes what is queued in batches of up to BATCH_LIMIT and hands
    each to `serve`; between batches, and every TICK_S when idle, it lets time pass (`_tick`). A subclass says
    what serving a batch, committing a run of commands and rebuilding after a failure mean (InstrumentDesk)."""

    instrument_id: int
    barred: set[int]  # participants that may not trade with something in the book: swept before a run

    def __init__(self, name: str) -> None:
        self.closed = False  # stopped: whatever is queued from now on is answered "retry" at once
        self._closing = threading.Lock()
        self.queue: queue.Queue[Job | None] = queue.Queue()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    # what a subclass provides ------------------------------------------------------------------------------
    def serve(self, batch: list[Job]) -> None:
        raise NotImplementedError

    def _tick(self) -> None:
        raise NotImplementedError

    def _replies_held(self) -> AbstractContextManager[None]:
        """While a batch is served, the routed answers it makes go out together."""
        return nullcontext()

    def _commit_run(self, run: list[Job]) -> None:
        raise NotImplementedError

    def _sweep(self) -> None:
        raise NotImplementedError

    def _let_go(self) -> None:
        raise NotImplementedError

    def _let_go_of_connection(self) -> None:
        raise NotImplementedError

    def _forget(self) -> None:
        raise NotImplementedError

    def _try_rebuild(self) -> bool:
        raise NotImplementedError

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
            job.future.set_exception(book_moved())

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
                self._answer_queued(book_moved())
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
            with self._replies_held():  # the batch's routed answers in one round trip
                self.serve(batch)

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
            except Barred as barred:  # a trade with a participant that may not trade: withdraw it, go again
                barred_retries += 1
                log.warning("instrument %s: a batch would trade for participants that may not trade (%s); %s",
                            self.instrument_id, barred, "withdrawing them and trying the batch again"
                            if barred_retries <= BARRED_RETRIES else "refusing the batch")
                if barred_retries <= BARRED_RETRIES:
                    self.barred.update(barred.participants)
                    runs.insert(0, run)
                else:
                    self._fail(run, barred)
            except CommandFailed as failed:
                culprit, cause = failed.job, failed.__cause__ or failed
                log.error("command %s on instrument %s failed; it alone is refused, the rest of its batch is "
                          "tried again", culprit.command.kind, self.instrument_id, exc_info=cause)
                self._fail([culprit], cause)
                rest = [job for job in run if job is not culprit]
                if rest:
                    runs.insert(0, rest)
            except CommitUncertain as unsure:  # never again: whether it took effect is not known here
                log.error("the commit of a batch of %d commands on instrument %s may or may not have reached "
                          "the database; they are answered 'outcome unknown'", len(run), self.instrument_id,
                          exc_info=unsure.__cause__ or unsure)
                self._fail(run, unsure)
            except Fenced:  # let go first, so that a caller retrying at once is routed to the owner
                self._let_go()
                self._fail([job for waiting in [run, *runs] for job in waiting], book_moved())
                return
            except BookFailed as failed:  # letting the calendar's time pass failed: no command is to blame
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
        """Answer jobs whose transaction failed: refused when nothing of them was written, else (a commit
        that may have landed) "outcome unknown"."""
        failure: DomainError
        if cause is None:  # the book could not be rebuilt: nothing of these commands ran
            failure = database_unavailable()
        elif isinstance(cause, CommitUncertain) or database_lost(cause):  # whether it landed is not known here
            failure = database_lost_outcome_unknown()
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

