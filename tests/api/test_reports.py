"""Violation reports (Art. 27) through HTTP: anyone reports, follows the case by receipt token and reads the
bureau's feedback; the reporter's identity is for the bureau alone, and never reaches the audit log."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from registry.context import Registry
from tests.support import People, make_user

NAME = "李举报"
CONTACT = "whistle-13900000000@example.org"


@pytest.fixture
def people(client: TestClient, registry: Registry) -> People:
    ids = {role: make_user(registry, role, [role]) for role in ("bureau", "owner", "admin", "center")}
    return People(client, ids)


def report(**overrides: Any) -> dict[str, Any]:
    return {"reporter_name": NAME, "reporter_contact": CONTACT, "subject": "某项目重复申报减排量",
            "details": "该屋顶光伏项目已在其他机制登记，又在本平台申报。"} | overrides


def lodge(client: TestClient, body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = client.post("/reports", json=body, headers=headers or {})
    assert response.status_code == 201, response.text
    return dict(response.json())


def update(client: TestClient, headers: dict[str, str], report_id: int, status: str, feedback: str = "") -> Any:
    return client.post(f"/reports/{report_id}", headers=headers, json={"status": status, "feedback": feedback})


def test_lodge_named_and_follow_by_token(client: TestClient, people: People) -> None:
    receipt = lodge(client, report())
    assert receipt["status"] == "received"
    assert "keep" in receipt["message_en"].lower() and receipt["message_zh"]
    token = receipt["receipt_token"]
    assert len(token) >= 32
    followed = client.get(f"/reports/receipt/{token}")
    assert followed.status_code == 200
    body = followed.json()
    assert set(body) == {"status", "subject", "feedback", "created_at", "updated_at"}
    assert body["status"] == "received" and body["subject"] == "某项目重复申报减排量" and body["feedback"] == ""
    assert NAME not in followed.text and CONTACT not in followed.text
    # The bureau sees who reported.
    listed = client.get("/reports", headers=people["bureau"]).json()
    assert listed["total"] == 1
    item = listed["items"][0]
    assert item["id"] == receipt["id"]
    assert item["reporter_name"] == NAME and item["reporter_contact"] == CONTACT
    assert token not in json.dumps(listed)


def test_lodge_anonymously(client: TestClient, people: People) -> None:
    anonymous = lodge(client, {"subject": "虚假材料", "details": "核查报告中的电表读数系伪造。"})
    blank = lodge(client, report(reporter_name="", reporter_contact="  "))
    assert anonymous["receipt_token"] != blank["receipt_token"]
    listed = client.get("/reports", headers=people["bureau"]).json()
    assert [(i["id"], i["reporter_name"], i["reporter_contact"]) for i in listed["items"]] == [
        (blank["id"], "", ""), (anonymous["id"], "", "")]


def test_wrong_or_malformed_token(client: TestClient) -> None:
    token = lodge(client, report())["receipt_token"]
    wrong = client.get(f"/reports/receipt/{'A' if token[0] != 'A' else 'B'}{token[1:]}")
    assert wrong.status_code == 404
    assert wrong.headers["content-type"].startswith("application/problem+json")
    assert client.get("/reports/receipt/" + "a" * 65).status_code == 422
    assert client.get("/reports/receipt/not%20a%20token").status_code == 422


def test_identity_hidden_from_the_public_and_the_reporter(client: TestClient, people: People) -> None:
    # Logged in as an owner or not: the answers never name the reporter.
    for headers in ({}, people["owner"]):
        receipt = client.post("/reports", json=report(), headers=headers)
        assert receipt.status_code == 201
        assert NAME not in receipt.text and CONTACT not in receipt.text
        followed = client.get(f"/reports/receipt/{receipt.json()['receipt_token']}", headers=headers)
        assert followed.status_code == 200
        assert NAME not in followed.text and CONTACT not in followed.text


def test_bureau_routes_refuse_other_roles_and_the_anonymous(client: TestClient, people: People) -> None:
    report_id = lodge(client, report())["id"]
    for role in ("owner", "admin", "center"):
        assert client.get("/reports", headers=people[role]).status_code == 403
        assert update(client, people[role], report_id, "investigating").status_code == 403
    assert client.get("/reports").status_code == 401
    assert update(client, {}, report_id, "investigating").status_code == 401
    unknown = update(client, people["bureau"], 999999, "investigating", "x")
    assert unknown.status_code == 404


def test_investigate_then_close_with_feedback(client: TestClient, people: People, registry: Registry) -> None:
    receipt = lodge(client, report())
    rid, token = receipt["id"], receipt["receipt_token"]
    investigating = update(client, people["bureau"], rid, "investigating", "已受理，正在核查。")
    assert investigating.status_code == 200 and investigating.json()["status"] == "investigating"
    followed = client.get(f"/reports/receipt/{token}").json()
    assert followed["status"] == "investigating" and followed["feedback"] == "已受理，正在核查。"
    # Closing needs feedback (Art. 27); the refusal changes nothing.
    refused = update(client, people["bureau"], rid, "closed", "   ")
    assert refused.status_code == 409 and refused.json()["rule_codes"] == ["JX-27"]
    assert client.get(f"/reports/receipt/{token}").json()["status"] == "investigating"
    closed = update(client, people["bureau"], rid, "closed", "经核查属实，已责令整改并收回相关减排量。")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    followed = client.get(f"/reports/receipt/{token}").json()
    assert followed["status"] == "closed" and followed["feedback"].startswith("经核查属实")
    # Closed is terminal.
    for status in ("investigating", "closed"):
        again = update(client, people["bureau"], rid, status, "再次处理")
        assert again.status_code == 409 and again.json()["code"] == "state_conflict"
    assert client.get(f"/reports/receipt/{token}").json()["feedback"].startswith("经核查属实")
    # Filter by status.
    other = lodge(client, report())["id"]
    assert [i["id"] for i in client.get("/reports?status=closed", headers=people["bureau"]).json()["items"]] == [rid]
    assert [i["id"] for i in client.get("/reports?status=received", headers=people["bureau"]).json()["items"]] == [
        other]


def test_close_directly_without_feedback_refused(client: TestClient, people: People) -> None:
    rid = lodge(client, report())["id"]
    assert update(client, people["bureau"], rid, "closed").status_code == 409
    assert update(client, people["bureau"], rid, "closed", "不属于本办法管辖，已转交相关部门。").status_code == 200


def test_audit_names_no_reporter(client: TestClient, people: People) -> None:
    # Lodged by a logged-in owner: not even the owner's user id may reach the audit log.
    receipt = lodge(client, report(), headers=people["owner"])
    rid, token = receipt["id"], receipt["receipt_token"]
    assert update(client, people["bureau"], rid, "investigating").status_code == 200
    assert update(client, people["bureau"], rid, "closed", "已处理。").status_code == 200
    entries = client.get("/audit/entries", params={"subject_type": "violation_report"},
                         headers=people["bureau"])
    assert entries.status_code == 200
    items = entries.json()["items"]
    assert sorted(e["action"] for e in items) == ["report.lodged", "report.updated", "report.updated"]
    assert all(e["subject_id"] == str(rid) for e in items)
    lodged = next(e for e in items if e["action"] == "report.lodged")
    assert lodged["actor_user_id"] is None
    everything = client.get("/audit/entries", params={"limit": 200}, headers=people["bureau"]).text
    for secret in (NAME, CONTACT, token, "whistle"):
        assert secret not in everything
    assert client.get("/audit/verify", headers=people["bureau"]).json()["ok"] is True


@pytest.mark.parametrize("patch,field", [
    ({"reporter_name": "名" * 101}, "reporter_name"),
    ({"reporter_contact": "c" * 201}, "reporter_contact"),
    ({"subject": "题" * 301}, "subject"),
    ({"subject": ""}, "subject"),
    ({"details": "详" * 8001}, "details"),
    ({"details": "bad\x00byte"}, "details"),
    ({"status": "closed"}, "status"),
])
def test_malformed_reports_422(client: TestClient, patch: dict[str, Any], field: str) -> None:
    response = client.post("/reports", json=report(**patch))
    assert response.status_code == 422, response.text
    assert f"body.{field}" in [e["field"] for e in response.json()["errors"]]


def test_longest_fields_fit_the_columns(client: TestClient, people: People) -> None:
    receipt = lodge(client, report(reporter_name="名" * 100, reporter_contact="c" * 200, subject="题" * 300,
                                   details="详" * 8000))
    rid = receipt["id"]
    assert update(client, people["bureau"], rid, "closed", "复" * 4000).status_code == 200
    item = client.get("/reports", headers=people["bureau"]).json()["items"][0]
    assert len(item["details"]) == 8000 and len(item["feedback"]) == 4000


@pytest.mark.parametrize("body,field", [
    ({"status": "closed", "feedback": "f" * 4001}, "feedback"),
    ({"status": "received", "feedback": "x"}, "status"),
    ({"status": "closed", "feedback": "x", "extra": 1}, "extra"),
])
def test_malformed_updates_422(client: TestClient, people: People, body: dict[str, Any], field: str) -> None:
    rid = lodge(client, report())["id"]
    response = client.post(f"/reports/{rid}", json=body, headers=people["bureau"])
    assert response.status_code == 422, response.text
    assert f"body.{field}" in [e["field"] for e in response.json()["errors"]]
