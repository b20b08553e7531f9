"""Continuous trading through HTTP on both backends: holds, delivery versus payment in the ledger,
cancels and amends releasing holds, idempotency, refusals that leave nothing held, and a restart that
rebuilds the book from the database."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.exchange.routing import Exchange
from registry.clock import FixedClock
from registry.context import Registry
from tests.support import DEPOSIT_FEN, balances, bearer, make_user, order


def test_a_trade_settles_delivery_versus_payment(client: TestClient, market: dict[str, Any]) -> None:
    people, batch = market["people"], market["batch"]
    sell = order(client, people["seller"], side="sell", quantity_t=100, price_fen=5000, client_order_id="s1")
    assert sell.status_code == 201, sell.text
    asset = f"CREDIT:{batch.id}"
    assert balances(client, people["seller"])[(asset, "held")] == 100
    buy = order(client, people["buyer"], quantity_t=60, price_fen=5100, client_order_id="b1")
    assert buy.status_code == 201, buy.text
    assert buy.json()["status"] == "filled" and buy.json()["filled_t"] == 60
    # 60 t at the resting price 5,000 fen: 300,000 fen plus a 10 bp fee of 300 fen; the 5,100 hold is released.
    assert client.get("/cash", headers=people["buyer"]).json()["balances_fen"] == {
        "available": DEPOSIT_FEN - 300_300, "held": 0}
    assert client.get("/cash", headers=people["seller"]).json()["balances_fen"]["available"] == 300_000
    assert balances(client, people["buyer"])[(asset, "available")] == 60
    assert balances(client, people["seller"])[(asset, "held")] == 40
    fills = client.get("/fills", headers=people["buyer"]).json()
    assert fills[0]["price_fen"] == 5000 and fills[0]["fee_fen"] == 300 and fills[0]["side"] == "buy"
    trades = client.get("/market/JXCI-2023/trades").json()
    assert trades[0]["quantity_t"] == 60 and "buy_order_id" not in trades[0]
    depth = client.get("/market/JXCI-2023/depth").json()
    assert depth["depth"]["asks"] == [{"price_fen": 5000, "quantity_t": 40, "order_count": 1}]
    assert depth["price_band_fen"] == [4500, 5500] and depth["bar"]["volume_t"] == 60
    # The buyer's tonnes are the seller's lowest serials, moved by the trade.
    life = client.get(f"/serials/{batch.serial_start}").json()
    assert life["transferred_times"] == 1 and life["events"][-1]["kind"] == "trade_delivery"
    cancelled = client.delete(f"/orders/{sell.json()['id']}", headers=people["seller"])
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert balances(client, people["seller"]).get((asset, "held"), 0) == 0
    assert balances(client, people["seller"])[(asset, "available")] == 940
    check = client.get("/ledger/check", headers=market["operator"]).json()
    assert check["ok"], check["problems"]


def test_refusals_leave_nothing_held(client: TestClient, market: dict[str, Any]) -> None:
    people = market["people"]
    not_admitted = bearer(client, make_user(client.app.state.services.registry, "late", ["trader"]))  # type: ignore[attr-defined]
    refused = order(client, not_admitted, client_order_id="x1")
    assert refused.status_code == 409 and refused.json()["rule_codes"] == ["JX-19"]
    too_dear = order(client, people["buyer"], price_fen=5501, client_order_id="x2")
    assert too_dear.status_code == 409 and too_dear.json()["rule_codes"] == ["PRICE_ABOVE_BAND"]
    at_band = order(client, people["buyer"], price_fen=5500, client_order_id="x3")
    assert at_band.status_code == 201
    broke = order(client, people["buyer"], quantity_t=100_000, price_fen=5000, client_order_id="x4")
    assert broke.status_code == 409
    no_credits = order(client, people["stranger"], side="sell", client_order_id="x5")
    assert no_credits.status_code == 409
    cash = client.get("/cash", headers=people["buyer"]).json()["balances_fen"]
    assert cash["held"] == 10 * 5500 + 10 * 5500 * 10 // 10_000  # only the accepted order's hold
    check = client.get("/ledger/check", headers=market["operator"]).json()
    assert check["ok"], check["problems"]


def test_idempotent_retries(client: TestClient, market: dict[str, Any]) -> None:
    people = market["people"]
    first = order(client, people["buyer"], client_order_id="same")
    again = order(client, people["buyer"], client_order_id="same")
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    changed = order(client, people["buyer"], client_order_id="same", quantity_t=11)
    assert changed.status_code == 422
    headers = people["buyer"] | {"Idempotency-Key": "key-1"}
    one = order(client, headers, client_order_id="k1")
    two = order(client, headers, client_order_id="k1")
    assert one.json() == two.json()
    reuse = order(client, headers, client_order_id="k2")
    assert reuse.status_code == 422
    assert len(client.get("/orders?status=open", headers=people["buyer"]).json()) == 2


def test_amend_and_market_orders(client: TestClient, market: dict[str, Any]) -> None:
    people = market["people"]
    resting = order(client, people["buyer"], quantity_t=20, price_fen=4900, client_order_id="a1").json()
    held_before = client.get("/cash", headers=people["buyer"]).json()["balances_fen"]["held"]
    cut = client.patch(f"/orders/{resting['id']}", headers=people["buyer"], json={"quantity_t": 5})
    assert cut.status_code == 200, cut.text
    held_after = client.get("/cash", headers=people["buyer"]).json()["balances_fen"]["held"]
    assert held_before == 20 * 4900 + 98 and held_after == 5 * 4900 + 24
    sell = order(client, people["seller"], side="sell", quantity_t=30, price_fen=5000, client_order_id="a2")
    assert sell.status_code == 201
    market_buy = order(client, people["buyer"], order_type="MARKET", price_fen=None, quantity_t=8,
                       client_order_id="a3")
    assert market_buy.status_code == 201, market_buy.text
    assert market_buy.json()["status"] == "filled"
    # Raising the resting bid to cross the ask trades at once, at the ask.
    raised = client.patch(f"/orders/{resting['id']}", headers=people["buyer"], json={"price_fen": 5000})
    assert raised.status_code == 200 and raised.json()["status"] == "filled"
    assert client.get("/cash", headers=people["buyer"]).json()["balances_fen"]["held"] == 0
    check = client.get("/ledger/check", headers=market["operator"]).json()
    assert check["ok"], check["problems"]


def test_a_restart_rebuilds_the_book(client: TestClient, market: dict[str, Any], registry: Registry) -> None:
    people = market["people"]
    order(client, people["seller"], side="sell", quantity_t=50, price_fen=5200, client_order_id="r1")
    order(client, people["seller"], side="sell", quantity_t=50, price_fen=5100, client_order_id="r2")
    services = client.app.state.services  # type: ignore[attr-defined]
    services.exchange.stop()
    services.exchange = Exchange(registry, services.settings.exchange_fee_bp)  # a new process, same database
    depth = client.get("/market/JXCI-2023/depth").json()
    assert [level["price_fen"] for level in depth["depth"]["asks"]] == [5100, 5200]
    filled = order(client, people["buyer"], quantity_t=60, price_fen=5200, client_order_id="r3").json()
    assert filled["status"] == "filled"
    trades = client.get("/market/JXCI-2023/trades").json()
    assert [(t["price_fen"], t["quantity_t"]) for t in trades] == [(5200, 10), (5100, 50)]
    check = client.get("/ledger/check", headers=market["operator"]).json()
    assert check["ok"], check["problems"]


def test_market_data_streams_and_daily_bars(client: TestClient, market: dict[str, Any]) -> None:
    people = market["people"]
    with client.websocket_connect("/ws/market/JXCI-2023") as stream:
        first = stream.receive_json()
        assert first["type"] == "book" and first["depth"]["asks"] == []
        order(client, people["seller"], side="sell", quantity_t=30, price_fen=5000, client_order_id="m1")
        book = stream.receive_json()
        assert book["type"] == "book" and book["depth"]["asks"][0]["quantity_t"] == 30
        order(client, people["buyer"], quantity_t=10, price_fen=5000, client_order_id="m2")
        trade = stream.receive_json()
        assert trade == trade | {"type": "trade", "price_fen": 5000, "quantity_t": 10, "aggressor": "buy"}
        assert "buy_order_id" not in trade and "account" not in str(trade)
        assert stream.receive_json()["top"]["ask_quantity_t"] == 20
    order(client, people["buyer"], quantity_t=5, price_fen=5000, client_order_id="m3")
    bars = client.get("/market/JXCI-2023/ohlcv").json()
    assert bars == [{"trading_day": "2026-11-23", "open_fen": 5000, "high_fen": 5000, "low_fen": 5000,
                     "close_fen": 5000, "volume_t": 15, "turnover_fen": 75_000, "trades": 2}]
    summary = client.get("/market/summary?day=2026-11-23").json()
    assert summary["volume_t"] == 15 and summary["instruments"][0]["bar"]["trades"] == 2
    with pytest.raises(Exception), client.websocket_connect("/ws/market/NOPE-CODE") as gone:
        gone.receive_json()


def test_the_writer_survives_a_failed_batch_and_a_failed_rebuild(client: TestClient, market: dict[str, Any],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from api.exchange.desk import InstrumentDesk

    people = market["people"]
    assert order(client, people["buyer"], client_order_id="w0").status_code == 201
    desk: InstrumentDesk = next(iter(client.app.state.services.exchange._desks.values()))  # type: ignore[attr-defined]

    def database_gone(*_: Any) -> None:
        raise ConnectionError("database unreachable")

    monkeypatch.setattr(desk, "_save_engine_state", database_gone)
    monkeypatch.setattr(desk, "_rebuild", database_gone)
    failed = order(client, people["buyer"], client_order_id="w1")
    assert failed.status_code == 409 and failed.json()["code"] == "state_conflict"
    unreachable = order(client, people["buyer"], client_order_id="w2")  # the book cannot be rebuilt: retry later
    assert unreachable.status_code == 503 and unreachable.json()["code"] == "unavailable", unreachable.text
    assert unreachable.headers["Retry-After"] == "1"
    monkeypatch.undo()
    back = order(client, people["buyer"], client_order_id="w3")
    assert back.status_code == 201, back.text
    assert desk.thread.is_alive()
    assert [o["client_order_id"] for o in client.get("/orders", headers=people["buyer"]).json()] == ["w3", "w0"]
    check = client.get("/ledger/check", headers=market["operator"]).json()
    assert check["ok"], check["problems"]


def test_orders_follow_the_trading_calendar(client: TestClient, market: dict[str, Any],
                                            clock: FixedClock) -> None:
    people = market["people"]
    assert order(client, people["buyer"], client_order_id="h1").status_code == 201  # Monday 10:00
    clock.advance(timedelta(hours=2))  # 12:00, the lunch break
    lunch = order(client, people["buyer"], client_order_id="h2")
    assert lunch.status_code == 409 and lunch.json()["rule_codes"] == ["TRADING_HALTED"]
    clock.advance(timedelta(hours=4))  # 16:00, closed
    assert order(client, people["buyer"], client_order_id="h3").json()["rule_codes"] == ["MARKET_CLOSED"]
    clock.advance(timedelta(hours=18))  # Tuesday 10:00
    assert order(client, people["buyer"], client_order_id="h4").status_code == 201
    check = client.get("/ledger/check", headers=people["operator"]).json()
    assert check["ok"], check["problems"]


def test_the_opening_call_auction_uncrosses_at_one_price(client: TestClient, market: dict[str, Any],
                                                          clock: FixedClock) -> None:
    people = market["people"]
    clock.advance(timedelta(hours=23, minutes=20))  # Tuesday 09:20: the call auction
    assert order(client, people["seller"], side="sell", quantity_t=40, price_fen=4950, client_order_id="c1").json()[
        "status"] == "open"
    buy = order(client, people["buyer"], quantity_t=30, price_fen=5050, client_order_id="c2")
    assert buy.status_code == 201 and buy.json()["filled_t"] == 0  # no trading during the call
    clock.advance(timedelta(minutes=10))  # 09:30: the uncross, then continuous trading
    late = order(client, people["buyer"], quantity_t=1, price_fen=4800, client_order_id="c3")
    assert late.status_code == 201, late.text
    trades = client.get("/market/JXCI-2023/trades").json()
    assert [(t["quantity_t"], t["mode"]) for t in trades] == [(30, "CALL_AUCTION")]
    assert trades[0]["price_fen"] in range(4950, 5051)
    check = client.get("/ledger/check", headers=people["operator"]).json()
    assert check["ok"], check["problems"]
