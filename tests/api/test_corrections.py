"""Correction orders (责令限期改正, Art. 26) through HTTP on both backends: the bureau orders with a deadline of
1–90 days, the owner answers up to and including the deadline, the bureau accepts (closed) or rejects, or
finds the deadline passed from the next day; a rejection or a lapse disqualifies the owner and takes the credits
back with a public notice naming the order. An immediate revocation supersedes an open order."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from registry.clock import FixedClock
from registry.context import Registry
from registry.demo import load_demo
from tests.api.test_reduction_lifecycle import issue, new_filing, verified_and_applied
from tests.support import People, demo_people, upload

PDF = b"%PDF-1.4\n% corrected material\n"
FINDING = "核算报告中的上网电量与电网公司结算单不符，请提交更正后的核算报告及结算单。"


@pytest.fixture
def people(client: TestClient, registry: Registry) -> People:
    load_demo(registry)
    return demo_people(client, registry)


@pytest.fixture
def batch(client: TestClient, people: People) -> dict[str, Any]:
    """The batch the demo issued to the mill (first half of 2025), with `held_t`: what is not retired (the demo's
    event retired some of it for its neutrality), which is what a sanction can take back."""
    items = client.get("/disclosure/issuances").json()["items"]
    assert len(items) == 1
    retired = sum(r["quantity_t"] for r in client.get("/retirements", params={"status": "executed"}).json()["items"])
    return dict(items[0]) | {"held_t": items[0]["quantity_t"] - retired}


def order(client: TestClient, people: People, batch_id: int, days: int) -> Any:
    return client.post(f"/batches/{batch_id}/corrections", headers=people["bureau"],
                       json={"finding": FINDING, "deadline_days": days})


def respond(client: TestClient, people: People, order_id: int) -> Any:
    corrected = upload(client, people["owner"], PDF + str(order_id).encode())
    return client.post(f"/corrections/{order_id}/response", headers=people["owner"], json={
        "explanation": "已更正上网电量并附电网公司结算单。", "documents": [corrected]})


def decide(client: TestClient, people: People, order_id: int, decision: str, notice: str = "") -> Any:
    return client.post(f"/corrections/{order_id}/decision", headers=people["bureau"],
                       json={"decision": decision, "comment": "经审查决定", "notice": notice})


def participant_status(client: TestClient, people: People, who: str) -> str:
    return str(client.get("/auth/me", headers=people[who]).json()["participant_status"])


@pytest.mark.parametrize("days,ok", [(0, False), (1, True), (90, True), (91, False)])
def test_the_deadline_is_one_to_ninety_days(client: TestClient, people: People, batch: dict[str, Any],
                                            days: int, ok: bool) -> None:
    answer = order(client, people, batch["batch_id"], days)
    if ok:
        assert answer.status_code == 201, answer.text
        assert answer.json()["deadline_days"] == days and answer.json()["status"] == "ordered"
    else:
        assert answer.status_code == 409 and answer.json()["rule_codes"] == ["JX-26"]
        assert answer.json()["violations"][0]["field"] == "deadline_days"
    assert client.post(f"/batches/{batch['batch_id']}/corrections", headers=people["bureau"],
                       json={"finding": FINDING, "deadline_days": -1}).status_code == 422


def test_an_accepted_correction_closes_the_order(client: TestClient, people: People, batch: dict[str, Any],
                                                 clock: FixedClock) -> None:
    ordered = order(client, people, batch["batch_id"], 7).json()
    oid = ordered["id"]
    assert ordered["code"].startswith("JXC-") and ordered["ordered_on"] == "2026-11-23"
    assert ordered["deadline"] == "2026-11-30" and ordered["finding"] == FINDING
    # One open order per batch.
    assert order(client, people, batch["batch_id"], 7).json()["rule_codes"] == ["JX-26"]
    # Seen by the bureau and the owner only while it runs; another owner cannot answer it.
    assert client.get(f"/corrections/{oid}").status_code == 404
    assert client.get(f"/corrections/{oid}", headers=people["household"]).status_code == 404
    assert client.get(f"/corrections/{oid}", headers=people["owner"]).json()["status"] == "ordered"
    assert client.post(f"/corrections/{oid}/response", headers=people["household"], json={
        "explanation": "不相干的答复"}).status_code == 404
    # Nothing to accept before an answer.
    assert decide(client, people, oid, "accept").json()["rule_codes"] == ["JX-26"]
    clock.advance(timedelta(days=7))  # the last day to answer
    answered = respond(client, people, oid)
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "responded" and len(answered.json()["response_documents"]) == 1
    assert respond(client, people, oid).json()["rule_codes"] == ["JX-26"]  # answered once
    # The bureau reads the corrected material.
    document = answered.json()["response_documents"][0]
    assert client.get(f"/documents/{document}", headers=people["bureau"]).status_code == 200
    accepted = decide(client, people, oid, "accept")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert participant_status(client, people, "owner") == "active"
    assert client.get("/disclosure/revocations").json()["items"] == []
    assert client.get("/corrections").json()["items"] == []  # nothing to publish
    actions = [e["action"] for e in client.get("/audit/entries", headers=people["bureau"], params={
        "subject_type": "correction_order", "subject_id": str(oid)}).json()["items"]]
    assert sorted(actions) == ["correction.decided", "correction.ordered", "correction.responded"]
    # Closed: a new order of the same batch may follow.
    assert order(client, people, batch["batch_id"], 7).status_code == 201


def test_a_missed_deadline_disqualifies_and_takes_back(client: TestClient, people: People,
                                                      batch: dict[str, Any], clock: FixedClock) -> None:
    oid = order(client, people, batch["batch_id"], 7).json()["id"]
    clock.advance(timedelta(days=7))
    on_deadline = decide(client, people, oid, "lapse", notice="关于取消某公司碳普惠市场参与资格的通报")
    assert on_deadline.status_code == 409 and on_deadline.json()["rule_codes"] == ["JX-26"]
    assert "2026-12-01" in on_deadline.json()["violations"][0]["message_en"]
    clock.advance(timedelta(days=1))
    late = respond(client, people, oid)
    assert late.status_code == 409 and late.json()["rule_codes"] == ["JX-26"]
    assert decide(client, people, oid, "lapse").json()["violations"][0]["field"] == "notice"
    lapsed = decide(client, people, oid, "lapse", notice="关于取消某公司碳普惠市场参与资格的通报")
    assert lapsed.status_code == 200, lapsed.text
    body = lapsed.json()
    assert body["status"] == "lapsed" and body["revocation_id"] is not None
    assert body["code"] in body["notice"] and "逾期未改正" in body["notice"]
    assert participant_status(client, people, "owner") == "disqualified"
    revoked = client.get("/disclosure/revocations").json()["items"]
    assert [(r["id"], r["quantity_t"]) for r in revoked] == [(body["revocation_id"], batch["held_t"])]
    assert body["code"] in revoked[0]["notice"]
    # The public notice (公开通报): the public sees the order, not the finding.
    public = client.get("/corrections").json()["items"]
    assert [(o["id"], o["status"], o["finding"]) for o in public] == [(oid, "lapsed", None)]
    assert client.get(f"/corrections/{oid}").json()["notice"] == body["notice"]
    check = client.get("/ledger/check", headers=people["operator"]).json()
    assert check["ok"], check["problems"]
    assert client.get("/audit/verify", headers=people["bureau"]).json()["ok"] is True


def test_a_rejected_correction_disqualifies_and_takes_back_what_is_unretired(
        client: TestClient, people: People, registry: Registry, clock: FixedClock) -> None:
    fid = new_filing(client, people, registry)["id"]
    verified_and_applied(client, people, registry, fid)
    issued = issue(client, people, clock, fid)  # 700 t
    buyer_code = client.get("/accounts", headers=people["buyer"]).json()[0]["code"]
    assert client.post("/transfers", headers=people["owner"], json={
        "to_account_code": buyer_code, "quantity_t": 100, "batch_id": issued["batch_id"]}).status_code == 201
    retired = client.post("/retirements", headers=people["buyer"], json={
        "quantity_t": 30, "beneficiary": "某会议", "purpose": {"purpose": "voluntary"}, "batch_id": issued["batch_id"]})
    client.post(f"/retirements/{retired.json()['id']}/execute", headers=people["operator"])
    oid = order(client, people, issued["batch_id"], 30).json()["id"]
    assert respond(client, people, oid).status_code == 200
    # An answered order does not lapse, however late the bureau decides.
    clock.advance(timedelta(days=40))
    assert decide(client, people, oid, "lapse", notice="通报").json()["rule_codes"] == ["JX-26"]
    rejected = decide(client, people, oid, "reject", notice="关于收回某项目核证减排量的通报")
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert "未被接受" in rejected.json()["notice"]
    assert participant_status(client, people, "owner") == "disqualified"
    revocation = client.get("/disclosure/revocations").json()["items"][0]
    assert revocation["quantity_t"] == 670  # 700 issued − 30 retired, wherever the rest sits
    assert decide(client, people, oid, "accept").json()["rule_codes"] == ["JX-26"]  # decided once


def test_a_sanction_with_nothing_left_to_take_back_still_disqualifies(
        client: TestClient, people: People, batch: dict[str, Any], clock: FixedClock) -> None:
    everything = client.post("/retirements", headers=people["owner"], json={
        "quantity_t": batch["held_t"], "beneficiary": "自身碳中和", "purpose": {"purpose": "voluntary"},
        "batch_id": batch["batch_id"]})
    assert everything.status_code == 201, everything.text
    client.post(f"/retirements/{everything.json()['id']}/execute", headers=people["operator"])
    oid = order(client, people, batch["batch_id"], 1).json()["id"]
    clock.advance(timedelta(days=2))
    lapsed = decide(client, people, oid, "lapse", notice="关于取消某公司碳普惠市场参与资格的通报")
    assert lapsed.status_code == 200 and lapsed.json()["revocation_id"] is None
    assert participant_status(client, people, "owner") == "disqualified"
    assert client.get("/disclosure/revocations").json()["items"] == []  # no notice of 0 t
    assert [o["id"] for o in client.get("/corrections").json()["items"]] == [oid]  # but the order's notice


def test_an_immediate_revocation_states_why_and_supersedes_the_open_order(
        client: TestClient, people: People, batch: dict[str, Any]) -> None:
    oid = order(client, people, batch["batch_id"], 14).json()["id"]
    revoked = client.post(f"/batches/{batch['batch_id']}/revocations", headers=people["bureau"], json={
        "reason": "现场核查发现光伏组件从未安装", "notice": "关于收回某项目核证减排量的通报"})
    assert revoked.status_code == 201, revoked.text
    assert "无法改正" in revoked.json()["notice"] and "without a correction deadline" in revoked.json()["notice"]
    superseded = client.get(f"/corrections/{oid}", headers=people["bureau"]).json()
    assert superseded["status"] == "superseded" and superseded["revocation_id"] == revoked.json()["id"]
    assert respond(client, people, oid).json()["rule_codes"] == ["JX-26"]
    assert participant_status(client, people, "owner") == "disqualified"
