"""Bank conservation under faults, in the manner of Jepsen's bank test.

Clients transfer credits to each other, retire credits and trade (orders that cross) over HTTP against two
API server processes, while the test, in seeded rounds, injects one fault at a time:
- kill: kill -9 an API process, then start it again;
- terminate: pg_terminate_backend on every session of the app's role on this run's database (as the owner);
- redis: stop the servers' Redis (a private redis-server of this test), then start it again, empty;
- postgres: stop the TCP proxy the servers reach PostgreSQL through (their connections die and new ones are
  refused), then start it again.
After each fault is healed the test waits until the servers complete operations again (no help given).

Every operation is classified ok / refused / unknown (tests/load/operations.py); afterwards each unknown one is
retried with its key until it gets a definite answer. Then, with the servers stopped, through the database:
- the ledger check is sound (every entry balances, each batch's credits conserved) and, per asset, the
  traders' credits and cash are what their starting amounts and every operation that took effect make them
  (a bank test's total, per trader rather than only in sum);
- no idempotency key took effect twice (one transfer per key, one retirement per key, one order per client
  order id), every ok is in the database, and nothing refused took effect;
- the book in the database is not crossed.
The counts of each class, each fault injected and the recovery after each are printed.
"""

from __future__ import annotations

import os
import random
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from api.app import build_registry
from api.settings import Settings
from registry.services import ledger_check
from tests.fault_injection import (
    PrivateRedis,
    ServerProcess,
    TcpProxy,
    free_port,
    server_env,
    terminate_service_sessions,
    through_proxy,
    upstream_of,
    wait_for,
)
from tests.load.checks import assert_book_not_crossed
from tests.load.operations import OK, UNKNOWN, counts, resolve
from tests.load.workload import (
    Clients,
    balances_by_participant,
    check_conservation,
    check_every_answer_in_the_database,
    effects,
    open_bank,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

SEED = int(os.environ.get("CARBONX_FAULT_SEED", "15"))
CLIENTS = 6
SERVERS = 2
FAULTS = ("kill", "terminate", "redis", "postgres")
ROUNDS = 8  # each fault twice, in a seeded order
OPS_BETWEEN_FAULTS = 25  # operations completed before the next fault
OPS_DURING_OUTAGE = 20  # operations answered while Redis or PostgreSQL is away, before it comes back
OK_AFTER_HEAL = 5  # ok operations after a fault was healed: the servers have recovered
RECOVERY_BOUND_S = 45.0
# A request not answered within this is abandoned as unknown (and resolved afterwards with its key); short, so
# that a client waiting on an answer lost with Redis does not hold the test up.
CLIENT_TIMEOUT_S = float(os.environ.get("CARBONX_FAULT_CLIENT_TIMEOUT_S", "5"))


class Faults:
    """The fault injector: one fault at a time, healed, then waited out until the servers serve again."""

    def __init__(self, servers: list[ServerProcess], redis_server: PrivateRedis, proxy: TcpProxy,
                 owner_url: str, clients: Clients) -> None:
        self.servers, self.redis, self.proxy, self.owner_url, self.clients = (
            servers, redis_server, proxy, owner_url, clients)
        self.injected: Counter[str] = Counter()
        self.log: list[str] = []

    def inject(self, fault: str, rng: random.Random) -> None:
        began = time.monotonic()
        mark = self.clients.done()
        detail = ""
        if fault == "kill":
            server = rng.choice(self.servers)
            server.kill_dash_nine()
            started_in = server.start()
            detail = f"pid killed, restarted in {started_in:.1f} s"
        elif fault == "terminate":
            detail = f"{terminate_service_sessions(self.owner_url)} sessions ended"
        elif fault == "redis":
            self.redis.stop()
            self._answered_since(mark, OPS_DURING_OUTAGE, "while Redis was down")
            self.redis.start()
        elif fault == "postgres":
            cut = self.proxy.stop()
            self._answered_since(mark, OPS_DURING_OUTAGE, "while PostgreSQL was away")
            self.proxy.start()
            detail = f"{cut} connections cut"
        healed = time.monotonic()
        heal_mark = self.clients.done()
        recovered_in = wait_for(lambda: sum(1 for op in self.clients.since(heal_mark) if op.outcome == OK)
                                >= OK_AFTER_HEAL, RECOVERY_BOUND_S, f"no recovery after {fault}")
        self.injected[fault] += 1
        self.log.append(f"{fault}: down {healed - began:.1f} s, serving again {recovered_in:.1f} s after the heal"
                        + (f" ({detail})" if detail else ""))

    def _answered_since(self, mark: int, n: int, what: str) -> None:
        """Hold the fault until the clients have had `n` answers to operations sent during it, at least one of
        them not ok (the fault was felt)."""
        def felt() -> bool:
            answered = [op for op in self.clients.since(mark) if op.status is not None and op.started > began]
            return len(answered) >= n and any(op.outcome != OK for op in answered)

        began = time.monotonic()
        wait_for(felt, RECOVERY_BOUND_S, f"no answers {what}")


def test_bank_conservation_under_faults(postgres_url: str, postgres_owner_url: str, tmp_path: Path) -> None:
    began = time.monotonic()
    rng = random.Random(SEED)
    run = uuid.uuid4().hex[:6]
    redis_server = PrivateRedis(tmp_path / "redis.log")
    redis_server.start()
    proxy = TcpProxy(*upstream_of(postgres_url))
    proxy.start()
    secret = f"bank-test-{uuid.uuid4().hex}"
    settings = Settings(database_url=postgres_url, redis_url=redis_server.url, jwt_secret=SecretStr(secret),
                        data_dir=tmp_path / "data", rate_limit_per_minute=10_000_000)
    registry = build_registry(settings)
    bank = open_bank(settings, registry, CLIENTS, run)
    market, participants = bank.market, bank.participants
    start = balances_by_participant(registry, participants)
    env = server_env(through_proxy(postgres_url, proxy), redis_server.url, tmp_path / "data", secret,
                     CARBONX_AUTO_EXECUTE_RETIREMENTS="true")
    servers = [ServerProcess(free_port(), env, tmp_path / f"server-{i}.log") for i in range(SERVERS)]
    urls = [s.url for s in servers]
    clients = Clients(bank, urls, SEED, CLIENT_TIMEOUT_S)
    faults = Faults(servers, redis_server, proxy, postgres_owner_url, clients)
    try:
        starters = [threading.Thread(target=s.start) for s in servers]
        for starter in starters:
            starter.start()
        for starter in starters:
            starter.join()
        assert all(s.alive() for s in servers), [s.tail() for s in servers]
        clients.start()
        schedule = [*FAULTS, *FAULTS]
        rng.shuffle(schedule)
        for fault in schedule[:ROUNDS]:
            mark = clients.done()
            wait_for(lambda m=mark: clients.done() >= m + OPS_BETWEEN_FAULTS,  # type: ignore[misc]
                     RECOVERY_BOUND_S, "the clients stalled")
            faults.inject(fault, rng)
        clients.join()
        ops = clients.ops
        first = counts(ops)
        status_counts = Counter(op.status for op in ops)
        not_ok = Counter(f"{op.status} {op.error}" for op in ops if op.outcome != OK)
        unknown = [op for op in ops if op.outcome == UNKNOWN]
        already = effects(registry, ops, market)
        unknown_done = Counter(f"{op.status} {op.error}" for op in unknown if already[op.kind][op.key])
        with httpx.Client() as client:
            for op in unknown:
                resolve(client, urls, op, request_timeout_s=CLIENT_TIMEOUT_S * 4)
        resolved = Counter(op.outcome for op in unknown)
    finally:
        for server in servers:
            server.stop()
        proxy.stop()
        redis_server.stop()
    print(f"\nbank under faults (seed {SEED}): {len(ops)} operations, classes {first}; "
          f"unknown resolved by retry with the key: {dict(resolved)}")
    print(f"status codes: {dict(status_counts)}; not ok by answer: {dict(not_ok)}")
    print(f"unknown operations that had taken effect before their retry: {dict(unknown_done)}")
    print(f"faults injected: {dict(faults.injected)}")
    for line in faults.log:
        print(f"  {line}")
    try:
        assert 500 not in status_counts, [op.answer for op in ops if op.status == 500][:3]
        assert first["all"].get(OK, 0) > 0
        check_every_answer_in_the_database(registry, ops, market)
        check_conservation(registry, ops, participants, start, market)
        with registry.uow() as uow:
            report = ledger_check.check(uow)
        assert report.ok, report.problems
        assert_book_not_crossed(registry, market.instrument_id)
    finally:
        registry.engine.dispose()
    print(f"bank test took {time.monotonic() - began:.0f} s")
