"""PostgreSQL "restarted" under load: the servers reach PostgreSQL through a TCP proxy of the test's own; the
test stops the proxy while clients trade and transfer (every live connection dies, new ones are refused: what a
restart or a failover looks like to a client), holds the outage until every client has been answered during it,
then starts the proxy again and leaves the servers to recover by themselves.

Checked: while the database is away every request sent is answered 503 with Retry-After (never 500, never
another status, and never a hang past the client's bound); the servers recover without help (the recovery time,
until each server has completed an operation again, is printed, not asserted); nothing acknowledged is lost and
nothing refused took effect (tests/load/workload.py), after the unknown operations were retried with their keys;
each trader's credits and cash are conserved; the books are rebuilt (both servers show the book of record) and
the book in the database is not crossed; the ledger check is sound.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from api.app import build_registry
from api.exchange.writer import ANSWER_TIMEOUT_S
from api.settings import Settings
from registry.services import ledger_check
from tests.fault_injection import (
    PrivateRedis,
    ServerProcess,
    TcpProxy,
    free_port,
    server_env,
    through_proxy,
    upstream_of,
    wait_for,
)
from tests.load.checks import assert_book_not_crossed, book_of_record, shown_book
from tests.load.operations import OK, UNKNOWN, counts, resolve
from tests.load.workload import (
    Clients,
    balances_by_participant,
    check_conservation,
    check_every_answer_in_the_database,
    open_bank,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

SEED = int(os.environ.get("CARBONX_FAULT_SEED", "15"))
CLIENTS = 4
SERVERS = 2
OK_BEFORE = 30  # ok operations before the outage
ANSWERS_DURING = 10  # answers each client gets to requests sent during the outage, before it ends
OK_AFTER = 30  # ok operations after the recovery
BOUND_S = 60.0  # for each wait on a condition
# The bound on a hang: a request unanswered this long (past the exchange's own answer timeout) counts as hung.
CLIENT_TIMEOUT_S = ANSWER_TIMEOUT_S + 10


def test_postgres_restarted_under_load(postgres_url: str, tmp_path: Path) -> None:
    began = time.monotonic()
    run = uuid.uuid4().hex[:6]
    redis_server = PrivateRedis(tmp_path / "redis.log")
    redis_server.start()
    proxy = TcpProxy(*upstream_of(postgres_url))
    proxy.start()
    secret = f"outage-test-{uuid.uuid4().hex}"
    settings = Settings(database_url=postgres_url, redis_url=redis_server.url, jwt_secret=SecretStr(secret),
                        data_dir=tmp_path / "data", rate_limit_per_minute=10_000_000)
    registry = build_registry(settings)
    bank = open_bank(settings, registry, CLIENTS, run)
    market, participants = bank.market, bank.participants
    start = balances_by_participant(registry, participants)
    env = server_env(through_proxy(postgres_url, proxy), redis_server.url, tmp_path / "data", secret)
    servers = [ServerProcess(free_port(), env, tmp_path / f"server-{i}.log") for i in range(SERVERS)]
    urls = [s.url for s in servers]
    clients = Clients(bank, urls, SEED, CLIENT_TIMEOUT_S, kinds="transfer order")
    try:
        starters = [threading.Thread(target=s.start) for s in servers]
        for starter in starters:
            starter.start()
        for starter in starters:
            starter.join()
        assert all(s.alive() for s in servers), [s.tail() for s in servers]
        clients.start()
        wait_for(lambda: sum(op.outcome == OK for op in clients.since(0)) >= OK_BEFORE, BOUND_S,
                 "no load before the outage")

        mark = clients.done()
        cut = proxy.stop()
        stopped_at = time.monotonic()  # from here until restarted_at, PostgreSQL is out of reach

        def every_client_answered_during_the_outage() -> bool:
            during = Counter(op.trader for op in clients.since(mark)
                             if op.started > stopped_at and op.status is not None)
            return all(during[t] >= ANSWERS_DURING for t in range(CLIENTS))

        wait_for(every_client_answered_during_the_outage, BOUND_S, "the clients were not answered during the outage")
        restarted_at = time.monotonic()
        restart_mark = clients.done()
        proxy.start()
        recovered: dict[str, float] = {}

        def every_server_completed_again() -> bool:
            for op in clients.since(restart_mark):
                if op.outcome == OK and op.started > restarted_at and op.url not in recovered:
                    recovered[op.url] = op.finished - restarted_at
            return len(recovered) == SERVERS

        wait_for(every_server_completed_again, BOUND_S, "the servers did not recover by themselves")
        wait_for(lambda: sum(op.outcome == OK for op in clients.since(restart_mark)) >= OK_AFTER, BOUND_S,
                 "no load after the recovery")
        clients.join()
        ops = clients.ops
        # What the requests sent during the outage were answered (before the unknown ones are retried).
        during = [(op.kind, op.status, op.retry_after, op.error, dict(op.answer)) for op in ops
                  if op.started > stopped_at and op.finished < restarted_at]
        classes = counts(ops)
        unknown = [op for op in ops if op.outcome == UNKNOWN]
        with httpx.Client() as client:
            for op in unknown:
                resolve(client, urls, op, request_timeout_s=CLIENT_TIMEOUT_S)
        resolved = Counter(op.outcome for op in unknown)
        book = book_of_record(registry, market.instrument_id)
        shown = {url: shown_book(url, market.instrument) for url in urls}
    finally:
        for server in servers:
            server.stop()
        proxy.stop()
        redis_server.stop()
    statuses = Counter(op.status for op in ops)
    print(f"\nPostgreSQL outage under load (seed {SEED}): {cut} connections cut, down "
          f"{restarted_at - stopped_at:.1f} s; recovery after the restart: "
          + ", ".join(f"server {urls.index(url)} {s:.2f} s" for url, s in sorted(recovered.items()))
          + f"; during the outage: {dict(Counter(f'{status} {error}' for _, status, _, error, _ in during))}")
    print(f"{len(ops)} operations, classes {classes}, unknown resolved {dict(resolved)}, status codes "
          f"{dict(statuses)}")
    try:
        assert during, "no request was sent during the outage"
        wrong = [(kind, status, error, answer) for kind, status, retry_after, error, answer in during
                 if status != 503 or not retry_after]
        assert not wrong, f"answers during the outage other than 503 with Retry-After: {wrong[:5]}"
        assert 500 not in statuses, [op.answer for op in ops if op.status == 500][:3]
        check_every_answer_in_the_database(registry, ops, market)
        check_conservation(registry, ops, participants, start, market)
        assert_book_not_crossed(registry, market.instrument_id)
        for url, seen in shown.items():
            assert seen == book, f"server {url} shows {seen}, the database holds {book}"
        with registry.uow() as uow:
            report = ledger_check.check(uow)
        assert report.ok, report.problems
    finally:
        registry.engine.dispose()
    print(f"database outage test took {time.monotonic() - began:.0f} s")


def test_a_commit_cut_off_by_the_database_is_answered_503_and_the_key_makes_the_retry_safe(
        postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL goes away just as a transfer commits (the proxy cuts the connection after the transaction's last
    write, before its COMMIT). Whether a COMMIT reached the server is then unknown to the service: it must answer
    503 with Retry-After (not 409, which is a refusal: the bank test saw a transfer answered 409 that had taken
    effect), and the client's retry with the same Idempotency-Key, once the database is back, moves the credits
    once."""
    from fastapi.testclient import TestClient
    from sqlalchemy import select

    from api.app import create_app
    from api.kv import MemoryStore
    from registry.orm import JournalEntry
    from registry.unit_of_work import UnitOfWork

    proxy = TcpProxy(*upstream_of(postgres_url))
    proxy.start()
    secret = f"outage-test-{uuid.uuid4().hex}"
    direct = Settings(database_url=postgres_url, jwt_secret=SecretStr(secret), data_dir=tmp_path)
    registry = build_registry(direct)
    bank = open_bank(direct, registry, 2, uuid.uuid4().hex[:6])
    proxied = Settings(database_url=through_proxy(postgres_url, proxy), jwt_secret=SecretStr(secret),
                       data_dir=tmp_path, rate_limit_per_minute=10_000)
    last_write = UnitOfWork._write_audit  # the commit's last step before COMMIT itself
    cut: list[int] = []

    def then_the_database_goes_away(uow: UnitOfWork) -> None:
        last_write(uow)
        if not cut:
            cut.append(proxy.stop())

    key = f"{bank.run}-cut"
    request = {"to_account_code": bank.accounts[1], "quantity_t": 2, "memo": key}
    headers = {**bank.market.traders[0].headers, "Idempotency-Key": key}
    app = create_app(proxied, kv=MemoryStore())
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            monkeypatch.setattr(UnitOfWork, "_write_audit", then_the_database_goes_away)
            cut_off = client.post("/transfers", json=request, headers=headers)
            monkeypatch.setattr(UnitOfWork, "_write_audit", last_write)
            proxy.start()
            assert cut and cut[0] > 0, "the transfer's connection was not cut"
            assert cut_off.status_code == 503, cut_off.text
            assert cut_off.headers.get("Retry-After"), cut_off.headers
            retried = client.post("/transfers", json=request, headers=headers)
            assert retried.status_code == 201, retried.text
            again = client.post("/transfers", json=request, headers=headers)
            assert again.json() == retried.json()
    finally:
        proxy.stop()
        app.state.services.registry.engine.dispose()
    with registry.uow() as uow:
        entries = list(uow.session.scalars(select(JournalEntry.id).where(JournalEntry.memo == key)))
    registry.engine.dispose()
    assert entries == [retried.json()["entry_id"]]
