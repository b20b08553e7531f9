"""Who owns an instrument's book when several API processes run (uvicorn workers, or hosts behind a load
balancer): the ClusterCoordinator.

Exactly one process owns a book at a time: it holds a PostgreSQL advisory lock for the instrument on a
connection of its own, so the lock goes when the process dies. The others route that instrument's commands
to the owner over a Redis stream (a consumer group, so a command the dead owner never acknowledged is claimed
by the next one) and await the answer on their process's reply list, which one thread reads for all of its
requests (a waiting request holds neither a thread nor a Redis connection). Each process tries, about every
second, to take the locks of books nobody owns; the one that gets a lock rebuilds that book from the database.
Without Redis (the embedded first run) there is one process, which owns every book (ownership.LocalCoordinator).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import psycopg
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from api import metrics
from api.exchange.ownership import Deliveries, Serve, Waiter
from api.kv import PerLoop, Pipelined, async_client

log = logging.getLogger("carbonx.ownership")

STREAM = "carbonx:desk:{instrument_id}"
GROUP = "owners"
REPLY = "carbonx:reply:{request_id}"  # an answer's own list, for a command that names no reply_to
REPLIES = "carbonx:replies:{process_id}"  # where the answers to one process's routed commands go
REPLIES_KEPT_S = 120  # a reply list nobody reads any more (its process died) goes after this
REPLIES_READ_AT_ONCE = 256
LOCK_NAMESPACE = 0x4A58_0000  # advisory keys: namespace + instrument id
TAKEOVER_INTERVAL_S = 1.0
# A lock connection whose server went silent (a cut cable sends no reset) is declared dead within seconds.
LOCK_CONNECTION_OPTIONS: dict[str, Any] = {"keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2,
                                           "keepalives_count": 2, "tcp_user_timeout": 8000, "connect_timeout": 5}
# Taking a book increments its epoch (registry.orm.BookOwner); the writer's every commit checks it
# (api.exchange.desk.InstrumentDesk), so a process that lost the lock without noticing can never commit again.
TAKE_EPOCH = ("INSERT INTO book_owners (instrument_id, epoch, owner, taken_at) VALUES (%s, 1, %s, now()) "
              "ON CONFLICT (instrument_id) DO UPDATE SET epoch = book_owners.epoch + 1, owner = EXCLUDED.owner, "
              "taken_at = EXCLUDED.taken_at RETURNING epoch")
PROBE_EPOCH = "SELECT epoch FROM book_owners WHERE instrument_id = %s"

class ClusterCoordinator:
    """Advisory locks on PostgreSQL for ownership, Redis streams for routing."""

    fenced = True

    def __init__(self, postgres_dsn: str, redis_url: str, owns_books: bool = True) -> None:
        self.dsn = postgres_dsn
        self.owns_books = owns_books  # False: never take a book, only route to its owner
        self._may_own: Callable[[int], bool] = lambda _: True  # which books this process may take (see start)
        self.redis = redis.Redis.from_url(redis_url, socket_timeout=None, socket_connect_timeout=3)
        self.process_id = uuid.uuid4().hex
        self._locks: dict[int, psycopg.Connection[Any]] = {}
        self._epochs: dict[int, int] = {}  # the epoch this process took each of its books at (book_owners)
        self._owner_name = f"{socket.gethostname()[:60]}:{os.getpid()}:{self.process_id[:8]}"
        self._taking: set[int] = set()  # locks taken whose books are being built (see _try_acquire)
        self._consumers: dict[int, threading.Thread] = {}
        self._failed_at: dict[int, float] = {}  # when taking a book's lock last failed (time.monotonic)
        self._mutex = threading.Lock()
        self._stopping = threading.Event()
        self._serve: Serve | None = None
        self._on_acquire: Callable[[int], object] | None = None
        self._on_lose: Callable[[int], object] = lambda _: None
        self._monitor: threading.Thread | None = None
        # Routing: commands go out through this loop's asyncio client; their answers come back on this
        # process's reply list, read by one thread that hands each to the request awaiting it.
        self._redis_url = redis_url
        self._async_redis = PerLoop(lambda: Pipelined(async_client(redis_url, socket_timeout=None,
                                                                      socket_connect_timeout=3)))
        # A request's id need only be unique among this process's (its answer comes back on the process's own
        # list): a counter, not a uuid4 per request (a system call each).
        self._request_numbers = itertools.count()
        self.replies = REPLIES.format(process_id=self.process_id)
        self._waiting: dict[str, tuple[asyncio.AbstractEventLoop, Waiter]] = {}
        self._reply_reader: threading.Thread | None = None
        self._held = threading.local()  # a thread's replies held for one pipeline (holding_replies)

    # --- ownership ------------------------------------------------------------------------------------------
    def owns(self, instrument_id: int) -> bool:
        with self._mutex:
            if instrument_id in self._locks:
                return True
        if self._tried_lately(instrument_id):
            return False
        return self._try_acquire(instrument_id)

    def owns_at_once(self, instrument_id: int) -> bool | None:
        """`owns` when it can be told without waiting (for the event loop); None when finding out means trying
        to take the book's lock (a database round trip: call `owns` in a thread)."""
        if instrument_id in self._locks:  # one dict lookup, atomic: no need to wait for the mutex
            return True
        if not self.owns_books or self._stopping.is_set() or self._tried_lately(instrument_id):
            return False
        return None

    def _tried_lately(self, instrument_id: int) -> bool:
        """Whether this process failed to take the book's lock less than TAKEOVER_INTERVAL_S ago: a request
        for a book another process owns must not open a database connection to try again each time (the
        monitor keeps trying every interval)."""
        failed_at = self._failed_at.get(instrument_id)
        return failed_at is not None and time.monotonic() - failed_at < TAKEOVER_INTERVAL_S

    def _try_acquire(self, instrument_id: int) -> bool:
        """Take the book's lock if nobody holds it. The process counts as its owner only once `on_acquire` has
        built the book anew: a request that found it owned any earlier would build a desk of its own, which
        that rebuild then stops under it. Meanwhile its commands are routed and wait in the stream, which
        this process starts reading right after."""
        with self._mutex:
            if instrument_id in self._locks:
                return True
            if self._stopping.is_set() or not self.owns_books or instrument_id in self._taking:
                # A monitor pass or a request racing stop() must not take a lock that nothing would release:
                # the book would stay owned by a process that no longer serves it.
                return False
            if not self._may_own(instrument_id):
                self._failed_at[instrument_id] = time.monotonic()  # not ours: route without asking each time
                return False
            connection = psycopg.connect(self.dsn, autocommit=True, application_name=f"carbonx-owner-{os.getpid()}",
                                         **LOCK_CONNECTION_OPTIONS)
            try:
                got = connection.execute("SELECT pg_try_advisory_lock(%s)",
                                         (LOCK_NAMESPACE + instrument_id,)).fetchone()
                if not got or not got[0]:
                    connection.close()
                    self._failed_at[instrument_id] = time.monotonic()
                    return False
                # Waits for a stale owner's batch in flight (it holds the epoch FOR SHARE until its commit),
                # so the book built below sees everything that owner ever committed.
                taken = connection.execute(TAKE_EPOCH, (instrument_id, self._owner_name)).fetchone()
                assert taken is not None
            except BaseException:
                connection.close()
                raise
            self._epochs[instrument_id] = int(taken[0])
            self._taking.add(instrument_id)
        try:
            if self._on_acquire is not None:
                self._on_acquire(instrument_id)
        except BaseException:
            # A book this process could not build must not stay locked by it, unserved: let go, so that the
            # next pass, here or in another process, tries again.
            with self._mutex:
                self._taking.discard(instrument_id)
                self._epochs.pop(instrument_id, None)
            connection.close()
            raise
        with self._mutex:
            self._taking.discard(instrument_id)
            if self._stopping.is_set():
                self._epochs.pop(instrument_id, None)
                connection.close()
                return False
            self._locks[instrument_id] = connection
            self._failed_at.pop(instrument_id, None)
        log.info("process %s owns instrument %s at epoch %s", self.process_id, instrument_id,
                 self._epochs.get(instrument_id))
        self._start_consumer(instrument_id)
        return True

    def start(self, serve: Serve, instrument_ids: Callable[[], list[int]], on_acquire: Callable[[int], object],
              may_own: Callable[[int], bool] = lambda _: True, on_lose: Callable[[int], object] = lambda _: None,
              ) -> None:
        """Serve routed commands with `serve`; keep trying to own the books nobody owns that `may_own` allows
        this process (`instrument_ids` lists the books to try); `on_lose` hears of a book this process found
        it no longer owns."""
        self._serve = serve
        self._on_acquire = on_acquire
        self._may_own = may_own
        self._on_lose = on_lose

        def monitor() -> None:
            while not self._stopping.wait(TAKEOVER_INTERVAL_S):
                try:
                    for instrument_id in instrument_ids():
                        self._try_acquire(instrument_id)
                    self._check_locks()
                except Exception:  # the monitor must outlive a passing database or Redis hiccup
                    log.exception("ownership monitor pass failed")
                metrics.OWNERSHIP_PASSES.inc()

        self._monitor = threading.Thread(target=monitor, name="ownership-monitor", daemon=True)
        self._monitor.start()

    def epoch(self, instrument_id: int) -> int | None:
        """The epoch this process took the book at (its writer commits only while it is still current)."""
        return self._epochs.get(instrument_id)

    def _check_locks(self) -> None:
        """Ask each lock connection whether its session still stands and the book's epoch is still ours. psycopg
        marks a connection broken only after a failed read, and a session the server ended (a failover,
        pg_terminate_backend) fails only when asked: so ask on every pass. A lost lock means: stop owning."""
        with self._mutex:
            held = list(self._locks.items())
        lost: list[tuple[int, psycopg.Connection[Any], str]] = []
        for instrument_id, connection in held:
            try:
                row = connection.execute(PROBE_EPOCH, (instrument_id,)).fetchone()
            except psycopg.Error as exc:
                lost.append((instrument_id, connection, f"its lock session failed: {exc}".strip()))
                continue
            if row is None or row[0] != self._epochs.get(instrument_id):
                lost.append((instrument_id, connection,
                             f"another process took it at epoch {row[0] if row else None}"))
        for instrument_id, connection, why in lost:
            if self._release(instrument_id, connection_of=connection):
                log.error("lost the book of instrument %s: %s; routing its commands to the owner", instrument_id,
                          why)
                metrics.BOOKS_LOST.labels("probe").inc()
                self._on_lose(instrument_id)

    def let_go(self, instrument_id: int) -> None:
        """Stop owning the book (its writer found its epoch was no longer current): close the lock session so
        the lock is surely free, stop reading its stream, route its commands from now on."""
        with self._mutex:
            connection = self._locks.get(instrument_id)
        if connection is not None and self._release(instrument_id, connection_of=connection):
            log.error("let go of the book of instrument %s: another process owns it now", instrument_id)
            metrics.BOOKS_LOST.labels("fenced").inc()

    def _release(self, instrument_id: int, *, connection_of: psycopg.Connection[Any]) -> bool:
        """Forget the lock of `instrument_id` if it is still the one on `connection_of` (True if it was)."""
        with self._mutex:
            if self._locks.get(instrument_id) is not connection_of:
                return False
            self._locks.pop(instrument_id)
            self._epochs.pop(instrument_id, None)
            self._failed_at[instrument_id] = time.monotonic()
        with suppress(psycopg.Error):
            connection_of.close()
        return True

    def stop(self) -> None:
        self._stopping.set()
        with self._mutex:
            for connection in self._locks.values():
                connection.close()
            self._locks.clear()
            self._epochs.clear()
        # The monitor and the stream readers wake within a second; closing Redis under a blocked read would
        # kill the reader with a parser error instead of letting it return.
        for thread in [self._monitor, self._reply_reader, *self._consumers.values()]:
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout=TAKEOVER_INTERVAL_S + 5)
        self.redis.close()

    # --- routing --------------------------------------------------------------------------------------------
    async def send(self, instrument_id: int, command: dict[str, Any],
                   timeout_s: float) -> dict[str, Any] | None:
        """Put a command on the owner's stream and await its answer (None on timeout), holding no thread and
        no Redis connection meanwhile: the answer comes back on this process's reply list."""
        request_id = str(next(self._request_numbers))
        loop = asyncio.get_running_loop()
        waiter: Waiter = loop.create_future()
        self._waiting[request_id] = (loop, waiter)
        if self._reply_reader is None:
            self._start_reply_reader()
        try:
            await self._async_redis.get().run(("XADD", STREAM.format(instrument_id=instrument_id), "*",
                                               "request_id", request_id, "reply_to", self.replies,
                                               "command", json.dumps(command)))
            return await asyncio.wait_for(waiter, timeout_s)
        except TimeoutError:
            return None
        finally:
            self._waiting.pop(request_id, None)

    def _start_reply_reader(self) -> None:
        with self._mutex:
            if self._reply_reader is None:
                self._reply_reader = threading.Thread(target=self._read_replies, name="route-replies", daemon=True)
                self._reply_reader.start()

    def _read_replies(self) -> None:
        """Hand every answer on this process's reply list to the request awaiting it (on its event loop, in
        one call per loop for all the answers read at once). An answer nobody awaits (timed out) is dropped."""
        # No silent reconnection: a connection lost under the reply list may have lost answers with it (a Redis
        # that restarts comes back empty), so the requests awaiting them are told at once (_give_up_waiting).
        reader = redis.Redis.from_url(self._redis_url, socket_timeout=None, socket_connect_timeout=3,
                                      client_name=f"carbonx-replies-{self.process_id}", retry=Retry(NoBackoff(), 0))
        try:
            while not self._stopping.is_set():
                try:
                    popped: Any = reader.blmpop(1, 1, self.replies, direction="LEFT", count=REPLIES_READ_AT_ONCE)
                except redis.RedisError:
                    if self._stopping.is_set():
                        return
                    log.exception("reading the routed answers failed; retrying")
                    self._give_up_waiting()
                    self._stopping.wait(1.0)
                    continue
                if not popped:
                    continue
                by_loop: defaultdict[asyncio.AbstractEventLoop, Deliveries] = defaultdict(list)
                for raw in popped[1]:
                    answer = json.loads(raw)
                    found = self._waiting.pop(answer.pop("request_id"), None)
                    if found is not None:
                        by_loop[found[0]].append((found[1], answer))
                for loop, answers in by_loop.items():
                    with suppress(RuntimeError):  # that loop has closed: nobody awaits these answers any more
                        loop.call_soon_threadsafe(_deliver, answers)
        finally:
            reader.close()

    def _give_up_waiting(self) -> None:
        """Redis failed under the reply list: the answers now awaited may be lost with it, so their requests
        learn at once that the outcome is unknown (None, as after a timeout) instead of waiting out the timeout."""
        by_loop: defaultdict[asyncio.AbstractEventLoop, Deliveries] = defaultdict(list)
        for request_id in list(self._waiting):
            found = self._waiting.pop(request_id, None)
            if found is not None:
                by_loop[found[0]].append((found[1], None))
        for loop, answers in by_loop.items():
            with suppress(RuntimeError):
                loop.call_soon_threadsafe(_deliver, answers)

    @contextmanager
    def holding_replies(self) -> Iterator[None]:
        """The replies this thread makes meanwhile go out together at the end, in one Redis round trip: a
        writer answers all the routed commands of a batch at once (one round trip each cost it more than a
        millisecond apiece under load). A reply that cannot be sent leaves its sender to time out, as before."""
        pipe = self.redis.pipeline(transaction=False)
        self._held.pipe = pipe
        try:
            yield
        finally:
            self._held.pipe = None
            if len(pipe):
                try:
                    pipe.execute()
                except redis.RedisError:
                    log.exception("sending %d routed answers failed; their senders will time out", len(pipe))

    def _ensure_group(self, stream: str) -> None:
        try:
            self.redis.xgroup_create(stream, GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def _start_consumer(self, instrument_id: int) -> None:
        stream = STREAM.format(instrument_id=instrument_id)
        self._ensure_group(stream)
        thread = threading.Thread(target=self._consume, args=(instrument_id, stream), daemon=True,
                                  name=f"route-{instrument_id}")
        self._consumers[instrument_id] = thread
        thread.start()

    def _consume(self, instrument_id: int, stream: str) -> None:
        # First the commands a previous owner took but never answered, then new ones.
        claim_from: Any = "0-0"
        while not self._stopping.is_set() and self.owns_now(instrument_id):
            try:
                if claim_from is not None:
                    claimed: Any = self.redis.xautoclaim(stream, GROUP, self.process_id, min_idle_time=0,
                                                         start_id=claim_from)
                    self._handle(instrument_id, stream, claimed[1])
                    claim_from = None if claimed[0] in (b"0-0", "0-0") else claimed[0]
                    continue
                entries: Any = self.redis.xreadgroup(GROUP, self.process_id, {stream: ">"}, count=64, block=1000)
                for _, messages in entries or []:
                    self._handle(instrument_id, stream, messages)
            except (redis.RedisError, ValueError) as exc:
                if self._stopping.is_set() or not self.owns_books:
                    return
                log.exception("reading the command stream of instrument %s failed; retrying", instrument_id)
                self._stopping.wait(1.0)
                if "NOGROUP" in str(exc):
                    # Redis lost the stream (it keeps nothing on disk here): make it again and carry on.
                    try:
                        self._ensure_group(stream)
                    except redis.RedisError:
                        log.exception("could not recreate the command stream of instrument %s", instrument_id)

    def _give_back(self, stream: str, messages: list[Any]) -> None:
        """Commands read in the moment after this process lost the book: put them back on the stream as new
        ones (in their order), for the owner to read, and take the originals off."""
        pipe = self.redis.pipeline(transaction=True)
        for message_id, fields in messages:
            pipe.xadd(stream, fields)
            pipe.xack(stream, GROUP, message_id)
            pipe.xdel(stream, message_id)
        pipe.execute()
        log.info("gave %d commands on %s back to the book's owner", len(messages), stream)

    def owns_now(self, instrument_id: int) -> bool:
        with self._mutex:
            return instrument_id in self._locks

    def _handle(self, instrument_id: int, stream: str, messages: list[Any]) -> None:
        """Queue each routed command for the writer; answer and acknowledge it when it is done, so the
        writer can batch routed commands like local ones."""
        assert self._serve is not None
        if messages and not self.owns_now(instrument_id):
            self._give_back(stream, messages)
            return
        for message_id, fields in messages:
            request_id = fields[b"request_id"].decode()
            reply_to = fields.get(b"reply_to")

            def reply(answer: dict[str, Any], request_id: str = request_id, message_id: Any = message_id,
                      reply_to: bytes | None = reply_to) -> None:
                held = getattr(self._held, "pipe", None)
                pipe = held if held is not None else self.redis.pipeline(transaction=False)
                if reply_to is not None:  # the sender's reply list, shared by all its commands
                    pipe.rpush(reply_to, json.dumps({"request_id": request_id, **answer}))
                    pipe.expire(reply_to, REPLIES_KEPT_S)
                else:  # a sender that awaits this answer on a list of its own
                    key = REPLY.format(request_id=request_id)
                    pipe.rpush(key, json.dumps(answer))
                    pipe.expire(key, REPLIES_KEPT_S)
                pipe.xack(stream, GROUP, message_id)
                pipe.xdel(stream, message_id)
                if held is None:
                    pipe.execute()

            self._serve(instrument_id, json.loads(fields[b"command"]), reply)


def _deliver(answers: Deliveries) -> None:
    """On a loop: complete the futures of the requests still awaiting these answers."""
    for waiter, answer in answers:
        if not waiter.done():
            waiter.set_result(answer)
