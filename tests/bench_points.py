"""Ingestion benchmark of residents' behaviour records through the HTTP API (issue 18): a command that prints
figures, never a timed test.

    python -m tests.bench_points --residents 1000000 --batches 200 --clients 4

Makes a throw-away PostgreSQL database on CARBONX_TEST_POSTGRES_URL's server (migrated by its owner, served as
the least-privilege role, as in production), with Redis from CARBONX_TEST_REDIS_URL for the API's gate; seeds
`--residents` open accounts with consent (plain SQL, as the owner: seeding is not what is measured), starts the
app on a loopback port and posts `--batches` batches of `--size` records from `--clients` threads, each record
of a random resident in the last hours, so dedup, consent, overlap and the caps are all applied. It prints
records accepted per second and the p50/p99 per batch, beside a floor measured in the same run: the same
batches posted to a scenario that does not exist (parsing, authentication and the 404, nothing judged).
The database is dropped afterwards.
"""

from __future__ import annotations

import argparse
import functools
import random
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import redis
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.engine import make_url

from api.app import build_registry, create_app
from api.kv import RedisStore
from api.settings import Settings
from api.tokens import issue_token
from registry.database import make_engine, normalise_url
from registry.migrate import migrate
from registry.services import participants, scenarios
from tests.api.test_points import registered_project
from tests.conftest import POSTGRES_URL, REDIS_CLAIM_SECONDS, REDIS_URL, SERVICE_ROLE
from tests.support import free_port, served


def _database() -> tuple[str, str, str]:
    """A fresh database: (admin DSN, owner URL, service URL)."""
    url = make_url(normalise_url(POSTGRES_URL))
    admin = url.set(drivername="postgresql", database=url.database or "postgres").render_as_string(
        hide_password=False)
    name = f"carbonx_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    owner = url.set(database=name).render_as_string(hide_password=False)
    service = url.set(database=name, username=SERVICE_ROLE, password=None).render_as_string(hide_password=False)
    migrate(owner, service)
    return admin, owner, service


def _claim_redis() -> tuple[str, Callable[[], object]]:
    """A Redis database no test run on this server uses meanwhile (claimed as tests/conftest.py claims one), and
    how to give it back: the API's gate counts requests there, and another run's counters must not mix in."""
    claims = redis.Redis.from_url(REDIS_URL, db=0)
    run = uuid.uuid4().hex
    for db in range(15, 0, -1):
        if claims.set(f"carbonx-test:redis-db:{db}", run, nx=True, ex=REDIS_CLAIM_SECONDS):
            url = urlunsplit(urlsplit(REDIS_URL)._replace(path=f"/{db}"))
            return url, functools.partial(claims.delete, f"carbonx-test:redis-db:{db}")
    raise SystemExit("every Redis database 1-15 is claimed by a test run on this server")


def _seed(owner_url: str, scenario_id: int, residents: int) -> None:
    engine = make_engine(owner_url)
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL statement_timeout = 0"))  # a million rows take longer than a request may
        conn.execute(text(
            "INSERT INTO resident_accounts (reference, user_id, display_name, status, created_at) "
            "SELECT 'B' || g, NULL, 'bench', 'open', now() FROM generate_series(1, :n) g"), {"n": residents})
        conn.execute(text(
            "INSERT INTO resident_consents (account_id, scenario_id, granted_at) "
            "SELECT id, :s, now() - interval '30 days' FROM resident_accounts"), {"s": scenario_id})
        conn.execute(text("ANALYZE"))
    engine.dispose()


def _batches(count: int, size: int, residents: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    out = []
    for b in range(count):
        records = []
        for k in range(size):
            start = now - timedelta(seconds=rng.randrange(60, 6 * 3600))
            records.append({"record_ref": f"b{b}-{k}", "account_ref": f"B{rng.randrange(1, residents + 1)}",
                            "started_at": start.isoformat(), "ended_at": (start + timedelta(minutes=15)).isoformat(),
                            "activity": {"distance_m": rng.randrange(500, 8000)}})
        out.append({"records": records})
    return out


def _run(base: str, headers: dict[str, str], path: str, batches: list[dict[str, Any]],
         clients: int) -> tuple[float, list[float], int]:
    """Post the batches from `clients` threads: (seconds, per-batch seconds, records answered)."""
    latencies: list[float] = []
    answered = [0]
    lock = threading.Lock()
    queue = list(reversed(batches))

    def work() -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=120) as http:
            while True:
                with lock:
                    if not queue:
                        return
                    body = queue.pop()
                began = time.perf_counter()
                response = http.post(path, json=body)
                took = time.perf_counter() - began
                with lock:
                    latencies.append(took)
                    if response.status_code == 200:
                        answered[0] += response.json()["accepted"] + response.json()["capped"]

    began = time.perf_counter()
    threads = [threading.Thread(target=work) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began, latencies, answered[0]


def _p(latencies: list[float], q: float) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench_points", description=__doc__.split("\n\n")[0])
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    admin, owner_url, service_url = _database()
    redis_url, release_redis = _claim_redis()
    try:
        settings = Settings(database_url=service_url, redis_url=redis_url,
                            jwt_secret=SecretStr("bench-" + "x" * 40), rate_limit_per_minute=10**9)
        registry = build_registry(settings)
        with registry.uow() as uow:
            org = participants.create_participant(uow, name="bench metro", kind="enterprise", credit_code=None)
            user = participants.create_user(uow, participant_id=org.id, username="bench_op", password="bench-pass-123",
                                            display_name="bench", roles=["owner"])
            uow.commit()
            user_id, participant_id = user.id, org.id
        with registry.uow() as uow:
            operator = participants.load_principal(uow, user_id)
        assert operator is not None
        project_id = registered_project(registry, participant_id, "bench")
        terms = scenarios.ScenarioTerms(
            code="JX-BENCH", title_zh="基准", title_en="bench", behaviour="metro", activity_key="distance_m",
            baseline_g_per_km=100, mode_g_per_km=25, parameter_versions={}, max_grams_per_record=1000,
            daily_grams=3000, yearly_points=10**6, late_days=7, points_per_kg=10, duplicate_window_s=60,
            max_accounts_per_device=3)
        with registry.uow(operator) as uow:
            scenario_id = scenarios.register(uow, operator, project_id, terms).id
        began = time.perf_counter()
        _seed(owner_url, scenario_id, args.residents)
        print(f"seeded {args.residents:,} residents with consent in {time.perf_counter() - began:.1f} s")
        kv = RedisStore(redis_url)
        kv.client.flushdb()
        app = create_app(settings, registry=registry, kv=kv)
        token, _ = issue_token(settings, user_id, registry.clock.now())
        headers = {"Authorization": f"Bearer {token}"}
        batches = _batches(args.batches, args.size, args.residents, args.seed)
        with served(app, free_port(), limit_concurrency=200) as base:
            floor_s, floor_lat, _ = _run(base, headers, "/scenarios/999999/records", batches, args.clients)
            run_s, lat, counted = _run(base, headers, f"/scenarios/{scenario_id}/records", batches, args.clients)
            _, replay_lat, _ = _run(base, headers, f"/scenarios/{scenario_id}/records", batches[:10],
                                           args.clients)
        total = args.batches * args.size
        print(f"floor (parse + auth + 404): {total / floor_s:,.0f} records/s, "
              f"p50 {statistics.median(floor_lat) * 1000:.0f} ms, p99 {_p(floor_lat, 0.99):.0f} ms per batch")
        print(f"ingest: {total / run_s:,.0f} records/s judged ({counted:,} counted), "
              f"p50 {statistics.median(lat) * 1000:.0f} ms, p99 {_p(lat, 0.99):.0f} ms per batch of {args.size}")
        print(f"re-post (replay, nothing created): p50 {statistics.median(replay_lat) * 1000:.0f} ms per batch")
        registry.engine.dispose()
    finally:
        release_redis()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{make_url(owner_url).database}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
