"""A command fails only itself, never its batch: whatever one command of a writer batch raises (while it is
handled, after the engine changed, or when the batch commits), the other commands commit and are answered as
if it had not been there, and nothing of the failed one is written. Each test hands the instrument's writer
one chosen batch, with one command made to fail."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from api.exchange.commands import Place, from_params
from api.exchange.desk import InstrumentDesk
from api.exchange.writer import Job
from registry.errors import DomainError
from registry.principals import Principal
from registry.services import trading
from registry.statements import Statements
from registry.unit_of_work import UnitOfWork
from rules import trading as trading_rules
from tests.conftest import Backend
from tests.support import DEPOSIT_FEN, balances, owned_desk

YEAR_10000_UTC = "9999-12-31T23:59:59-14:00"


def _place(who: Principal, cid: str, side: str, quantity_t: int, price_fen: int, **extra: Any) -> Job:
    body = {"client_order_id": cid, "side": side, "order_type": "LIMIT", "price_fen": price_fen,
            "quantity_t": quantity_t, "tif": "GTC"} | extra
    return Job(from_params("place", who, body, None, f"{cid}:{side}:{quantity_t}:{price_fen}"))


def _answers(desk: InstrumentDesk, jobs: list[Job]) -> list[dict[str, Any] | DomainError]:
    desk._process(jobs)
    out: list[dict[str, Any] | DomainError] = []
    for job in jobs:
        assert job.future.done()  # everyone is answered by the time the batch is done
        error = job.future.exception()
        out.append(error if isinstance(error, DomainError) else job.future.result())
    return out


def _batch(market: dict[str, Any], culprit: Job) -> list[Job]:
    """Two traders trading with each other, a refusal, and the culprit in the middle."""
    seller, buyer = market["holders"][0], market["holders"][1]
    return [
        _place(seller, "s1", "sell", 100, 5000),
        _place(buyer, "b1", "buy", 10, 5000),  # trades with s1
        _place(buyer, "far", "buy", 10, 9000),  # outside the band: refused by the engine
        culprit,
        _place(seller, "s2", "sell", 30, 5100),
        _place(buyer, "b2", "buy", 20, 5000),  # trades with s1 too
    ]


def _check_the_others_committed(client: TestClient, market: dict[str, Any],
                                answers: list[dict[str, Any] | DomainError]) -> None:
    s1, b1, far, culprit, s2, b2 = answers
    assert isinstance(far, DomainError) and far.code == "order_rejected"
    assert isinstance(culprit, DomainError) and culprit.status == 409 and culprit.code == "state_conflict"
    for answer in (s1, b1, s2, b2):
        assert not isinstance(answer, DomainError), answer
    assert not isinstance(b1, DomainError) and not isinstance(b2, DomainError)
    assert (b1["status"], b2["status"]) == ("filled", "filled")
    people = market["people"]
    bought = {o["client_order_id"]: o["status"] for o in client.get("/orders", headers=people["buyer"]).json()}
    assert bought == {"b1": "filled", "b2": "filled"}  # nothing of the culprit (nor of the refusal) was written
    sold = {o["client_order_id"]: o["remaining_t"] for o in client.get("/orders", headers=people["seller"]).json()}
    assert sold == {"s1": 70, "s2": 30}
    asset = f"CREDIT:{market['batch'].id}"
    assert balances(client, people["buyer"])[(asset, "available")] == 30
    assert client.get("/cash", headers=people["buyer"]).json()["balances_fen"] == {
        "available": DEPOSIT_FEN - 30 * 5000 - 30 * 5000 * 10 // 10_000, "held": 0}
    check = client.get("/ledger/check", headers=market["operator"]).json()
    assert check["ok"], check["problems"]


def test_a_command_that_raises_after_the_engine_changed_fails_alone(
        client: TestClient, market: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    desk = owned_desk(client, "JXCI-2023")
    record = trading.record_order

    def record_or_fail(uow: UnitOfWork, plan: trading.OrderPlan) -> Any:
        if plan.order.client_order_id == "boom":
            raise RuntimeError("injected: recording this order failed")
        return record(uow, plan)

    monkeypatch.setattr(trading, "record_order", record_or_fail)
    answers = _answers(desk, _batch(market, _place(market["holders"][1], "boom", "buy", 5, 5000)))
    _check_the_others_committed(client, market, answers)


def test_a_command_that_raises_before_the_engine_fails_alone(
        client: TestClient, market: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    desk = owned_desk(client, "JXCI-2023")
    place = InstrumentDesk._place

    def place_or_fail(self: InstrumentDesk, uow: UnitOfWork, command: Place) -> Any:
        if command.client_order_id == "boom":
            raise KeyError("injected: a field the handler needs is missing")
        return place(self, uow, command)

    monkeypatch.setattr(InstrumentDesk, "_place", place_or_fail)
    answers = _answers(desk, _batch(market, _place(market["holders"][1], "boom", "buy", 5, 5000)))
    _check_the_others_committed(client, market, answers)


def test_a_command_whose_rows_the_commit_refuses_fails_alone(
        client: TestClient, market: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The commit cannot say which command it choked on: the batch goes again in halves until the command
    that fails is alone, so everyone else's commits (in their order) and only it is refused."""
    desk = owned_desk(client, "JXCI-2023")
    insert_rows = Statements.insert_rows

    def insert_or_fail(sql: Statements, table: str, rows: list[dict[str, Any]]) -> None:
        if table == "orders" and any(row.get("client_order_id") == "boom" for row in rows):
            raise OverflowError("injected: the database cannot store a value of this row")
        insert_rows(sql, table, rows)

    monkeypatch.setattr(Statements, "insert_rows", insert_or_fail)
    answers = _answers(desk, _batch(market, _place(market["holders"][1], "boom", "buy", 5, 5000)))
    _check_the_others_committed(client, market, answers)


def test_a_batch_whose_every_command_fails_answers_each_and_the_book_keeps_serving(
        client: TestClient, market: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    desk = owned_desk(client, "JXCI-2023")
    buyer = market["holders"][1]

    def fail(*_: Any) -> None:
        raise RuntimeError("injected: the database went away")

    with monkeypatch.context() as patch:
        patch.setattr(desk, "_save_engine_state", fail)
        answers = _answers(desk, [_place(buyer, f"b{i}", "buy", 1, 4900) for i in range(5)])
    assert all(isinstance(a, DomainError) and a.status == 409 for a in answers)
    [after] = _answers(desk, [_place(buyer, "next", "buy", 1, 4900)])
    assert not isinstance(after, DomainError) and after["status"] == "open"
    assert [o["client_order_id"] for o in client.get("/orders", headers=market["people"]["buyer"]).json()] == ["next"]


def test_an_expiry_in_year_10000_planted_past_validation_fails_only_its_own_order(
        client: TestClient, market: dict[str, Any], backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """The review's case, with the API's bounds out of the way. SQLite cannot store the instant: the commit
    fails, and only that order is refused. PostgreSQL stores it (year 10000 in UTC): the order is accepted,
    and the next rebuild of the book quarantines it (test_book_quarantine)."""
    desk = owned_desk(client, "JXCI-2023")
    monkeypatch.setattr(trading_rules, "instant_problem", lambda *_: None)
    monkeypatch.setattr(trading_rules, "in_utc", lambda at: at)
    culprit = _place(market["holders"][1], "boom", "buy", 5, 4900, tif="GTD", expires_at=YEAR_10000_UTC)
    answers = _answers(desk, _batch(market, culprit))
    if backend.name == "sqlite":
        _check_the_others_committed(client, market, answers)
        return
    s1, b1, _, boom, s2, b2 = answers
    assert not isinstance(boom, DomainError) and boom["status"] == "open"
    assert all(not isinstance(answer, DomainError) for answer in (s1, s2))
    assert not isinstance(b1, DomainError) and not isinstance(b2, DomainError)
    assert (b1["status"], b2["status"]) == ("filled", "filled")

    def fail(*_: Any) -> None:
        raise RuntimeError("injected: the database went away")

    # The next rebuild of the book (here, after a batch that failed) cannot read the order back: it
    # quarantines it (cancelled, its cash released) and the book goes on.
    with monkeypatch.context() as patch:
        patch.setattr(desk, "_save_engine_state", fail)
        [failed] = _answers(desk, [_place(market["holders"][1], "x1", "buy", 1, 4000)])
    assert isinstance(failed, DomainError)
    buyer = market["people"]["buyer"]
    mine = {o["client_order_id"]: (o["status"], o["reason"]) for o in client.get("/orders", headers=buyer).json()}
    assert mine == {"b1": ("filled", None), "b2": ("filled", None), "boom": ("cancelled", "QUARANTINED")}
    assert client.get("/cash", headers=buyer).json()["balances_fen"]["held"] == 0


def test_a_failure_before_any_command_fails_the_batch_and_the_book_keeps_serving(
        client: TestClient, market: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Letting the calendar's time pass comes before the commands: no command is to blame when it fails, so
    the batch is refused as one to retry (nothing written), and the rebuilt book serves the next."""
    desk = owned_desk(client, "JXCI-2023")
    buyer = market["holders"][1]

    def fail(*_: Any) -> None:
        raise RuntimeError("injected: the calendar could not be applied")

    with monkeypatch.context() as patch:
        patch.setattr(desk, "_follow_calendar", fail)
        answers = _answers(desk, [_place(buyer, f"b{i}", "buy", 1, 4900) for i in range(3)])
    assert all(isinstance(a, DomainError) and a.status == 409 for a in answers)
    [after] = _answers(desk, [_place(buyer, "b0", "buy", 1, 4900)])
    assert not isinstance(after, DomainError) and after["status"] == "open"


def test_a_failure_after_the_commit_never_sends_the_batch_round_again(
        client: TestClient, market: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Once a batch has committed, its callers are told what was done, even if what the writer does next
    (keeping the book's open orders, telling the market) fails: the batch must not run twice. The book is
    rebuilt before the next batch."""
    desk = owned_desk(client, "JXCI-2023")
    seller, buyer = market["holders"][0], market["holders"][1]

    def fail(*_: Any) -> None:
        raise RuntimeError("injected: failed after the commit")

    with monkeypatch.context() as patch:
        patch.setattr(trading, "keep_open_orders", fail)
        patch.setattr(desk, "_publish", fail)
        sell, buy = _answers(desk, [_place(seller, "s1", "sell", 100, 5000), _place(buyer, "b1", "buy", 10, 5000)])
    assert not isinstance(sell, DomainError) and not isinstance(buy, DomainError)
    assert (sell["status"], buy["status"]) == ("open", "filled")
    assert desk.stale
    # The next batch finds the book rebuilt from what was committed (serve rebuilds a stale book first).
    [cancel] = [Job(from_params("cancel", seller, {"order_id": sell["id"]}))]
    desk.serve([cancel])
    cancelled = cancel.future.result(timeout=5)
    assert (cancelled["status"], cancelled["remaining_t"]) == ("cancelled", 0)
    trades = client.get("/market/JXCI-2023/trades").json()
    assert len(trades) == 1  # b1 traded once
    check = client.get("/ledger/check", headers=market["operator"]).json()
    assert check["ok"], check["problems"]


def test_a_commit_that_may_have_landed_is_answered_outcome_unknown_and_never_tried_again(
        client: TestClient, market: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The connection is lost just after the COMMIT reached the database: the batch took effect, but the
    writer cannot know. Trying its commands again (as halves) found what the first try wrote and refused a
    cancel that had taken effect ("the order is cancelled", 409); now every command of the run is answered
    outcome_unknown (503) and the caller asks by client_order_id."""
    desk = owned_desk(client, "JXCI-2023")
    seller, buyer = market["holders"][0], market["holders"][1]
    (resting,) = _answers(desk, [_place(seller, "s0", "sell", 100, 5100)])
    assert not isinstance(resting, DomainError)
    real_commit = UnitOfWork.commit
    armed = [True]

    def lost_after_commit(uow: UnitOfWork) -> None:
        real_commit(uow)
        if armed and uow.cache.defer_balances:  # the writer's transaction, once
            armed.clear()
            raise OperationalError("COMMIT", None, Exception("server closed the connection unexpectedly"))

    cancel = Job(from_params("cancel", seller, {"order_id": resting["id"]}))
    with monkeypatch.context() as patch:
        patch.setattr(UnitOfWork, "commit", lost_after_commit)
        answers = _answers(desk, [cancel, _place(buyer, "b1", "buy", 10, 4900)])
    assert not armed
    for answer in answers:
        assert isinstance(answer, DomainError) and (answer.status, answer.code) == (503, "outcome_unknown"), answer
    # Both took effect; asking again tells so.
    people = market["people"]
    sold = {o["client_order_id"]: o["status"] for o in client.get("/orders", headers=people["seller"]).json()}
    assert sold == {"s0": "cancelled"}
    (again,) = _answers(desk, [_place(buyer, "b1", "buy", 10, 4900)])
    assert not isinstance(again, DomainError) and again["status"] == "open", again
    check = client.get("/ledger/check", headers=market["operator"]).json()
    assert check["ok"], check["problems"]
