"""Crash test: kill -9 the server while the load generator drives it, restart it under the same load, and
check through the database that no acknowledged order was lost and no trade settled twice.

The server runs as a subprocess (`python -m api serve`) on the session's throw-away PostgreSQL database and
Redis; the load generator (api.loadgen) prepares its own market there and drives the server in-process,
recording every order answered 201. Checks after the restart:
- every acknowledged order exists with its participant, client order id and quantity, and has not filled less
  than its answer said; every acknowledged cancel is cancelled;
- each trade is settled once: (instrument, engine trade id) unique, exactly one trade_payment and one
  trade_delivery journal entry per trade (and none without a trade), each order's filled tonnes equal its
  trades' tonnes;
- holds match orders: each trader's held cash equals its open buys' cash_held_fen and its held credits equal
  its open sells' held serial ranges; orders no longer open hold nothing;
- registry.services.ledger_check is sound (every entry balances, each batch's credits conserved);
- the restarted server still accepts and matches orders, and answered no request with a 5xx.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from api import loadgen
from api.app import build_registry
from api.settings import Settings
from registry import ledger
from registry.context import Registry
from registry.orm import Balance, Instrument, JournalEntry, Order, Trade
from registry.services import holdings, ledger_check

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
CLIENTS = 12
KILL_AFTER_ACKS = 40  # kill -9 once this many orders were acknowledged (and KILL_AFTER_S passed) ...
KILL_AFTER_S = 2.0
KILL_AT_LATEST_S = 8.0  # ... or at the latest then
ACKS_AFTER_RESTART = 40  # then load the restarted server until it acknowledged this many
LOAD_AFTER_RESTART_S = 3.0  # and for at least this long
LOAD_LIMIT_S = 90.0  # the load generator's own bound


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServerProcess:
    """`python -m api serve` on a port, its output in a log file."""

    def __init__(self, port: int, env: dict[str, str], log: Path) -> None:
        self.port, self.env, self.log = port, env, log
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 40.0) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "api", "serve", "--port", str(self.port)],
                                            cwd=REPO, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the server exited with {self.process.returncode}:\n{self.tail()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        pytest.fail(f"the server did not answer /health within {timeout_s} s:\n{self.tail()}")

    def kill_dash_nine(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


def test_kill_dash_nine_under_load_loses_nothing(postgres_url: str, redis_url: str, tmp_path: Path) -> None:
    began = time.monotonic()
    secret = f"crash-test-{uuid.uuid4().hex}"
    env = {**os.environ, "CARBONX_DATABASE_URL": postgres_url, "CARBONX_REDIS_URL": redis_url,
           "CARBONX_JWT_SECRET": secret, "CARBONX_RATE_LIMIT_PER_MINUTE": "10000000",
           "CARBONX_MARKET_ALWAYS_OPEN": "true",
           "CARBONX_DATA_DIR": str(tmp_path / "data")}
    settings = Settings(database_url=postgres_url, redis_url=redis_url, jwt_secret=SecretStr(secret),
                        data_dir=tmp_path / "data", rate_limit_per_minute=10_000_000)
    registry = build_registry(settings)
    run = uuid.uuid4().hex[:6]
    market = loadgen.prepare_market(settings, traders=CLIENTS + 2, prefix=f"crash{run}",
                                    instrument=f"CRASH-{run.upper()}", registry=registry)
    load_traders, (seller, buyer) = market.traders[:CLIENTS], market.traders[CLIENTS:]
    server = ServerProcess(_free_port(), env, tmp_path / "server.log")
    try:
        server.start()
        result, stop = loadgen.DriveResult(), threading.Event()
        options = loadgen.LoadOptions(clients=CLIENTS, seconds=LOAD_LIMIT_S, warmup=0.0, seed=5)
        driver = threading.Thread(target=loadgen.run_load, args=(server.url, [market], options),
                                  kwargs={"traders": load_traders, "stop": stop, "result": result}, daemon=True)
        driver.start()
        started = time.monotonic()
        while time.monotonic() - started < KILL_AT_LATEST_S and (
                len(result.acks) < KILL_AFTER_ACKS or time.monotonic() - started < KILL_AFTER_S):
            time.sleep(0.05)
        acked_before_kill = len(result.acks)
        assert acked_before_kill > 0, f"no order acknowledged before the kill:\n{server.tail()}"
        server.kill_dash_nine()  # the clients keep sending: connection errors until the restart
        killed_at = time.perf_counter()
        server.start()
        restarted_at = time.perf_counter()
        while driver.is_alive() and (time.perf_counter() - restarted_at < LOAD_AFTER_RESTART_S or sum(
                1 for a in result.acks if a.acked_at > restarted_at) < ACKS_AFTER_RESTART):
            time.sleep(0.05)
        stop.set()
        driver.join(timeout=120)
        assert not driver.is_alive(), "the load generator did not finish"
        acked_after_restart = sum(1 for a in result.acks if a.acked_at > restarted_at)
        summary = (f"{len(result.acks)} orders acknowledged ({acked_before_kill} before the kill, "
                   f"{acked_after_restart} after the restart), {len(result.cancelled)} cancels, "
                   f"status codes {result.status_counts()}, transport errors {dict(result.errors)}, "
                   f"down {restarted_at - killed_at:.1f} s")
        print(summary)
        assert acked_after_restart > 0, f"the restarted server acknowledged nothing under load: {summary}"
        assert result.server_errors() == 0, f"5xx answers: {summary}\n{server.tail()}"

        _check_acknowledged(registry, result)
        _check_settled_once(registry, market.instrument_id, market.instrument)
        _check_holds_match_orders(registry, [t.participant_id for t in market.traders], market.instrument_id)
        with registry.uow() as uow:
            report = ledger_check.check(uow)
        assert report.ok, report.problems

        # The restarted server still accepts and matches: two traders the load never used, at the band's edges.
        depth = httpx.get(f"{server.url}/market/{market.instrument}/depth", timeout=30).json()
        low, high = depth["price_band_fen"]
        with registry.uow() as uow:
            trades_before = uow.session.scalar(select(func.count(Trade.id)).where(
                Trade.instrument_id == market.instrument_id))
        sell = httpx.post(f"{server.url}/orders", headers=seller.headers, timeout=30, json={
            "instrument": market.instrument, "client_order_id": "after-crash-sell", "side": "sell",
            "order_type": "LIMIT", "price_fen": low, "quantity_t": 1})
        buy = httpx.post(f"{server.url}/orders", headers=buyer.headers, timeout=30, json={
            "instrument": market.instrument, "client_order_id": "after-crash-buy", "side": "buy",
            "order_type": "LIMIT", "price_fen": high, "quantity_t": 1})
        assert sell.status_code == 201 and buy.status_code == 201, (sell.text, buy.text)
        assert buy.json()["status"] == "filled", buy.text
        with registry.uow() as uow:
            trades_after = uow.session.scalar(select(func.count(Trade.id)).where(
                Trade.instrument_id == market.instrument_id))
        assert (trades_after or 0) > (trades_before or 0)
        check = loadgen.ledger_check(server.url, market.operator)
        assert check["ok"], check["problems"]
    finally:
        server.stop()
        registry.engine.dispose()
    assert time.monotonic() - began < 120, "the crash test should stay well under a minute"


def _check_acknowledged(registry: Registry, result: loadgen.DriveResult) -> None:
    acked = {a.order_id: a for a in result.acks}
    assert len(acked) == len(result.acks), "an order id was acknowledged twice"
    with registry.uow() as uow:
        rows = {o.id: o for o in uow.session.scalars(select(Order).where(Order.id.in_(list(acked))))}
        missing = sorted(set(acked) - set(rows))
        assert not missing, f"{len(missing)} acknowledged orders are gone after the crash: {missing[:20]}"
        for order_id, ack in acked.items():
            row = rows[order_id]
            assert (row.participant_id, row.client_order_id, row.side, row.quantity_t) == (
                ack.participant_id, ack.client_order_id, ack.side, ack.quantity_t), order_id
            assert row.filled_t >= ack.filled_t, f"order {order_id}: {row.filled_t} t filled < {ack.filled_t} t acked"
        cancelled = list(set(result.cancelled))
        statuses = Counter(uow.session.scalars(select(Order.status).where(Order.id.in_(cancelled))))
        assert statuses == Counter({"cancelled": len(cancelled)}), statuses


def _check_settled_once(registry: Registry, instrument_id: int, code: str) -> None:
    with registry.uow() as uow:
        trades = list(uow.session.scalars(select(Trade).where(Trade.instrument_id == instrument_id)))
        assert trades, "the load made no trades"
        ids = Counter(t.engine_trade_id for t in trades)
        assert max(ids.values()) == 1, [k for k, v in ids.items() if v > 1]
        entries = {e.id: e for e in uow.session.scalars(select(JournalEntry).where(
            JournalEntry.kind.in_(["trade_payment", "trade_delivery"]), JournalEntry.reference.like(f"{code}:%")))}
        by_kind = Counter((e.kind, e.reference) for e in entries.values())
        expected = Counter({(kind, f"{code}:{t.engine_trade_id}"): 1 for t in trades
                            for kind in ("trade_payment", "trade_delivery")})
        assert by_kind == expected, f"payments/deliveries do not match trades one to one: {by_kind - expected}, " \
                                    f"{expected - by_kind}"
        for t in trades:
            assert entries[t.cash_entry_id].kind == "trade_payment"
            assert entries[t.credit_entry_id].kind == "trade_delivery"
        filled: dict[int, int] = defaultdict(int)
        for t in trades:
            filled[t.buy_order_id] += t.quantity_t
            filled[t.sell_order_id] += t.quantity_t
        for order in uow.session.scalars(select(Order).where(Order.instrument_id == instrument_id)):
            assert order.filled_t == filled.get(order.id, 0), f"order {order.id} filled {order.filled_t} t, " \
                                                               f"its trades {filled.get(order.id, 0)} t"
            assert order.filled_t + order.remaining_t == order.quantity_t or order.status != "open", order.id


def _check_holds_match_orders(registry: Registry, participant_ids: list[int], instrument_id: int) -> None:
    with registry.uow() as uow:
        instrument = uow.session.get(Instrument, instrument_id)
        assert instrument is not None
        for participant_id in participant_ids:
            account = holdings.main_account(uow, participant_id)
            orders = list(uow.session.scalars(select(Order).where(Order.participant_id == participant_id)))
            for order in orders:
                if order.status != "open":
                    assert order.cash_held_fen == 0 and not order.held_blocks, f"closed order {order.id} holds"
            held = {b.asset: b.amount for b in uow.session.scalars(select(Balance).where(
                Balance.account_id == account.id, Balance.bucket == ledger.HELD))}
            assert held.get(ledger.CASH, 0) == sum(o.cash_held_fen for o in orders if o.side == "buy"), participant_id
            held_t = sum(end - start + 1 for o in orders if o.side == "sell" for _, start, end in o.held_blocks)
            assert sum(v for k, v in held.items() if k.startswith("CREDIT:")) == held_t, participant_id
