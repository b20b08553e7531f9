"""Idempotency under faults (issue 15, fault test 5): clients whose answers get lost retry with the same key, and
each intended effect happens once; two requests with the same key at once get one effect and the same answer;
a replayed answer says so (`Idempotent-Replayed: true`), a first answer does not.

The lossy test runs a live server behind tests/lossy_proxy.py, which loses a seeded share of the answers, some
after the server answered and some while it is still at work, and sends some requests up twice at once (so a
retry or a copy meets its first attempt in the server)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from api.settings import Settings
from api.tokens import issue_token
from registry.context import Registry
from registry.orm import CashMovement, IdempotencyKey, JournalEntry, Order, Retirement
from registry.principals import Principal
from registry.services import cash, instruments, ledger_accounts, ledger_check, transfers
from tests.api.test_cluster import _market as cluster_market
from tests.api.test_cluster import _start
from tests.api.test_cluster import order as cluster_order
from tests.conftest import Backend
from tests.lossy_proxy import LossyProxy
from tests.support import issue_to, seed_ledger

REPLAYED = "Idempotent-Replayed"
SEED = 20261123
INTENTS_PER_HOLDER = 12
DEPOSITS = 6
MAX_ATTEMPTS = 40


def _headers(settings: Settings, registry: Registry, user_id: int) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(settings, user_id, registry.clock.now())[0]}"}


def _market(registry: Registry) -> tuple[Principal, list[Principal], dict[int, str]]:
    """Three admitted holders with 300 t or more each and cash, and an instrument: the bureau (also the
    operator), the holders and their main accounts' codes by participant."""
    bureau, holders = seed_ledger(registry)
    issue_to(registry, bureau, 1000)  # to holders[0]
    with registry.uow(bureau) as uow:
        for holder in holders:
            instruments.set_trading_status(uow, holder.participant_id, "admitted", "test")
            cash.record(uow, bureau, participant_id=holder.participant_id, kind="deposit", amount_fen=10**8,
                        bank_reference=f"SEED-{holder.participant_id}")
        instruments.define(uow, code="JXCI-2023", name_zh="2023", name_en="2023", vintage=2023,
                           methodology_field=None, config={"reference_price_fen": 5000, "price_band_bp": 1000})
        uow.commit()
    with registry.uow(holders[0]) as uow:
        codes = {h.participant_id: ledger_accounts.main_account(uow, h.participant_id).code for h in holders}
        for holder in holders[1:]:
            transfers.transfer(uow, holders[0], from_account_id=None, to_account_code=codes[holder.participant_id],
                               quantity_t=300, batch_id=None, memo="seed")
        uow.commit()
    return bureau, holders, codes


# --- 1. a lossy proxy ---------------------------------------------------------------------------------------

@dataclass
class Intent:
    """One effect a client means to have: a request it repeats, unchanged, until it gets an answer."""

    token: str  # unique, in the request (its key, memo, beneficiary, client order id or bank reference)
    kind: str  # transfer, retirement, order, deposit
    user_id: int
    participant_id: int
    path: str
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    answer: httpx.Response | None = None
    attempts: int = 0


def _intents(rng: random.Random, holders: list[Principal], codes: dict[int, str],
             operator: Principal) -> list[list[Intent]]:
    """Each holder's intents (one client each, in order), and the operator's deposits."""
    per_client: list[list[Intent]] = []
    for n, holder in enumerate(holders):
        mine = []
        for i in range(INTENTS_PER_HOLDER):
            kind = rng.choice(["transfer", "retirement", "order", "keyed-order"])
            token = f"{kind[:2]}-{n}-{i:03d}"
            if kind == "transfer":
                to = rng.choice([h for h in holders if h is not holder])
                mine.append(Intent(token, kind, holder.user_id, holder.participant_id, "/transfers",
                                   {"to_account_code": codes[to.participant_id], "quantity_t": rng.randint(1, 3),
                                    "memo": token}, {"Idempotency-Key": token}))
            elif kind == "retirement":
                mine.append(Intent(token, kind, holder.user_id, holder.participant_id, "/retirements",
                                   {"quantity_t": 1, "beneficiary": token, "purpose": {"purpose": "voluntary"}},
                                   {"Idempotency-Key": token}))
            else:
                body = {"instrument": "JXCI-2023", "client_order_id": token, "side": rng.choice(["buy", "sell"]),
                        "quantity_t": rng.randint(1, 3), "price_fen": rng.choice([4950, 5000, 5050])}
                keyed = {"Idempotency-Key": f"key-{token}"} if kind == "keyed-order" else {}
                mine.append(Intent(token, "order", holder.user_id, holder.participant_id, "/orders", body, keyed))
        per_client.append(mine)
    per_client.append([Intent(f"DEP-{i:03d}", "deposit", operator.user_id, operator.participant_id,
                              "/cash/deposits", {"participant_id": holders[i % 3].participant_id,
                                                 "amount_fen": 1000 * (i + 1), "bank_reference": f"DEP-{i:03d}"})
                       for i in range(DEPOSITS)])
    return per_client


def _perform(url: str, auth: dict[str, str], intent: Intent) -> None:
    """Send the intent's request until it gets an answer: a lost connection, a busy database or a book changing
    hands is tried again, the same request with the same key."""
    while True:
        intent.attempts += 1
        assert intent.attempts <= MAX_ATTEMPTS, f"{intent.token}: no answer after {MAX_ATTEMPTS} attempts"
        try:
            with httpx.Client(base_url=url, timeout=60, headers={"Connection": "close"}) as http:
                answer = http.post(intent.path, json=intent.body, headers=auth | intent.headers)
        except httpx.TransportError:
            continue  # the answer was lost: did it happen? Ask again with the same key.
        if answer.status_code == 503 or (answer.status_code == 409 and answer.json().get("code") == "busy"):
            continue
        intent.answer = answer
        return


def test_each_intended_effect_happens_once_through_a_lossy_proxy(live_server: str, registry: Registry,
                                                                  settings: Settings) -> None:
    """Three holders transfer, retire and trade, and the operator records deposits, each retrying through the
    proxy until answered. Each effect is in the database once, as its answer says; exactly one answer per
    intent was a first answer (heard or lost) and every other a replay marked so; credits and cash balance."""
    bureau, holders, codes = _market(registry)
    rng = random.Random(SEED)
    clients = _intents(rng, holders, codes, bureau)
    auth = {p.user_id: _headers(settings, registry, p.user_id) for p in [bureau, *holders]}
    host, port = live_server.removeprefix("http://").split(":")
    started = time.perf_counter()
    with LossyProxy((host, int(port)), seed=SEED, lose=0.2, cut=0.1, twice=0.15) as proxy:
        def client(mine: list[Intent]) -> None:
            for intent in mine:
                _perform(proxy.url, auth[intent.user_id], intent)

        threads = [threading.Thread(target=client, args=(mine,)) for mine in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert not any(thread.is_alive() for thread in threads)
    # Closing the proxy waited for the attempts it cut or sent twice: every server answer is known by now.
    intents = [intent for mine in clients for intent in mine]
    retries = sum(intent.attempts - 1 for intent in intents)
    print(f"{len(intents)} intents, {proxy.passed} answers passed, {len(proxy.losses)} lost "
          f"({sum(loss.fate == 'lose' for loss in proxy.losses)} after the answer, "
          f"{sum(loss.fate == 'cut' for loss in proxy.losses)} while at work, "
          f"{sum(loss.fate == 'twice' for loss in proxy.losses)} of requests sent twice), {retries} retries, "
          f"{time.perf_counter() - started:.1f} s")
    assert proxy.losses, "the seed lost no answer: the test proves nothing"

    for intent in intents:
        assert intent.answer is not None
        lost = [loss for loss in proxy.losses if intent.token.encode() in loss.request]
        lost_first = [loss for loss in lost if loss.status == 201
                      and f"{REPLAYED.lower()}: true".encode() not in loss.answer.lower()]
        final_replayed = intent.answer.headers.get(REPLAYED) == "true"
        # What the server answered to an attempt nobody heard: the effect, its replay, or "try again".
        assert all(loss.status in (201, 409, 503) for loss in lost), (intent.token, [loss.answer for loss in lost])
        if intent.kind == "deposit":  # a bank reference is accepted once; a deposit takes no Idempotency-Key
            assert intent.answer.status_code == (409 if lost_first else 201), (intent.token, intent.answer.text)
            continue
        assert intent.answer.status_code == 201, (intent.token, intent.answer.text)
        assert all(loss.status == 201 or b'"code":"busy"' in loss.answer or loss.status == 503 for loss in lost), (
            intent.token, [loss.answer for loss in lost])
        # Exactly one first answer per intent, wherever it went; every other answer a marked replay.
        assert len(lost_first) + (not final_replayed) == 1, (intent.token, [loss.fate for loss in lost],
                                                             dict(intent.answer.headers))

    with registry.uow() as uow:
        for intent in intents:
            answer = intent.answer.json() if intent.answer is not None else {}
            if intent.kind == "transfer":
                entries = uow.session.scalars(select(JournalEntry).where(
                    JournalEntry.kind == "transfer", JournalEntry.memo == intent.token)).all()
                assert [e.id for e in entries] == [answer["entry_id"]], intent.token
                assert answer["quantity_t"] == intent.body["quantity_t"]
            elif intent.kind == "retirement":
                done = uow.session.scalars(select(Retirement).where(Retirement.beneficiary == intent.token)).all()
                assert [(r.id, r.quantity_t, r.status) for r in done] == [
                    (answer["id"], 1, answer["status"])], intent.token
            elif intent.kind == "order":
                placed = uow.session.scalars(select(Order).where(
                    Order.participant_id == intent.participant_id, Order.client_order_id == intent.token)).all()
                assert [(o.id, o.quantity_t, o.side) for o in placed] == [
                    (answer["id"], answer["quantity_t"], answer["side"])], intent.token
                if intent.headers:
                    key = uow.session.get(IdempotencyKey, (intent.user_id, intent.headers["Idempotency-Key"]))
                    assert key is not None and key.response["id"] == answer["id"]
            else:
                recorded = uow.session.scalars(select(CashMovement).where(
                    CashMovement.bank_reference == intent.token)).all()
                assert [m.amount_fen for m in recorded] == [intent.body["amount_fen"]], intent.token
                if intent.answer is not None and intent.answer.status_code == 201:
                    assert answer["id"] == recorded[0].id
        report = ledger_check.check(uow)
    assert report.ok, report.problems
    (batch,) = report.batches
    assert batch["issued_t"] == 1000
    assert batch["available_t"] + batch["held_t"] + batch["retired_t"] == 1000


# --- 2. the same key twice at once ------------------------------------------------------------------------

def _waiting_on_locks(owner_engine: Any, at_least: int, timeout_s: float = 30) -> None:
    """Wait until `at_least` other sessions of this database wait on a lock (both requests are inside the
    database, neither can finish)."""
    deadline = time.monotonic() + timeout_s
    with owner_engine.connect() as conn:
        while True:
            waiting = conn.exec_driver_sql(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()").scalar_one()
            if waiting >= at_least:
                return
            assert time.monotonic() < deadline, f"only {waiting} requests reached the database"
            conn.rollback()  # the statistics views keep one snapshot per transaction
            time.sleep(0.02)


@contextmanager
def _balances_held(backend: Backend, account_id: int) -> Iterator[Callable[[], None]]:
    """On PostgreSQL, hold the account's balance rows locked from another session until the returned function
    is called, so that two requests started together are both in the database before either can finish (a
    barrier alone leaves it to chance). On SQLite the single writer takes them one after the other anyway."""
    if backend.name != "postgres":
        yield lambda: None
        return
    dsn = make_url(backend.owner_engine.url).set(drivername="postgresql").render_as_string(  # type: ignore[union-attr]
        hide_password=False)
    with psycopg.connect(dsn) as holder:
        holder.execute("SELECT 1 FROM balances WHERE account_id = %s FOR UPDATE", (account_id,))

        def release() -> None:
            _waiting_on_locks(backend.owner_engine, 2)
            holder.rollback()

        yield release


@pytest.mark.parametrize("kind", ["transfer", "retirement"])
def test_the_same_key_twice_at_once_has_one_effect_and_one_answer(live_server: str, registry: Registry,
                                                                   settings: Settings, backend: Backend,
                                                                   kind: str) -> None:
    """Two requests with the same Idempotency-Key in flight at once: the second waits for the first and answers
    what it answered, marked as a replay (PostgreSQL answered it a generic 409 state_conflict before)."""
    _, holders, codes = _market(registry)
    sender = holders[1]
    if kind == "transfer":
        path, body = "/transfers", {"to_account_code": codes[holders[2].participant_id], "quantity_t": 7,
                                    "memo": "twice"}
    else:
        path, body = "/retirements", {"quantity_t": 7, "beneficiary": "twice", "purpose": {"purpose": "voluntary"}}
    headers = _headers(settings, registry, sender.user_id) | {"Idempotency-Key": "twice-at-once"}
    with registry.uow() as uow:
        account_id = ledger_accounts.main_account(uow, sender.participant_id).id
    start = threading.Barrier(2)
    answers: list[httpx.Response] = []

    def send() -> None:
        with httpx.Client(base_url=live_server, timeout=60) as http:
            start.wait()
            answers.append(http.post(path, json=body, headers=headers))

    with _balances_held(backend, account_id) as release:
        threads = [threading.Thread(target=send) for _ in range(2)]
        for thread in threads:
            thread.start()
        release()
        for thread in threads:
            thread.join(60)
    assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
    assert answers[0].json() == answers[1].json()
    assert sorted(a.headers.get(REPLAYED, "") for a in answers) == ["", "true"]
    with registry.uow() as uow:
        if kind == "transfer":
            done = uow.session.scalar(select(func.count()).select_from(JournalEntry).where(
                JournalEntry.memo == "twice"))
        else:
            done = uow.session.scalar(select(func.count()).select_from(Retirement).where(
                Retirement.beneficiary == "twice"))
        assert done == 1
        report = ledger_check.check(uow)
    assert report.ok, report.problems


@pytest.mark.parametrize("keyed", [True, False], ids=["idempotency-key", "client-order-id"])
def test_the_same_order_twice_at_once_is_placed_once(live_server: str, registry: Registry, settings: Settings,
                                                     keyed: bool) -> None:
    """The exchange's writer takes the book's commands one after the other: the second of two identical
    orders sent at once is answered as the first, marked as a replay."""
    _, holders, _ = _market(registry)
    headers = _headers(settings, registry, holders[1].user_id) | ({"Idempotency-Key": "order-twice"} if keyed else {})
    body = {"instrument": "JXCI-2023", "client_order_id": "twice", "side": "buy", "quantity_t": 5, "price_fen": 4900}
    start = threading.Barrier(4)
    answers: list[httpx.Response] = []

    def send() -> None:
        with httpx.Client(base_url=live_server, timeout=60) as http:
            start.wait()
            answers.append(http.post("/orders", json=body, headers=headers))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [a.status_code for a in answers] == [201] * 4, [a.text for a in answers]
    assert all(a.json() == answers[0].json() for a in answers)
    assert sorted(a.headers.get(REPLAYED, "") for a in answers) == ["", "true", "true", "true"]
    with registry.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Order).where(Order.client_order_id == "twice")) == 1


# --- 3. the header ---------------------------------------------------------------------------------------

def _twice(client: TestClient, path: str, headers: dict[str, str], body: dict[str, Any] | None = None) -> Any:
    """Send the same request twice: the first answer is not marked, the second is the same answer, marked."""
    first = client.post(path, headers=headers, json=body)
    second = client.post(path, headers=headers, json=body)
    assert first.status_code == 201, first.text
    assert REPLAYED not in first.headers
    assert second.status_code == 201 and second.headers.get(REPLAYED) == "true", (second.text, second.headers)
    assert second.json() == first.json()
    return first.json()


def test_a_replayed_answer_says_so_and_a_first_does_not(client: TestClient, market: dict[str, Any],
                                                        clock: Any) -> None:
    people, holders = market["people"], market["holders"]
    seller, buyer = people["seller"], people["buyer"]
    target = client.get("/accounts", headers=buyer).json()[0]["code"]
    _twice(client, "/transfers", seller | {"Idempotency-Key": "h-transfer"},
           {"to_account_code": target, "quantity_t": 3})
    changed = client.post("/transfers", headers=seller | {"Idempotency-Key": "h-transfer"},
                          json={"to_account_code": target, "quantity_t": 4})
    assert changed.status_code == 422 and changed.json()["code"] == "invalid_input"
    assert REPLAYED not in changed.headers
    _twice(client, "/retirements", seller | {"Idempotency-Key": "h-retire"},
           {"quantity_t": 2, "beneficiary": "h", "purpose": {"purpose": "voluntary"}})
    # Without a key every request is its own: no replay, no header.
    for _ in range(2):
        plain = client.post("/transfers", headers=seller, json={"to_account_code": target, "quantity_t": 1})
        assert plain.status_code == 201 and REPLAYED not in plain.headers
    order = {"instrument": "JXCI-2023", "side": "buy", "quantity_t": 2, "price_fen": 4800}
    _twice(client, "/orders", buyer, order | {"client_order_id": "h-order"})
    _twice(client, "/orders", buyer | {"Idempotency-Key": "h-order-key"}, order | {"client_order_id": "h-order-2"})
    # In a batch the replayed item says so.
    batch = client.post("/orders/batch", headers=buyer, json={"place": [
        order | {"client_order_id": "h-order"}, order | {"client_order_id": "h-order-3"}]})
    assert [item.get("replayed", False) for item in batch.json()["place"]] == [True, False], batch.text
    # The other trade modes replay by client_order_id.
    listing = _twice(client, "/listings", seller, {"instrument": "JXCI-2023", "client_order_id": "h-listing",
                                                   "side": "sell", "price_fen": 5200, "quantity_t": 20})
    _twice(client, f"/listings/{listing['id']}/pick", buyer, {"client_order_id": "h-pick", "quantity_t": 5})
    expires = (clock.now() + timedelta(hours=2)).isoformat()
    proposal = _twice(client, "/proposals", seller, {
        "instrument": "JXCI-2023", "client_order_id": "h-proposal", "side": "sell", "price_fen": 5100,
        "quantity_t": 4, "counterparty_participant_id": holders[1].participant_id, "expires_at": expires})
    _twice(client, f"/proposals/{proposal['id']}/accept", buyer)
    auction = _twice(client, "/auctions", seller, {"instrument": "JXCI-2023", "client_order_id": "h-auction",
                                                   "quantity_t": 10, "reserve_price_fen": 5000,
                                                   "end_at": (clock.now() + timedelta(minutes=30)).isoformat()})
    _twice(client, f"/auctions/{auction['id']}/bids", buyer,
           {"client_order_id": "h-bid", "price_fen": 5100, "quantity_t": 10})


@pytest.fixture
def two_servers(backend: Backend, registry: Registry, tmp_path: Path) -> Iterator[list[str]]:
    """Two server processes sharing the books (PostgreSQL with Redis only)."""
    if backend.name != "postgres":
        pytest.skip("several processes share books only on PostgreSQL with Redis; SQLite runs as one process")
    started = [_start(backend.url, backend.kv.url, tmp_path) for _ in range(2)]  # type: ignore[attr-defined]
    yield [url for _, url in started]
    for process, _ in started:
        process.kill()
        process.wait(timeout=10)


def test_a_routed_replay_says_so_too(two_servers: list[str], registry: Registry) -> None:
    """An order sent again through the process that does not own its book is routed to the owner, and the
    replay comes back marked across the processes."""
    _, _, buyer = cluster_market(registry, two_servers[0])
    first = cluster_order(two_servers[0], buyer, "routed", "buy", 3, 4900)
    assert first.status_code == 201 and REPLAYED not in first.headers, first.text
    for url in two_servers:  # one of the two is routed
        again = cluster_order(url, buyer, "routed", "buy", 3, 4900)
        assert again.status_code == 201 and again.headers.get(REPLAYED) == "true", (url, again.text)
        assert again.json() == first.json()
