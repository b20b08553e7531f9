"""CSV exports, on SQLite and on PostgreSQL: the JSON lists' rows and access rules, every page, Excel-safe."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from api import exports
from registry.context import Registry
from tests.support import bearer, issue_to, order, seed_ledger


def _rows(response: Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM that makes Excel read UTF-8
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def _retire(client: TestClient, holder: dict[str, str], beneficiary: str, quantity_t: int = 1) -> int:
    asked = client.post("/retirements", headers=holder, json={
        "quantity_t": quantity_t, "beneficiary": beneficiary,
        "purpose": {"purpose": "event_neutrality", "event_name": "南湖论坛", "event_start": "2026-11-01",
                    "event_end": "2026-11-01", "event_place": "嘉兴", "event_emissions_tco2e": "1.5"}})
    assert asked.status_code == 201, asked.text
    return int(asked.json()["id"])


@pytest.fixture
def ledger(client: TestClient, registry: Registry) -> dict[str, Any]:
    bureau, holders = seed_ledger(registry)
    batch = issue_to(registry, bureau, 100)
    return {"operator": bearer(client, bureau.user_id), "holder": bearer(client, holders[0].user_id),
            "batch": batch}


def test_retirements_as_csv(client: TestClient, ledger: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    names = ["嘉兴马拉松组委会", "=HYPERLINK(\"http://evil\")", "+86 某公司", "@SUM(A1)", "-1+2"]
    ids = [_retire(client, ledger["holder"], name, quantity_t=i + 1) for i, name in enumerate(names)]
    for rid in ids:
        assert client.post(f"/retirements/{rid}/execute", headers=ledger["operator"]).status_code == 200
    pending = _retire(client, ledger["holder"], "尚未执行")
    monkeypatch.setattr(exports, "MAX_PAGE_SIZE", 2)  # five executed retirements arrive on three pages

    rows = _rows(client.get("/exports/retirements.csv"))
    assert list(rows[0]) == list(exports.EXPORTS["retirements"].columns)
    json_list = client.get("/retirements").json()["items"]
    assert [row["code"] for row in rows] == [r["code"] for r in json_list]  # the JSON list's rows, all of them
    assert len(rows) == 5 and "尚未执行" not in str(rows)  # the public sees executed ones only, as in JSON
    by_quantity = {int(row["quantity_t"]): row for row in rows}
    assert by_quantity[1]["beneficiary"] == "嘉兴马拉松组委会"
    assert [by_quantity[q]["beneficiary"] for q in (2, 3, 4, 5)] == [
        "'=HYPERLINK(\"http://evil\")", "'+86 某公司", "'@SUM(A1)", "'-1+2"]  # never run as formulas
    assert by_quantity[1]["executed_at"] == "2026-11-23T10:00:00+08:00"  # the test clock, in Jiaxing time
    assert by_quantity[1]["serial_blocks"].startswith("JXCI-2023-B")
    assert '"event_name": "南湖论坛"' in by_quantity[1]["details"]
    # The operations center sees requests in the JSON list, so also in the export.
    assert str(pending) in str(client.get("/retirements", headers=ledger["operator"]).json())
    assert "尚未执行" in str(_rows(client.get("/exports/retirements.csv", headers=ledger["operator"])))


def test_issuances_and_methodology_lists(client: TestClient, ledger: dict[str, Any]) -> None:
    rows = _rows(client.get("/exports/issuances.csv"))
    assert [(r["batch_code"], r["quantity_t"], r["monitoring_start"]) for r in rows] == [
        (ledger["batch"].code, "100", "2023-01-01")]
    assert _rows(client.get("/exports/issuances.csv?project_id=999")) == []
    assert _rows(client.get("/exports/revocations.csv")) == []
    assert client.get("/exports/issuances.csv?project_id=0").status_code == 422


def test_own_orders_fills_and_holdings(client: TestClient, market: dict[str, Any]) -> None:
    people = market["people"]
    assert order(client, people["seller"], side="sell", quantity_t=100, price_fen=5000).status_code == 201
    assert order(client, people["buyer"], quantity_t=60, price_fen=5100).status_code == 201
    assert order(client, people["buyer"], quantity_t=5, price_fen=4900).status_code == 201

    buyer_orders = _rows(client.get("/exports/orders.csv", headers=people["buyer"]))
    assert [(r["side"], r["quantity_t"], r["filled_t"], r["status"]) for r in buyer_orders] == [
        ("buy", "5", "0", "open"), ("buy", "60", "60", "filled")]
    assert _rows(client.get("/exports/orders.csv", headers=people["stranger"])) == []
    fills = _rows(client.get("/exports/fills.csv", headers=people["buyer"]))
    assert [(f["side"], f["price_fen"], f["quantity_t"], f["fee_fen"]) for f in fills] == [
        ("buy", "5000", "60", "300")]  # 10 bp of ¥3,000 in fen
    assert [f["side"] for f in _rows(client.get("/exports/fills.csv", headers=people["seller"]))] == ["sell"]
    holdings = _rows(client.get("/exports/holdings.csv", headers=people["buyer"]))
    assert sum(int(h["quantity_t"]) for h in holdings) == 60
    trades = _rows(client.get("/exports/trades.csv?instrument=JXCI-2023"))
    assert [(t["price_fen"], t["quantity_t"]) for t in trades] == [("5000", "60")]
    assert "buy_order_id" not in trades[0] and "participant" not in str(trades)  # no counterparties
    summary = _rows(client.get("/exports/market-summary.csv"))
    assert [(s["instrument"], s["volume_t"], s["turnover_fen"]) for s in summary] == [("JXCI-2023", "60", "300000")]
    missing = client.get("/exports/trades.csv?instrument=NOSUCH-CODE")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/problem+json")


def test_orders_page_by_id(client: TestClient, market: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    people = market["people"]
    for i in range(5):
        assert order(client, people["buyer"], quantity_t=1, price_fen=4500 + i).status_code == 201
    monkeypatch.setattr(exports, "MAX_PAGE_SIZE", 2)
    rows = _rows(client.get("/exports/orders.csv", headers=people["buyer"]))
    assert [r["price_fen"] for r in rows] == ["4504", "4503", "4502", "4501", "4500"]


def test_cells() -> None:
    at = datetime(2026, 11, 23, 17, 30, tzinfo=UTC)
    assert exports.cell(at) == "2026-11-24T01:30:00+08:00"
    assert exports.cell("2026-11-23T17:30:00+00:00") == "2026-11-24T01:30:00+08:00"
    assert exports.cell("2026-11-23") == "2026-11-23" and exports.cell(date(2026, 1, 2)) == "2026-01-02"
    assert [exports.cell(v) for v in (None, True, -5, Decimal("-1.50"), "-1.5", "-1.5e3")] == [
        "", "true", "-5", "-1.50", "-1.5", "'-1.5e3"]
    assert [exports.cell(v) for v in ("=1+1", "+1", "@A1", "\tx", "\rx", "a=b")] == [
        "'=1+1", "'+1", "'@A1", "'\tx", "'\rx", "a=b"]
    assert exports.cell(["a", "=b"]) == "a; '=b"
    assert exports.cell({"k": "值"}) == '{"k": "值"}'
