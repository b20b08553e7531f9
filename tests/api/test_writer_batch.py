"""One writer batch, many commands: the writer flushes only at its commit, so a command must see what the
earlier commands of the same batch did through the unit of work's own maps (orders by key, locked balances,
live serial blocks, idempotency keys). Each test hands the instrument's writer one chosen batch."""

from __future__ import annotations

import csv
import io
import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from api.exchange.commands import from_params
from api.exchange.desk import InstrumentDesk
from api.exchange.writer import Job
from registry.errors import DomainError
from registry.principals import Principal
from tests.support import DEPOSIT_FEN, balances, owned_desk


def _desk(client: TestClient) -> InstrumentDesk:
    return owned_desk(client, "JXCI-2023")


def _place(who: Principal, cid: str, side: str, quantity_t: int, price_fen: int, key: str | None = None,
           digest: str | None = None) -> Job:
    body = {"client_order_id": cid, "side": side, "order_type": "LIMIT", "price_fen": price_fen,
            "quantity_t": quantity_t, "tif": "GTC"}
    return Job(from_params("place", who, body, key, digest or f"{cid}:{side}:{quantity_t}:{price_fen}"))


def _answers(desk: InstrumentDesk, jobs: list[Job]) -> list[dict[str, Any] | DomainError]:
    desk._process(jobs)  # one batch, one transaction, one flush
    out: list[dict[str, Any] | DomainError] = []
    for job in jobs:
        error = job.future.exception(timeout=5)
        out.append(error if isinstance(error, DomainError) else job.future.result())
    return out


def test_a_batch_trades_against_orders_it_placed_itself(client: TestClient, market: dict[str, Any]) -> None:
    seller, buyer = market["holders"][0], market["holders"][1]
    asset = f"CREDIT:{market['batch'].id}"
    sell, refused, buy, again = _answers(_desk(client), [
        _place(seller, "s1", "sell", 100, 5000),
        _place(buyer, "far", "buy", 10, 9000),  # outside the band: refused by the engine after its hold was planned
        _place(buyer, "b1", "buy", 60, 5000),  # trades against s1, not yet written when it arrives
        _place(seller, "s2", "sell", 30, 5100),  # the seller's blocks as s1 left them (40 t remain available)
    ])
    assert isinstance(refused, DomainError) and refused.code == "order_rejected"
    assert not isinstance(sell, DomainError) and not isinstance(buy, DomainError)
    assert buy["status"] == "filled" and buy["filled_t"] == 60
    assert not isinstance(again, DomainError) and again["status"] == "open"
    people = market["people"]
    assert balances(client, people["seller"])[(asset, "held")] == 40 + 30
    assert balances(client, people["seller"])[(asset, "available")] == 1000 - 100 - 30
    assert balances(client, people["buyer"])[(asset, "available")] == 60
    # Nothing of the refused order was written: the buyer holds nothing and paid 60 t at 5,000 plus the fee.
    assert client.get("/cash", headers=people["buyer"]).json()["balances_fen"] == {
        "available": DEPOSIT_FEN - 300_300, "held": 0}
    mine = client.get("/orders", headers=people["buyer"]).json()
    assert [o["client_order_id"] for o in mine] == ["b1"]
    sold = client.get("/orders", headers=people["seller"]).json()
    assert {o["client_order_id"]: o["remaining_t"] for o in sold} == {"s1": 40, "s2": 30}
    assert client.get("/ledger/check", headers=market["operator"]).json()["ok"] is True


def test_a_repeat_within_the_batch_gets_the_first_answer(client: TestClient, market: dict[str, Any]) -> None:
    buyer = market["holders"][1]
    first, repeat, clash, keyed, keyed_again, key_reused = _answers(_desk(client), [
        _place(buyer, "b1", "buy", 10, 4900),
        _place(buyer, "b1", "buy", 10, 4900),  # the same client_order_id and request
        _place(buyer, "b1", "buy", 20, 4900),  # the same client_order_id, another request
        _place(buyer, "b2", "buy", 5, 4800, key="k-1", digest="d-1"),
        _place(buyer, "b2", "buy", 5, 4800, key="k-1", digest="d-1"),  # the same Idempotency-Key
        _place(buyer, "b3", "buy", 5, 4800, key="k-1", digest="d-2"),  # the key with another request
    ])
    assert not isinstance(first, DomainError) and repeat == first
    assert isinstance(clash, DomainError) and clash.status == 422
    assert not isinstance(keyed, DomainError) and keyed_again == keyed
    assert isinstance(key_reused, DomainError) and key_reused.status == 422
    mine = client.get("/orders", headers=market["people"]["buyer"]).json()
    assert sorted(o["client_order_id"] for o in mine) == ["b1", "b2"]
    held = 10 * 4900 + 10 * 4900 * 10 // 10_000 + 5 * 4800 + 5 * 4800 * 10 // 10_000
    assert client.get("/cash", headers=market["people"]["buyer"]).json()["balances_fen"]["held"] == held


def test_open_orders_kept_between_batches_are_forgotten_when_a_batch_fails(
        client: TestClient, market: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The writer keeps the book's open orders from one batch to the next instead of reading them again; a
    batch that fails after the engine changed must not leave its half-applied orders behind (the rebuild
    keeps the orders again as they were committed)."""
    seller, buyer = market["holders"][0], market["holders"][1]
    desk = _desk(client)
    [sell] = _answers(desk, [_place(seller, "s1", "sell", 100, 5000)])
    assert not isinstance(sell, DomainError)
    [first] = _answers(desk, [_place(buyer, "b1", "buy", 30, 5000)])
    assert not isinstance(first, DomainError) and first["status"] == "filled"
    kept = desk.cache.kept[("order_id", sell["id"])]
    assert kept.remaining_t == 70  # kept, as committed

    def fail(*_: Any) -> None:
        raise RuntimeError("the database went away")

    with monkeypatch.context() as patch:
        patch.setattr(desk, "_save_engine_state", fail)  # after the engine traded b2 against s1 (50 t would remain)
        [failed] = _answers(desk, [_place(buyer, "b2", "buy", 20, 5000)])
    assert isinstance(failed, DomainError) and failed.status == 409
    # The half-applied order is gone; the rebuilt book keeps the open orders as the database has them.
    assert list(desk.cache.kept) == [("order_id", sell["id"])]
    rebuilt = desk.cache.kept[("order_id", sell["id"])]
    assert rebuilt is not kept and rebuilt.remaining_t == 70

    [last] = _answers(desk, [_place(buyer, "b3", "buy", 70, 5000)])
    assert not isinstance(last, DomainError) and last["status"] == "filled" and last["filled_t"] == 70
    sold = {o["client_order_id"]: o for o in client.get("/orders", headers=market["people"]["seller"]).json()}
    assert (sold["s1"]["status"], sold["s1"]["filled_t"], sold["s1"]["remaining_t"]) == ("filled", 100, 0)
    asset = f"CREDIT:{market['batch'].id}"
    assert balances(client, market["people"]["buyer"])[(asset, "available")] == 100
    assert balances(client, market["people"]["seller"]).get((asset, "held"), 0) == 0
    assert client.get("/ledger/check", headers=market["operator"]).json()["ok"] is True


def test_the_writer_takes_a_fresh_connection_after_its_own_fails(client: TestClient, market: dict[str, Any]) -> None:
    """The writer keeps one connection from batch to batch (no pool checkout and ping per batch). If it
    breaks (the database restarted, say), that batch is refused as one to retry, nothing of it written, and
    the next batch runs on a new connection."""
    seller, buyer = market["holders"][0], market["holders"][1]
    desk = _desk(client)
    [sell] = _answers(desk, [_place(seller, "s1", "sell", 100, 5000)])
    assert not isinstance(sell, DomainError)
    assert desk.connection is not None
    broken = desk.connection
    broken.connection.dbapi_connection.close()  # type: ignore[union-attr]  # as a server restart would leave it

    [failed] = _answers(desk, [_place(buyer, "b1", "buy", 30, 5000)])
    assert isinstance(failed, DomainError) and failed.status == 503  # the database went away: retry
    [bought] = _answers(desk, [_place(buyer, "b2", "buy", 30, 5000)])
    assert not isinstance(bought, DomainError) and bought["status"] == "filled"
    assert desk.connection is not None and desk.connection is not broken
    mine = client.get("/orders", headers=market["people"]["buyer"]).json()
    assert [o["client_order_id"] for o in mine] == ["b2"]
    assert client.get("/ledger/check", headers=market["operator"]).json()["ok"] is True


def test_a_kept_sell_delivers_its_own_serials_while_a_retirement_holds_others(
        client: TestClient, market: dict[str, Any]) -> None:
    """The writer keeps the serial blocks an open sell holds between batches and delivers from them without
    reading them again; a retirement request of the same seller, made meanwhile in its own transaction, puts
    other serials of the same batch on hold beside them and must be left alone."""
    seller, buyer = market["holders"][0], market["holders"][1]
    people, desk = market["people"], _desk(client)
    [sell] = _answers(desk, [_place(seller, "s1", "sell", 100, 5000)])
    assert not isinstance(sell, DomainError)
    assert ("held_blocks", sell["id"]) in desk.cache.kept
    asked = client.post("/retirements", headers=people["seller"], json={
        "quantity_t": 50, "beneficiary": "嘉兴马拉松组委会",
        "purpose": {"purpose": "event_neutrality", "event_name": "南湖论坛", "event_start": "2026-11-01",
                    "event_end": "2026-11-01", "event_place": "嘉兴", "event_emissions_tco2e": "50"}})
    assert asked.status_code == 201, asked.text
    for cid, quantity in (("b1", 30), ("b2", 70)):
        [bought] = _answers(desk, [_place(buyer, cid, "buy", quantity, 5000)])
        assert not isinstance(bought, DomainError) and bought["status"] == "filled"
    asset = f"CREDIT:{market['batch'].id}"
    assert balances(client, people["seller"])[(asset, "held")] == 50  # the retirement's, untouched
    assert balances(client, people["buyer"])[(asset, "available")] == 100
    first = market["batch"].serial_start
    bought = csv.DictReader(io.StringIO(client.get("/exports/holdings.csv", headers=people["buyer"]).text))
    serials = sorted(n for row in bought for n in range(int(row["serial_start"]), int(row["serial_end"]) + 1))
    assert serials == list(range(first, first + 100))  # the lowest 100: the ones s1 held
    assert client.get("/ledger/check", headers=market["operator"]).json()["ok"] is True


def test_a_batch_of_reads_takes_no_transaction_and_lets_time_pass(
        client: TestClient, market: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Depth and listing-board reads answer from the book as the last commit left it, without touching the
    database; a steady stream of them still lets the book's time pass (expiries, the calendar)."""
    desk, anyone = _desk(client), Principal(0, 0, "public", frozenset())
    [sell] = _answers(desk, [_place(market["holders"][0], "s1", "sell", 10, 5100)])
    assert not isinstance(sell, DomainError)
    statements: list[str] = []

    def count(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    engine = client.app.state.services.registry.engine  # type: ignore[attr-defined]
    ticks: list[int] = []
    here = threading.current_thread()  # the writer's own thread ticks when idle: not what is tested here
    monkeypatch.setattr(desk, "_tick", lambda: ticks.append(1) if threading.current_thread() is here else None)
    reads = [Job(from_params("depth", anyone, {"levels": 5})), Job(from_params("browse", anyone, {"side": "sell"}))]
    event.listen(engine, "before_cursor_execute", count)
    try:
        desk.serve(reads)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert statements == [] and ticks == []  # no transaction; time was let pass less than TICK_S ago
    depth, board = (job.future.result(timeout=5) for job in reads)
    assert depth["depth"]["asks"][0]["price_fen"] == 5100 and board["items"] == []
    desk.last_tick -= 2  # as if reads had kept the writer busy for two seconds
    desk.serve([Job(from_params("depth", anyone, {"levels": 1}))])
    assert ticks == [1]
