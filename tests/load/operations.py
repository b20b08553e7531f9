"""Operations of the fault tests' clients, each classified as Jepsen does: ok (it took effect), refused (it
certainly did not) or unknown (it may have: a timeout, a dropped connection, a 5xx).

A request that never reached a server (connection refused) is refused. An answer 503 is unknown: the
server could not complete the request, but a commit that was cut off may have reached the database before the
connection died, so the client cannot know; it retries with the same key to learn (`resolve`). Every operation
carries an idempotency key (Idempotency-Key, or the order's client_order_id) so that a retry never doubles it.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

OK, REFUSED, UNKNOWN = "ok", "refused", "unknown"
CLIENT_TIMEOUT_S = 20.0  # a request not answered within this is unknown (and a hang past the bound)


@dataclass
class Operation:
    kind: str  # "transfer", "retire", "order"
    key: str
    trader: int  # index of the client's trader
    method: str
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    outcome: str = ""
    status: int | None = None  # the HTTP status, None when there was no answer
    error: str = ""  # the transport error or the problem's code
    answer: dict[str, Any] = field(default_factory=dict)
    retry_after: str | None = None
    started: float = 0.0
    finished: float = 0.0
    attempts: list[tuple[int | None, str]] = field(default_factory=list)  # every (status, error) seen
    url: str = ""  # the server of the last attempt


def send(client: httpx.Client, url: str, op: Operation, timeout_s: float = CLIENT_TIMEOUT_S) -> Operation:
    """Send the operation once to `url` and classify what came back."""
    op.started, op.url = time.monotonic(), url
    try:
        response = client.request(op.method, f"{url}{op.path}", json=op.body, headers=op.headers,
                                  timeout=httpx.Timeout(timeout_s, connect=3.0))
    except httpx.ConnectError as exc:  # never reached a server: nothing was sent
        op.outcome, op.status, op.error = REFUSED, None, f"connect: {type(exc).__name__}"
    except httpx.TransportError as exc:  # a timeout, a connection dropped mid-request: it may have happened
        op.outcome, op.status, op.error = UNKNOWN, None, type(exc).__name__
    else:
        op.status = response.status_code
        op.retry_after = response.headers.get("Retry-After")
        try:
            op.answer = response.json()
        except ValueError:
            op.answer = {"text": response.text[:500]}
        op.error = str(op.answer.get("code", "")) if response.status_code >= 400 else ""
        if 200 <= response.status_code < 300:
            op.outcome = OK
        elif 400 <= response.status_code < 500:
            op.outcome = REFUSED
        else:
            op.outcome = UNKNOWN
    op.finished = time.monotonic()
    op.attempts.append((op.status, op.error))
    return op


def resolve(client: httpx.Client, urls: list[str], op: Operation, timeout_s: float = 60.0,
            request_timeout_s: float = CLIENT_TIMEOUT_S) -> Operation:
    """Retry an unknown operation with the same key until it gets a definite answer (ok or refused by a
    server that answered), and keep that as its outcome."""
    deadline = time.monotonic() + timeout_s
    n = 0
    while True:
        send(client, urls[n % len(urls)], op, request_timeout_s)
        n += 1
        if op.outcome == OK or (op.outcome == REFUSED and op.status is not None):
            return op
        if time.monotonic() > deadline:
            raise AssertionError(f"{op.kind} {op.key} got no definite answer within {timeout_s} s: {op.attempts}")
        time.sleep(0.2)  # pacing between retries of an unavailable service


def counts(ops: list[Operation]) -> dict[str, dict[str, int]]:
    """Outcomes by kind of operation, and in all."""
    table: dict[str, Counter[str]] = {}
    for op in ops:
        table.setdefault(op.kind, Counter())[op.outcome] += 1
        table.setdefault("all", Counter())[op.outcome] += 1
    return {kind: dict(c) for kind, c in table.items()}
