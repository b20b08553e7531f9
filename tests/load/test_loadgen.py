"""The load generator end to end, as the README runs it: a server subprocess, `python -m bench.loadgen` over two
instruments in batches, its JSON figures, and the database agreeing with them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from api.app import build_registry
from api.settings import Settings
from registry.orm import Instrument, Order
from tests.fault_injection import REPO, ServerProcess
from tests.fault_injection import free_port as _free_port

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_the_load_generator_drives_two_instruments_in_batches(postgres_url: str, redis_url: str,
                                                              tmp_path: Path) -> None:
    secret = f"loadgen-test-{uuid.uuid4().hex}"
    env = {**os.environ, "CARBONX_DATABASE_URL": postgres_url, "CARBONX_REDIS_URL": redis_url,
           "CARBONX_JWT_SECRET": secret, "CARBONX_RATE_LIMIT_PER_MINUTE": "10000000",
           "CARBONX_MARKET_ALWAYS_OPEN": "true", "CARBONX_DATA_DIR": str(tmp_path / "data")}
    run = uuid.uuid4().hex[:6].upper()
    server = ServerProcess(_free_port(), env, tmp_path / "server.log")
    try:
        server.start()
        done = subprocess.run(
            [sys.executable, "-m", "bench.loadgen", "--url", server.url, "--clients", "6", "--seconds", "2",
             "--warmup", "0.5", "--batch", "5", "--instruments", "2", "--instrument", f"LG-{run}",
             "--prefix", f"lg{run.lower()}", "--server-pid", str(server.process.pid if server.process else 0),
             "--json"], cwd=REPO, env=env, capture_output=True, text=True, timeout=180)
    finally:
        server.stop()
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:] + server.tail()
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["config"]["instruments"] == [f"LG-{run}", f"LG-{run}-2"] and figures["config"]["batch"] == 5
    assert figures["order_entry"]["requests"] > 0 and figures["trades"]["count"] > 0
    assert set(figures["run"]["status_counts"]) <= {"200", "201", "409"}, figures["run"]["status_counts"]
    assert figures["run"]["server_errors"] == 0 and figures["ledger_check"]["ok"] is True
    assert figures["server_cpu_s"] > 0
    # Every order acknowledged went to one of the two books, and both books got orders.
    registry = build_registry(Settings(database_url=postgres_url))
    with registry.uow() as uow:
        placed = dict(uow.session.execute(
            select(Instrument.code, func.count(Order.id)).join(Order, Order.instrument_id == Instrument.id)
            .where(Instrument.code.like(f"LG-{run}%")).group_by(Instrument.code)).all())
    registry.engine.dispose()
    assert set(placed) == {f"LG-{run}", f"LG-{run}-2"}
    assert sum(placed.values()) >= figures["run"]["acknowledged_orders"]
