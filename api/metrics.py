"""Observing the service: Prometheus metrics (served at GET /metrics) and the request middleware that gives
every request an id, counts and times it, and writes its log line.

The metrics live in prometheus_client's process-wide registry, next to its process and Python collectors.
With several uvicorn workers each process counts its own; scrape each worker, or run one per container.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Iterable
from typing import Any

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.logging_setup import request_id_var

log = logging.getLogger("carbonx.http")

HTTP_REQUESTS = Counter("carbonx_http_requests", "HTTP requests answered, by route template, method and status",
                        ["route", "method", "status"])
HTTP_SECONDS = Histogram("carbonx_http_request_duration_seconds", "Time to answer an HTTP request",
                         ["route", "method"], buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
EXCHANGE_COMMANDS = Counter("carbonx_exchange_commands", "Commands the exchange writers finished, by kind "
                            "(place, cancel, amend, pick, ...) and outcome (accepted or rejected)",
                            ["command", "outcome"])
TRADES = Counter("carbonx_exchange_trades", "Trades committed, by trade mode", ["mode"])
TRADED_TONNES = Counter("carbonx_exchange_traded_tonnes", "Tonnes traded in committed trades, by trade mode",
                        ["mode"])
SETTLEMENT_SECONDS = Histogram("carbonx_exchange_settlement_seconds", "Time to settle one trade in the ledger",
                               buckets=(.0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1))
COMMIT_SECONDS = Histogram("carbonx_exchange_commit_seconds", "Time to commit one writer batch",
                           buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5))
BOOK_QUARANTINED = Counter("carbonx_exchange_quarantined", "Rows a book's rebuild could not hold and quarantined "
                           "(cancelled, holds released), by kind (order, listing, auction, bid, proposal): each "
                           "one is an alert for the operator", ["kind"])
OWNERSHIP_PASSES = Counter("carbonx_ownership_monitor_passes", "Passes of this process's book ownership monitor "
                           "(each tries to take unowned books and probes the locks held)")
BOOKS_LOST = Counter("carbonx_ownership_books_lost", "Books this process found it no longer owned, by how it "
                     "found out (probe: its lock session failed or another took the book; fenced: a writer's "
                     "commit found a newer epoch)", ["how"])
BATCH_SIZE = Histogram("carbonx_exchange_batch_commands", "Commands per writer batch (one transaction)",
                       buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512))

# A client's X-Request-ID is used when it is this safe; otherwise the request gets a new id.
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,64}$")


def writer_batch_committed(commands: Iterable[tuple[str, bool]], commit_seconds: float) -> None:
    """An exchange writer committed a batch: (command kind, accepted) per command."""
    size = 0
    for kind, accepted in commands:
        EXCHANGE_COMMANDS.labels(kind, "accepted" if accepted else "rejected").inc()
        size += 1
    BATCH_SIZE.observe(size)
    COMMIT_SECONDS.observe(commit_seconds)


def trade_committed(mode: str, quantity_t: int) -> None:
    """A trade of the engine's mode (CONTINUOUS, LISTING, ...) was committed."""
    TRADES.labels(mode.lower()).inc()
    TRADED_TONNES.labels(mode.lower()).inc(quantity_t)


_observers: dict[tuple[str, str, str], tuple[Any, Any]] = {}


def _observer(route: str, method: str, status: str) -> tuple[Any, Any]:
    """The request counter and duration histogram of one route, method and status, looked up once: `labels()`
    takes a lock and builds a key on every call. Route templates, methods and statuses are few."""
    found = _observers.get((route, method, status))
    if found is None:
        found = _observers[(route, method, status)] = (HTTP_REQUESTS.labels(route, method, status),
                                                       HTTP_SECONDS.labels(route, method))
    return found


class ObserveRequests:
    """Outermost middleware: request id (from X-Request-ID when valid, else new; echoed in the response
    header and in problem documents), metrics by route template, and one log line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = offered if REQUEST_ID.match(offered) else uuid.uuid4().hex
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500  # what the client gets if the app fails before it answers

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                message["headers"] = [*headers, (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"  # a template, never the raw path
            requests, seconds = _observer(route, scope["method"], str(status))
            requests.inc()
            seconds.observe(elapsed)
            if log.isEnabledFor(logging.INFO):  # the line's fields are only gathered for a line that is written
                log.info("%s %s %d", scope["method"], scope["path"], status, extra={
                    "request_id": request_id, "method": scope["method"], "path": scope["path"], "status": status,
                    "duration_ms": round(elapsed * 1000, 1), "principal_id": state.get("principal_id")})
            request_id_var.reset(token)
