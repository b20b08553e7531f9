"""Double spend under real concurrency: a live server (uvicorn on a free local port) and 50 clients at once.
50 requests of 25 t each race for one holding of 1,000 t (1,250 t asked): exactly 1,000 t are retired,
every other request gets a 409 with a reason, and the ledger checks clean. Runs on both backends."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import uvicorn

from api.app import create_app
from api.settings import Settings
from api.tokens import issue_token
from registry.context import Registry
from registry.services import ledger_check
from tests.conftest import Backend
from tests.support import issue_to, seed_ledger

CLIENTS = 50
PIECE_T = 25


@pytest.fixture
def live_server(registry: Registry, backend: Backend, settings: Settings) -> Iterator[str]:
    settings.auto_execute_retirements = True
    app = create_app(settings, registry=registry, kv=backend.kv)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           limit_concurrency=200))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_fifty_clients_cannot_retire_more_than_is_held(live_server: str, registry: Registry,
                                                       settings: Settings) -> None:
    bureau, holders = seed_ledger(registry)
    batch = issue_to(registry, bureau, 1000)
    owner = holders[0]
    token, _ = issue_token(settings, owner.user_id, registry.clock.now())
    start = threading.Barrier(CLIENTS)

    def retire(i: int) -> httpx.Response:
        with httpx.Client(base_url=live_server, timeout=60) as http:
            start.wait()
            return http.post("/retirements", headers={"Authorization": f"Bearer {token}"}, json={
                "quantity_t": PIECE_T, "beneficiary": f"client {i}", "purpose": {"purpose": "voluntary"}})

    with ThreadPoolExecutor(CLIENTS) as pool:
        responses = list(pool.map(retire, range(CLIENTS)))
    codes = [r.status_code for r in responses]
    assert set(codes) <= {201, 409}, [r.text for r in responses if r.status_code not in (201, 409)]
    assert codes.count(201) * PIECE_T == 1000
    for refused in (r for r in responses if r.status_code == 409):
        body = refused.json()
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert body["detail"] and body["detail_zh"]
    with registry.uow() as uow:
        report = ledger_check.check(uow)
    assert report.ok, report.problems
    assert report.batches == [{"batch": batch.code, "issued_t": 1000, "available_t": 0, "held_t": 0,
                               "retired_t": 1000, "revoked_t": 0}]
