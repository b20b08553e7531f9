"""The market's reference data through HTTP: trading admission, cash in fen from bank confirmations,
instruments mapped to the registry's batches."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from registry.context import Registry
from tests.support import People, bearer, issue_to, make_user, participant_id, seed_ledger


@pytest.fixture
def people(client: TestClient, registry: Registry) -> People:
    return People(client, {name: make_user(registry, name, [role]) for name, role in
                           (("operator", "operator"), ("buyer", "trader"), ("bureau", "bureau"))})


def test_admission_and_suspension(client: TestClient, registry: Registry, people: People) -> None:
    pid = participant_id(registry, "buyer")
    admitted = client.post(f"/market/participants/{pid}/admission", headers=people["operator"],
                           json={"trading_status": "admitted", "reason": "材料齐全"})
    assert admitted.status_code == 200 and admitted.json()["trading_status"] == "admitted"
    client.post(f"/admin/participants/{pid}/status", headers=people["bureau"],
                json={"status": "disqualified", "reason": "Art. 26"})
    refused = client.post(f"/market/participants/{pid}/admission", headers=people["operator"],
                          json={"trading_status": "admitted", "reason": "again"})
    assert refused.status_code == 409 and refused.json()["rule_codes"] == ["JX-26"]
    assert client.post("/market/participants/999999/admission", headers=people["operator"],
                       json={"trading_status": "admitted", "reason": "x" * 3}).status_code == 404


def test_cash_deposits_and_withdrawals(client: TestClient, registry: Registry, people: People) -> None:
    pid = participant_id(registry, "buyer")
    deposit = {"participant_id": pid, "amount_fen": 1_000_000, "bank_reference": "ICBC-2026-0001"}
    first = client.post("/cash/deposits", headers=people["operator"], json=deposit)
    assert first.status_code == 201 and first.json()["balances_fen"] == {"available": 1_000_000, "held": 0}
    again = client.post("/cash/deposits", headers=people["operator"], json=deposit)
    assert again.status_code == 409
    too_much = client.post("/cash/withdrawals", headers=people["operator"], json={
        "participant_id": pid, "amount_fen": 1_000_001, "bank_reference": "ICBC-2026-0002"})
    assert too_much.status_code == 409
    exact = client.post("/cash/withdrawals", headers=people["operator"], json={
        "participant_id": pid, "amount_fen": 1_000_000, "bank_reference": "ICBC-2026-0003"})
    assert exact.status_code == 201 and exact.json()["balances_fen"]["available"] == 0
    mine = client.get("/cash", headers=people["buyer"]).json()
    assert [m["kind"] for m in mine["movements"]] == ["withdrawal", "deposit"]
    for bad in ({"amount_fen": 0}, {"amount_fen": 1.5}, {"amount_fen": 10**16}, {"bank_reference": "a b"}):
        assert client.post("/cash/deposits", headers=people["operator"],
                           json=deposit | {"bank_reference": "X-0009"} | bad).status_code == 422
    check = client.get("/ledger/check", headers=people["operator"]).json()
    assert check["ok"], check["problems"]


def test_instruments_map_to_batches(client: TestClient, registry: Registry, people: People) -> None:
    bureau, _ = seed_ledger(registry)
    batch = issue_to(registry, bureau, 10)  # vintage 2023, methodology field "other"
    made = client.post("/instruments", headers=people["operator"], json={
        "code": "JXCI-2023", "name_zh": "2023年度核证减排量", "name_en": "2023 vintage", "vintage": 2023,
        "settings": {"reference_price_fen": 5000}})
    assert made.status_code == 201, made.text
    assert made.json()["batch_ids"] == [batch.id]
    overlap = client.post("/instruments", headers=people["operator"], json={
        "code": "JXCI-2023-OTHER", "name_zh": "x", "name_en": "x", "vintage": 2023, "methodology_field": "other"})
    assert overlap.status_code == 409
    narrow = client.post("/instruments", headers=people["operator"], json={
        "code": "JXCI-2024-PV", "name_zh": "x", "name_en": "x", "vintage": 2024,
        "methodology_field": "renewable_energy"})
    assert narrow.status_code == 201 and narrow.json()["batch_ids"] == []
    inconsistent = client.post("/instruments", headers=people["operator"], json={
        "code": "JXCI-2025", "name_zh": "x", "name_en": "x", "vintage": 2025,
        "settings": {"min_order_t": 10, "max_order_t": 5}})
    assert inconsistent.status_code == 422
    assert [i["code"] for i in client.get("/instruments").json()] == ["JXCI-2023", "JXCI-2024-PV"]
    halted = client.post("/instruments/JXCI-2023/status", headers=people["operator"],
                         json={"status": "halted", "reason": "盘中异常"})
    assert halted.json()["status"] == "halted"
    assert client.get("/instruments/NOPE-CODE").status_code == 404
    assert client.post("/instruments", headers=bearer(client, make_user(registry, "t2", ["trader"])),
                       json={}).status_code == 403


def test_the_trading_calendar_is_public(client: TestClient) -> None:
    body = client.get("/market/calendar").json()
    assert body["timezone"] == "Asia/Shanghai" and body["years"] == [2025, 2026]
    assert body["today"] == "2026-11-23" and body["today_is_trading_day"] is True
    assert body["next_trading_day"] == "2026-11-24"
    assert body["sessions"] == [["09:30", "11:30"], ["13:00", "15:00"]]
    # Today is after every 2026 holiday and the 2027 notice is not in the calendar yet: nothing closes ahead.
    assert body["closures"] == []
