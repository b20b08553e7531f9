"""Load generator for continuous trading: prepares a market in the server's database, then drives the running
server over HTTP with many concurrent clients and prints what it measured.

    python -m bench.loadgen --url http://127.0.0.1:8000 --clients 32 --seconds 20 --seed 1

It reads the same configuration as the server (``CARBONX_DATABASE_URL``, ``CARBONX_JWT_*`` … through
``api.settings.get_settings()``), so run it with the server's environment. Steps:

1. Prepare (directly through the registry services, in the server's database): an operator user
   (``<prefix>-operator``, roles operator and bureau), N trader participants (``<prefix>-t000`` …) whose users
   hold the roles owner and trader, admitted to trading (Art. 19), with cash deposited and credits issued to
   each of them (every trader both buys and sells), and one instrument with a reference price and a price band.
   Idempotent: a second run reuses the users, the project scaffolding and the instrument, and only tops up
   cash and credits that ran low. Bearer tokens are minted with ``api.tokens.issue_token`` (no logins).
2. Drive: ``--clients`` concurrent clients (asyncio, one keep-alive HTTP/1.1 connection each, spoken directly
   over asyncio streams so the generator costs the shared CPUs as little as possible), client i
   trading as trader i mod N. Each step a client either cancels one of its own resting orders
   (``--cancel-share``) or places a limit order of 1..``--max-qty`` t on a random side: near the touch
   (passive, at or a few ticks behind the best price of its side) or, with ``--cross-share``, crossing the
   spread. One extra task per instrument reads ``GET /market/{code}/depth`` every 100 ms to follow the touch.
   Closed loop (each client sends its next request when the last one is answered) unless ``--rate`` paces the
   clients;
   then latency is measured from the intended send time (no coordinated omission). With ``--batch N`` each
   request carries N such steps in one ``POST /orders/batch`` (cancels first); each order and cancel in it
   is counted on its own, with the request's latency.
3. Report: orders and cancels answered per second (POST /orders and DELETE /orders/{id}, or the items of the
   batches) over the measured window
   (after ``--warmup``), p50/p95/p99/max latency, counts by status code, transport errors, trades done
   (from the database), the load generator's own CPU time and the machine's CPU use; then
   ``GET /ledger/check`` as the operator.

Exit status: 0 when no request was answered 5xx, none failed at the transport level and the ledger check is
sound; 1 otherwise; 2 for bad arguments.

Options:
  --url URL            the server; only 127.0.0.1 / localhost / ::1 are accepted (default http://127.0.0.1:8000)
  --clients N          concurrent clients (default 32, at most 512)
  --traders N          trader participants (default: as many as clients)
  --seconds S          measured duration (default 20, at most 1800)
  --warmup S           seconds before the measured window, not counted (default 2)
  --max-orders N       stop after this many orders and cancels in all (default 1,000,000)
  --rate R             pace all clients together to R orders and cancels per second (default 0: closed loop)
  --batch N            orders and cancels per request, 1..50 (default 1: one request each; more: POST
                       /orders/batch)
  --seed N             seed of the order mix (default 1)
  --cancel-share F     share of steps that cancel an own resting order (default 0.2)
  --cross-share F      share of placed orders that cross the spread (default 0.3)
  --max-qty T          largest order in tonnes (default 20)
  --instrument CODE    instrument to trade, created when missing (default JXCI-LOADGEN)
  --instruments N      trade N instruments at once, CODE, CODE-2 … CODE-N (client i on the (i mod N)-th), each
                       prepared like the first (default 1): with one books process per instrument
                       (python -m api books --instruments CODE), N writers work in parallel
  --vintage YEAR       its vintage when created (default: the first year from 2024 without an instrument;
                       with N instruments, YEAR … YEAR + N - 1)
  --reference-price F  reference price in fen per tonne when created (default 5000)
  --band-bp BP         price band around the reference in basis points when created (default 1000)
  --prefix P           prefix of the usernames and codes the generator creates (default loadgen)
  --server-pid PID     also report the CPU time of this process and its children (the server; Linux /proc);
                       repeat it for several (API and books processes) to add theirs up
  --skip-ledger-check  do not call GET /ledger/check afterwards
  --json               print the figures as one JSON object instead of text
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import json
import math
import os
import random
import secrets
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import func, select

from api.routers.orders import ORDER_BATCH_MAX
from api.settings import Settings, get_settings
from api.tokens import issue_token
from matching_engine import InstrumentConfig
from registry import ledger
from registry.context import Registry
from registry.orm import Document, Filing, Instrument, Methodology, MethodologyVersion, Project, Trade
from registry.principals import Principal
from registry.repositories import documents as document_queries
from registry.repositories import methodologies as method_queries
from registry.repositories import projects as project_queries
from registry.services import cash, holdings, instruments, issuance, ledger_accounts, participants
from registry.unit_of_work import UnitOfWork

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
DEFAULT_INSTRUMENT = "JXCI-LOADGEN"
REQUEST_TIMEOUT_S = 60.0
DEPTH_INTERVAL_S = 0.1
ERROR_PAUSE_S = 0.05  # after a transport error (server down): do not spin
PLACE, CANCEL, DEPTH = "place", "cancel", "depth"
ORDER_ENTRY = (PLACE, CANCEL)


# --- preparing the market ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Trader:
    username: str
    user_id: int
    participant_id: int
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass(frozen=True)
class Market:
    instrument: str
    instrument_id: int
    vintage: int
    operator: Trader
    traders: list[Trader]


def _ensure_user(uow: UnitOfWork, username: str, roles: Sequence[str], kind: str) -> tuple[int, int]:
    """(user id, participant id) of `username`, created with its own participant when missing."""
    user = participants.find_user_by_username(uow, username)
    if user is None:
        org = participants.create_participant(uow, name=f"{username} (load test)", kind=kind, credit_code=None)
        # Nobody logs in as a load-test user (tokens are minted), so the password is random and forgotten.
        user = participants.create_user(uow, participant_id=org.id, username=username,
                                        password=secrets.token_urlsafe(24), display_name=username, roles=roles)
    return user.id, user.participant_id


def _scaffolding(uow: UnitOfWork, prefix: str, proposer_participant_id: int, proposer_user_id: int) -> tuple[int, str]:
    """A registered methodology version and a report document for the load test's projects and filings.
    Found through the registry's repositories; when missing, the rows are added as already registered (the
    registration flows, with their reviews, are not what is measured). (version id, document digest)."""
    code = f"{prefix.upper()}-M"[:40]
    methodology = method_queries.methodology_by_code(uow.session, code)
    now = uow.now()
    if methodology is None:
        methodology = Methodology(code=code, title_zh="负载测试方法学", title_en="load-test methodology", field="other",
                                  proposer_participant_id=proposer_participant_id, created_at=now)
        _add(uow, methodology)
    versions = method_queries.versions_of(uow.session, methodology.id)
    if versions:
        version = versions[0]
    else:
        version = MethodologyVersion(methodology_id=methodology.id, version=1, status="registered", definition={},
                                     submitted_by=proposer_user_id, submitted_at=now, registered_at=now)
        _add(uow, version)
    digest = hashlib.sha256(f"{prefix} load-test monitoring report".encode()).hexdigest()
    if document_queries.document(uow.session, digest) is None:
        _add(uow, Document(sha256=digest, size_bytes=1, media_type="application/pdf",
                           filename="load-test-report.pdf", uploaded_by_participant_id=proposer_participant_id,
                           uploaded_at=now))
    return version.id, digest


def _add(uow: UnitOfWork, row: Methodology | MethodologyVersion | Document | Project | Filing) -> None:
    """Add a row the registration flows would have made, and flush it for its id (the only direct writes here)."""
    uow.session.add(row)
    uow.session.flush()


def _ensure_instrument(uow: UnitOfWork, code: str, vintage: int | None, reference_price_fen: int,
                       band_bp: int) -> Instrument:
    existing = next((i for i in instruments.all_instruments(uow) if i.code == code), None)
    if existing is not None:
        if vintage is not None and existing.vintage != vintage:
            raise SystemExit(f"instrument {code} exists with vintage {existing.vintage}, not {vintage}")
        if existing.status != "active":
            raise SystemExit(f"instrument {code} is {existing.status}")
        return existing
    if vintage is None:
        taken = {i.vintage for i in instruments.all_instruments(uow)}
        vintage = next(v for v in range(2024, 2101) if v not in taken)
    config: dict[str, Any] = {"tick_fen": 1, "lot_t": 1, "min_order_t": 1, "max_order_t": 1_000_000,
                              "reference_price_fen": reference_price_fen, "price_band_bp": band_bp,
                              "listing_band_bp": 1000, "negotiated_band_bp": 1000, "block_threshold_t": 100_000,
                              "block_band_bp": 3000}
    InstrumentConfig(instrument_id=code, **config)  # the engine's own validation, as POST /instruments does
    return instruments.define(uow, code=code, name_zh=f"负载测试 {vintage}", name_en=f"load test {vintage}",
                              vintage=vintage, methodology_field=None, config=config)


def _available_credits(uow: UnitOfWork, account_id: int, instrument: Instrument) -> int:
    assets = {ledger.credit_asset(b) for b in instruments.batch_ids(uow, instrument)}
    return sum(b.amount for b in holdings.balances_of(uow, [account_id])
               if b.bucket == ledger.AVAILABLE and b.asset in assets)


def _issue_credits(uow: UnitOfWork, bureau: Principal, project: Project, vintage: int, quantity_t: int,
                   report_sha256: str) -> None:
    """A registered filing for the vintage written directly, then issued by the registry's issuance service."""
    filing = Filing(project_id=project.id, owner_participant_id=project.owner_participant_id,
                    methodology_version_id=project.methodology_version_id, monitoring_start=date(vintage, 1, 1),
                    monitoring_end=date(vintage, 12, 31), inputs={}, calculation={},
                    calculated_tco2e=Decimal(quantity_t), verified_tco2e=Decimal(quantity_t),
                    report_sha256=report_sha256, report_preparer_participant_id=project.owner_participant_id,
                    status="registered", created_at=uow.now())
    _add(uow, filing)
    issuance.issue(uow, bureau, filing.id, "load test issuance")


def prepare_market(settings: Settings, *, traders: int, prefix: str = "loadgen", instrument: str = DEFAULT_INSTRUMENT,
                   vintage: int | None = None, reference_price_fen: int = 5000, band_bp: int = 1000,
                   cash_fen: int = 10**10, credits_t: int = 1_000_000, registry: Registry | None = None) -> Market:
    """Make (or top up) a market of `traders` admitted traders with cash and credits in the database the server
    uses, and mint their tokens. Idempotent per `prefix` and `instrument`."""
    if registry is None:
        from api.app import build_registry

        registry = build_registry(settings)
    run_tag = uuid.uuid4().hex[:10]
    with registry.uow() as uow:
        op_user_id, op_participant_id = _ensure_user(uow, f"{prefix}-operator", ["operator", "bureau"], "agency")
        uow.commit()
    with registry.uow() as uow:
        found = participants.load_principal(uow, op_user_id)
        assert found is not None, "the load-test operator is disabled"
        bureau = found
    with registry.uow(bureau) as uow:
        version_id, digest = _scaffolding(uow, prefix, op_participant_id, op_user_id)
        market_instrument = _ensure_instrument(uow, instrument, vintage, reference_price_fen, band_bp)
        instrument_id, instrument_vintage = market_instrument.id, market_instrument.vintage
        uow.commit()
    made: list[tuple[str, int, int]] = []
    for i in range(traders):
        username = f"{prefix}-t{i:03d}"
        with registry.uow(bureau) as uow:
            user_id, participant_id = _ensure_user(uow, username, ["owner", "trader"], "enterprise")
            project_code = f"{prefix.upper()}-P{i:03d}"[:40]
            project = project_queries.project_by_code(uow.session, project_code)
            if project is None:
                project = Project(code=project_code, owner_participant_id=participant_id,
                                  methodology_version_id=version_id, title=f"load-test project {i}",
                                  county_code="330402", industry_code="4416", owner_kind="small",
                                  crediting_start=date(2020, 9, 23), crediting_end=date(2100, 12, 31),
                                  legal_reduction_obligation=False, declared_other_mechanisms=[],
                                  status="registered", created_at=uow.now(), registered_at=uow.now())
                _add(uow, project)
            participant = participants.get_participant(uow, participant_id)
            if participant.trading_status != "admitted":
                instruments.set_trading_status(uow, participant_id, "admitted", "load test admission")
            if cash.balances(uow, participant_id)[ledger.AVAILABLE] < cash_fen // 2:
                cash.record(uow, bureau, participant_id=participant_id, kind="deposit", amount_fen=cash_fen,
                            bank_reference=f"LG-{run_tag}-{participant_id}")
            account = ledger_accounts.main_account(uow, participant_id)
            if _available_credits(uow, account.id, instruments.get(uow, instrument)) < credits_t // 2:
                _issue_credits(uow, bureau, project, instrument_vintage, credits_t, digest)
            uow.commit()
        made.append((username, user_id, participant_id))
    now = registry.clock.now()

    def mint(username: str, user_id: int, participant_id: int) -> Trader:
        return Trader(username, user_id, participant_id, issue_token(settings, user_id, now)[0])

    return Market(instrument=instrument, instrument_id=instrument_id, vintage=instrument_vintage,
                  operator=mint(f"{prefix}-operator", op_user_id, op_participant_id),
                  traders=[mint(*row) for row in made])


# --- driving the server ------------------------------------------------------------------------------------
@dataclass
class LoadOptions:
    clients: int = 32
    seconds: float = 20.0
    warmup: float = 2.0
    max_orders: int = 1_000_000
    rate: float = 0.0
    seed: int = 1
    cancel_share: float = 0.2
    cross_share: float = 0.3
    max_qty: int = 20
    batch: int = 1  # commands per request: 1 sends POST /orders and DELETE /orders/{id}, more POST /orders/batch


@dataclass(frozen=True, slots=True)
class Ack:
    """An order the server acknowledged (HTTP 201) with what the answer said."""

    order_id: int
    participant_id: int
    client_order_id: str
    side: str
    price_fen: int
    quantity_t: int
    status: str
    filled_t: int
    acked_at: float  # perf_counter() when the answer arrived


@dataclass
class DriveResult:
    """Everything one drive recorded. Times are perf_counter() seconds."""

    started: float = 0.0
    window_start: float = 0.0
    window_end: float = 0.0
    finished: float = 0.0
    cpu_s: float = 0.0
    # (kind, start, end, status code; 0 for a transport error)
    ops: list[tuple[str, float, float, int]] = field(default_factory=list)
    acks: list[Ack] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)  # order ids whose DELETE was answered 200
    errors: Counter[str] = field(default_factory=Counter)  # transport errors by exception class

    def status_counts(self) -> dict[str, int]:
        counts = Counter(str(status) for _, _, _, status in self.ops if status)
        return dict(sorted(counts.items()))

    def server_errors(self) -> int:
        return sum(1 for _, _, _, status in self.ops if status >= 500)


@dataclass
class _Touch:
    """The best bid and ask as last read from the depth, and the band."""

    reference: int
    low: int
    high: int
    bid: int | None = None
    ask: int | None = None

    def update(self, depth: dict[str, Any]) -> None:
        book = depth.get("depth") or {}
        bids, asks = book.get("bids") or [], book.get("asks") or []
        self.bid = bids[0]["price_fen"] if bids else None
        self.ask = asks[0]["price_fen"] if asks else None
        band = depth.get("price_band_fen")
        if band:
            self.low, self.high = int(band[0]), int(band[1])
        if depth.get("reference_price_fen"):
            self.reference = int(depth["reference_price_fen"])

    def price(self, rng: random.Random, side: str, crossing: bool) -> int:
        bid = self.bid if self.bid is not None else (self.ask or self.reference) - 5
        ask = self.ask if self.ask is not None else max(bid, self.reference) + 5
        if crossing:
            price = ask + rng.randint(0, 5) if side == "buy" else bid - rng.randint(0, 5)
        elif side == "buy":
            price = min(bid + rng.randint(-10, 1), ask - 1)
        else:
            price = max(ask + rng.randint(-1, 10), bid + 1)
        return min(max(price, self.low), self.high)


def check_local(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.hostname not in LOCAL_HOSTS:
        raise SystemExit(f"refusing to load {url}: only http(s)://127.0.0.1, localhost or [::1]")


class TransportError(Exception):
    """The connection failed, closed or timed out before a whole answer arrived."""


@dataclass
class Answer:
    status_code: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class _Connection:
    """One keep-alive HTTP/1.1 connection speaking just what the generator needs (JSON in, JSON out with a
    Content-Length). httpx spends several milliseconds of CPU per request; this a small fraction of one."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        fixed = {"Host": f"{self.host}:{self.port}", **(headers or {})}
        self.fixed = "".join(f"{k}: {v}\r\n" for k, v in fixed.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Answer:
        try:
            return await asyncio.wait_for(self._exchange(method, path, body), REQUEST_TIMEOUT_S)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
            self.close()
            raise TransportError(type(exc).__name__) from exc

    async def _exchange(self, method: str, path: str, body: dict[str, Any] | None) -> Answer:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        payload = json.dumps(body).encode() if body is not None else b""
        head = f"{method} {path} HTTP/1.1\r\n{self.fixed}Content-Length: {len(payload)}\r\n"
        if body is not None:
            head += "Content-Type: application/json\r\n"
        self.writer.write(head.encode() + b"\r\n" + payload)
        lines = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length, keep = 0, True
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection" and value.strip().lower() == "close":
                keep = False
            elif name == "transfer-encoding":
                raise ValueError("chunked answers are not expected")
        data = await self.reader.readexactly(length) if length else b""
        if not keep:
            self.close()
        return Answer(status, data)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class _Driver:
    def __init__(self, url: str, markets: Sequence[Market], traders: Sequence[Trader], options: LoadOptions,
                 stop: threading.Event | None, result: DriveResult | None) -> None:
        self.url, self.markets, self.traders, self.options = url, list(markets), list(traders), options
        self.stop = stop or threading.Event()
        self.result = result if result is not None else DriveResult()
        self.sent = 0
        self.deadline = 0.0
        self.touches = {m.instrument: _Touch(reference=5000, low=1, high=10**9) for m in self.markets}
        self.run_tag = uuid.uuid4().hex[:8]

    def _over(self) -> bool:
        return (time.perf_counter() >= self.deadline or self.stop.is_set()
                or self.sent >= self.options.max_orders)

    def _record(self, kind: str, start: float, status: int) -> None:
        self.result.ops.append((kind, start, time.perf_counter(), status))

    async def _fail(self, kind: str, start: float, exc: Exception) -> None:
        self._record(kind, start, 0)
        self.result.errors[str(exc) if isinstance(exc, TransportError) else type(exc).__name__] += 1
        await asyncio.sleep(ERROR_PAUSE_S)

    async def run(self) -> DriveResult:
        options = self.options
        cpu0 = time.process_time()
        http = _Connection(self.url)
        try:
            for code, touch in self.touches.items():
                response = await http.request("GET", f"/market/{code}/depth?levels=1")
                if response.status_code == 200:
                    touch.update(response.json())
        except TransportError as exc:
            self.result.errors[str(exc)] += 1
        self.result.started = time.perf_counter()
        self.result.window_start = self.result.started + options.warmup
        self.deadline = self.result.window_start + options.seconds
        tasks = [asyncio.create_task(self._client(i)) for i in range(options.clients)]
        feeds = {code: _Connection(self.url) for code in self.touches}  # one depth feed per instrument
        tasks += [asyncio.create_task(self._depth_feed(feed, code)) for code, feed in feeds.items()]
        await asyncio.gather(*tasks)
        for connection in [http, *feeds.values()]:
            connection.close()
        self.result.finished = time.perf_counter()
        self.result.window_end = min(self.deadline, self.result.finished)
        self.result.cpu_s = time.process_time() - cpu0
        return self.result

    async def _depth_feed(self, http: _Connection, code: str) -> None:
        path = f"/market/{code}/depth?levels=1"
        while not self._over():
            start = time.perf_counter()
            try:
                response = await http.request("GET", path)
            except TransportError as exc:
                await self._fail(DEPTH, start, exc)
                continue
            self._record(DEPTH, start, response.status_code)
            if response.status_code == 200:
                self.touches[code].update(response.json())
            await asyncio.sleep(DEPTH_INTERVAL_S)

    async def _client(self, index: int) -> None:
        options = self.options
        trader = self.traders[index % len(self.traders)]
        market = self.markets[index % len(self.markets)]
        rng = random.Random(f"{options.seed}:{index}")
        resting: list[int] = []
        # Paced: each client sends every `interval` seconds, so that all of them together send `rate` commands/s.
        interval = options.clients * options.batch / options.rate if options.rate > 0 else 0.0
        next_at = self.result.started + rng.random() * interval
        numbers = itertools.count(1)
        http = _Connection(self.url, trader.headers)
        try:
            while not self._over():
                start = time.perf_counter()
                if interval:
                    if next_at > start:
                        await asyncio.sleep(next_at - start)
                        if self._over():
                            break
                    start = next_at  # latency from the intended send time
                    next_at += interval
                cancels: list[int] = []
                places: list[dict[str, Any]] = []
                for _ in range(options.batch):
                    if resting and rng.random() < options.cancel_share:
                        pick = rng.randrange(len(resting))
                        resting[pick], resting[-1] = resting[-1], resting[pick]
                        cancels.append(resting.pop())
                    else:
                        places.append(self._order(market, rng, index, next(numbers)))
                self.sent += len(cancels) + len(places)
                if options.batch > 1:
                    await self._send_batch(http, trader, start, cancels, places, resting)
                elif cancels:
                    await self._send_cancel(http, start, cancels[0])
                else:
                    await self._send_place(http, trader, start, places[0], resting)
        finally:
            http.close()

    def _order(self, market: Market, rng: random.Random, index: int, number: int) -> dict[str, Any]:
        side = "buy" if rng.random() < 0.5 else "sell"
        price = self.touches[market.instrument].price(rng, side, rng.random() < self.options.cross_share)
        return {"instrument": market.instrument, "client_order_id": f"{self.run_tag}-{index}-{number}",
                "side": side, "order_type": "LIMIT", "price_fen": price,
                "quantity_t": rng.randint(1, self.options.max_qty), "tif": "GTC"}

    async def _send_cancel(self, http: _Connection, start: float, order_id: int) -> None:
        try:
            response = await http.request("DELETE", f"/orders/{order_id}")
        except TransportError as exc:
            await self._fail(CANCEL, start, exc)
            return
        self._record(CANCEL, start, response.status_code)
        if response.status_code == 200:
            self.result.cancelled.append(order_id)

    async def _send_place(self, http: _Connection, trader: Trader, start: float, body: dict[str, Any],
                          resting: list[int]) -> None:
        try:
            response = await http.request("POST", "/orders", body)
        except TransportError as exc:
            await self._fail(PLACE, start, exc)
            return
        self._record(PLACE, start, response.status_code)
        if response.status_code == 201:
            self._acknowledged(trader, body, response.json(), resting)

    async def _send_batch(self, http: _Connection, trader: Trader, start: float, cancels: list[int],
                          places: list[dict[str, Any]], resting: list[int]) -> None:
        """One POST /orders/batch; every command in it is recorded as its own operation (same start and end)."""
        kinds = [CANCEL] * len(cancels) + [PLACE] * len(places)
        try:
            response = await http.request("POST", "/orders/batch", {"cancel": cancels, "place": places})
        except TransportError as exc:
            for kind in kinds[1:]:
                self._record(kind, start, 0)
            await self._fail(kinds[0], start, exc)
            return
        if response.status_code != 200:  # refused whole: every command shares the request's status
            for kind in kinds:
                self._record(kind, start, response.status_code)
            return
        answer = response.json()
        for order_id, item in zip(cancels, answer["cancel"], strict=True):
            self._record(CANCEL, start, item["status"])
            if item["status"] == 200:
                self.result.cancelled.append(order_id)
        for body, item in zip(places, answer["place"], strict=True):
            self._record(PLACE, start, item["status"])
            if item["status"] == 201:
                self._acknowledged(trader, body, item["order"], resting)

    def _acknowledged(self, trader: Trader, body: dict[str, Any], order: dict[str, Any], resting: list[int]) -> None:
        self.result.acks.append(Ack(order["id"], trader.participant_id, order["client_order_id"], body["side"],
                                    body["price_fen"], order["quantity_t"], order["status"], order["filled_t"],
                                    time.perf_counter()))
        if order["status"] == "open":
            resting.append(order["id"])


async def drive(url: str, markets: Sequence[Market], options: LoadOptions, *,
                traders: Sequence[Trader] | None = None, stop: threading.Event | None = None,
                result: DriveResult | None = None) -> DriveResult:
    """Drive the server at `url` with `options.clients` concurrent clients, client i trading on market i mod
    the number of markets as trader i mod the number of `traders` (default: the first market's; every market
    of one prefix has the same traders), until the time is up, `options.max_orders` orders and cancels were
    sent, or `stop` is set. Transport errors (a server that is down) are counted and retried after a short
    pause. Pass `result` to watch the acknowledgements arrive from another thread."""
    check_local(url)
    return await _Driver(url, markets, traders or markets[0].traders, options, stop, result).run()


def run_load(url: str, markets: Sequence[Market], options: LoadOptions, *, traders: Sequence[Trader] | None = None,
             stop: threading.Event | None = None, result: DriveResult | None = None) -> DriveResult:
    """`drive` on a fresh event loop (callable from any thread)."""
    return asyncio.run(drive(url, markets, options, traders=traders, stop=stop, result=result))


# --- figures -----------------------------------------------------------------------------------------------
def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values (0 for none)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def _latency(values: list[float]) -> dict[str, float]:
    values.sort()
    ms = 1000.0
    return {"count": len(values), "p50_ms": round(percentile(values, 0.50) * ms, 2),
            "p95_ms": round(percentile(values, 0.95) * ms, 2), "p99_ms": round(percentile(values, 0.99) * ms, 2),
            "max_ms": round((values[-1] if values else 0.0) * ms, 2),
            "mean_ms": round(sum(values) / len(values) * ms, 2) if values else 0.0}


def summarise(result: DriveResult) -> dict[str, Any]:
    """Throughput and latency over the measured window (requests answered inside it), counts over the run."""
    window = max(result.window_end - result.window_start, 1e-9)
    inside = [op for op in result.ops if result.window_start <= op[2] <= result.window_end]
    latencies: dict[str, list[float]] = {PLACE: [], CANCEL: [], DEPTH: []}
    for kind, start, end, status in inside:
        if status:
            latencies[kind].append(end - start)
    entry = [op for op in inside if op[0] in ORDER_ENTRY]
    answered = [op for op in entry if op[3]]
    per_second: Counter[int] = Counter(int(op[2] - result.window_start) for op in answered)
    return {
        "window_s": round(window, 3),
        "order_entry": {
            "requests": len(answered),
            "per_s": round(len(answered) / window, 1),
            "placed": sum(1 for op in answered if op[0] == PLACE),
            "placed_per_s": round(sum(1 for op in answered if op[0] == PLACE) / window, 1),
            "acknowledged_per_s": round(sum(1 for op in answered if op[0] == PLACE and op[3] == 201) / window, 1),
            "cancels": sum(1 for op in answered if op[0] == CANCEL),
            "per_second": [per_second.get(s, 0) for s in range(math.ceil(window))],
        },
        "latency": {"order_entry": _latency([op[2] - op[1] for op in answered]),
                    **{kind: _latency(values) for kind, values in latencies.items()}},
        "run": {"seconds": round(result.finished - result.started, 3), "requests": len(result.ops),
                "status_counts": result.status_counts(), "server_errors": result.server_errors(),
                "transport_errors": dict(result.errors), "acknowledged_orders": len(result.acks),
                "acknowledged_cancels": len(result.cancelled),
                "filled_on_entry_t": sum(a.filled_t for a in result.acks)},
        "loadgen_cpu_s": round(result.cpu_s, 2),
    }


def trades_since(registry: Registry, instrument_id: int, after_id: int) -> tuple[int, int, int]:
    """(count, tonnes, highest id) of the instrument's trades with an id above `after_id`."""
    with registry.uow() as uow:
        count, tonnes, top = uow.session.execute(
            select(func.count(Trade.id), func.coalesce(func.sum(Trade.quantity_t), 0), func.max(Trade.id))
            .where(Trade.instrument_id == instrument_id, Trade.id > after_id)).one()
    return int(count), int(tonnes), int(top or after_id)


def ledger_check(url: str, operator: Trader) -> dict[str, Any]:
    """GET /ledger/check as the operator: {"ok": ..., "entries_checked": ..., "problems": [...]}."""
    check_local(url)
    try:
        response = httpx.get(f"{url.rstrip('/')}/ledger/check", headers=operator.headers, timeout=600)
    except httpx.HTTPError as exc:
        return {"ok": False, "problems": [f"GET /ledger/check failed: {type(exc).__name__}: {exc}"]}
    if response.status_code != 200:
        return {"ok": False, "problems": [f"GET /ledger/check answered {response.status_code}: {response.text[:300]}"]}
    report: dict[str, Any] = response.json()
    return report


def _load_average() -> str | None:
    try:
        with open("/proc/loadavg") as loadavg:
            return " ".join(loadavg.read().split()[:3])
    except OSError:
        return None


def _machine_cpu() -> tuple[int, int] | None:
    """(busy, total) jiffies of the whole machine from /proc/stat, if there is one."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(x) for x in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def _servers_cpu_s(pids: list[int]) -> float | None:
    """CPU seconds of these server processes and their children, together (None when none is given or one
    cannot be read)."""
    seconds = [process_cpu_s(pid) for pid in pids]
    return None if not pids or None in seconds else sum(s for s in seconds if s is not None)


def process_cpu_s(root_pid: int) -> float | None:
    """CPU seconds (user + system) used so far by a process and its live descendants, from /proc."""
    children: dict[int, list[int]] = {}
    used: dict[int, int] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return None
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as stat:
                rest = stat.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(rest[1]), []).append(int(name))
        used[int(name)] = int(rest[11]) + int(rest[12])
    if root_pid not in used:
        return None
    total, todo = 0, [root_pid]
    while todo:
        pid = todo.pop()
        total += used.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total / os.sysconf("SC_CLK_TCK")


def _print_text(figures: dict[str, Any]) -> None:
    entry, lat, run = figures["order_entry"], figures["latency"], figures["run"]
    config = figures["config"]
    print(f"load: {config['clients']} clients as {config['traders']} traders on {', '.join(config['instruments'])} at "
          f"{config['url']}, seed {config['seed']}, {config['warmup']} s warm-up + {figures['window_s']} s measured"
          + (f", paced to {config['rate']}/s" if config["rate"] else ", closed loop"))
    how = (f"in batches of {config['batch']} (POST /orders/batch)" if config["batch"] > 1
           else "POST /orders + DELETE /orders/{id}")
    print(f"order entry ({how}): {entry['requests']} orders and cancels answered in the window = "
          f"{entry['per_s']}/s sustained  (placed {entry['placed_per_s']}/s, acknowledged 201 "
          f"{entry['acknowledged_per_s']}/s, cancels {entry['cancels']})")
    print("latency ms      count     p50     p95     p99     max")
    for name in ("order_entry", PLACE, CANCEL, DEPTH):
        row = lat[name]
        print(f"  {name:<12}{row['count']:>7} {row['p50_ms']:>7} {row['p95_ms']:>7} {row['p99_ms']:>7} "
              f"{row['max_ms']:>7}")
    print(f"per second: {entry['per_second']}")
    print(f"status codes (whole run, {run['requests']} requests): {run['status_counts']}; 5xx: "
          f"{run['server_errors']}; transport errors: {run['transport_errors'] or 0}")
    trades = figures["trades"]
    print(f"trades: {trades['count']} ({trades['tonnes_t']} t) settled during the run")
    server = (f"; server {figures['server_cpu_s']} s = {figures['server_cpu_ms_per_operation']} ms per operation"
              if "server_cpu_s" in figures else "")
    print(f"CPU: load generator {figures['loadgen_cpu_s']} s{server}; machine busy "
          f"{figures.get('machine_cpu_busy_pct', '?')}% of {figures.get('cpus', '?')} CPUs during the run "
          f"(load average before {figures.get('load_average_before', '?')})")
    check = figures.get("ledger_check")
    if check is None:
        print("ledger check: skipped")
    else:
        print(f"ledger check (GET /ledger/check as operator): {'SOUND' if check.get('ok') else 'FAILED'}; "
              f"{check.get('entries_checked', '?')} entries, {check.get('batches_checked', '?')} batches"
              + ("" if check.get("ok") else f"; problems: {check.get('problems', [])[:5]}"))
    print(f"exit status {figures['exit_status']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.loadgen", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--traders", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--max-orders", type=int, default=1_000_000)
    parser.add_argument("--rate", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cancel-share", type=float, default=0.2)
    parser.add_argument("--cross-share", type=float, default=0.3)
    parser.add_argument("--max-qty", type=int, default=20)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--instrument", default=DEFAULT_INSTRUMENT)
    parser.add_argument("--instruments", type=int, default=1)
    parser.add_argument("--vintage", type=int, default=None)
    parser.add_argument("--reference-price", type=int, default=5000)
    parser.add_argument("--band-bp", type=int, default=1000)
    parser.add_argument("--prefix", default="loadgen")
    parser.add_argument("--server-pid", type=int, action="append", default=[])
    parser.add_argument("--skip-ledger-check", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    problems = [text for bad, text in (
        (not 1 <= args.clients <= 512, "--clients must be 1..512"),
        (args.traders is not None and not 1 <= args.traders <= 512, "--traders must be 1..512"),
        (not 0 < args.seconds <= 1800, "--seconds must be in (0, 1800]"),
        (not 0 <= args.warmup <= 300, "--warmup must be in [0, 300]"),
        (not 1 <= args.max_orders <= 10_000_000, "--max-orders must be 1..10,000,000"),
        (args.rate < 0, "--rate must not be negative"),
        (not 0 <= args.cancel_share <= 1 or not 0 <= args.cross_share <= 1, "shares lie in [0, 1]"),
        (not 1 <= args.max_qty <= 1_000_000, "--max-qty must be 1..1,000,000"),
        (not 1 <= args.batch <= ORDER_BATCH_MAX, f"--batch must be 1..{ORDER_BATCH_MAX}"),
        (not 1 <= args.instruments <= 16, "--instruments must be 1..16"),
    ) if bad]
    try:
        check_local(args.url)
    except SystemExit as refusal:
        problems.append(str(refusal))
    if problems:
        parser.error("; ".join(problems))
    settings = get_settings()
    from api.app import build_registry

    registry = build_registry(settings)
    traders = args.traders or args.clients
    started = time.perf_counter()
    markets = [prepare_market(settings, traders=traders, prefix=args.prefix,
                              instrument=args.instrument if k == 0 else f"{args.instrument}-{k + 1}",
                              vintage=args.vintage + k if args.vintage else None,
                              reference_price_fen=args.reference_price, band_bp=args.band_bp, registry=registry)
               for k in range(args.instruments)]
    prepared_s = time.perf_counter() - started
    if not args.json:
        names = ", ".join(f"{m.instrument} (vintage {m.vintage})" for m in markets)
        print(f"prepared {traders} traders and {names} in {prepared_s:.1f} s", flush=True)
    last_trades = [trades_since(registry, m.instrument_id, 0)[2] for m in markets]
    options = LoadOptions(clients=args.clients, seconds=args.seconds, warmup=args.warmup, max_orders=args.max_orders,
                          rate=args.rate, seed=args.seed, cancel_share=args.cancel_share,
                          cross_share=args.cross_share, max_qty=args.max_qty, batch=args.batch)
    load_average = _load_average()
    cpu_before = _machine_cpu()
    server_before = _servers_cpu_s(args.server_pid)
    result = run_load(args.url, markets, options)
    server_after = _servers_cpu_s(args.server_pid)
    cpu_after = _machine_cpu()
    figures: dict[str, Any] = {"config": {"url": args.url, "clients": args.clients, "traders": traders,
                                          "instruments": [m.instrument for m in markets], "seed": args.seed,
                                          "warmup": args.warmup,
                                          "seconds": args.seconds, "rate": args.rate, "max_orders": args.max_orders,
                                          "cancel_share": args.cancel_share, "cross_share": args.cross_share,
                                          "batch": args.batch},
                               "prepare_s": round(prepared_s, 2), **summarise(result)}
    settled = [trades_since(registry, m.instrument_id, last) for m, last in zip(markets, last_trades, strict=True)]
    figures["trades"] = {"count": sum(c for c, _, _ in settled), "tonnes_t": sum(t for _, t, _ in settled)}
    if cpu_before and cpu_after and cpu_after[1] > cpu_before[1]:
        figures["machine_cpu_busy_pct"] = round(
            100.0 * (cpu_after[0] - cpu_before[0]) / (cpu_after[1] - cpu_before[1]), 1)
    figures["cpus"] = os.cpu_count()
    figures["load_average_before"] = load_average
    if server_before is not None and server_after is not None:
        figures["server_cpu_s"] = round(server_after - server_before, 2)
        figures["server_cpu_ms_per_operation"] = round(  # per order, cancel or depth read
            1000 * (server_after - server_before) / max(len(result.ops), 1), 2)
    check = None if args.skip_ledger_check else ledger_check(args.url, markets[0].operator)
    if check is not None:
        figures["ledger_check"] = {k: check.get(k) for k in ("ok", "entries_checked", "batches_checked", "problems")}
    failed = result.server_errors() > 0 or bool(result.errors) or (check is not None and not check.get("ok"))
    figures["exit_status"] = 1 if failed else 0
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))
    else:
        _print_text(figures)
    registry.engine.dispose()
    return int(figures["exit_status"])


if __name__ == "__main__":
    sys.exit(main())
