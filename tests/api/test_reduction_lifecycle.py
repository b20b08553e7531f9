"""The whole life of a reduction through the HTTP API, on SQLite and on PostgreSQL: file → verify →
review → approve → notice → issue → transfer → retire → serial lookup, then revocation (Art. 14–26)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from registry.clock import FixedClock
from registry.context import Registry
from registry.demo import load_demo
from registry.ledger import credit_asset
from tests.support import People, demo_people, participant_id, upload

PDF = b"%PDF-1.4\n% test document\n"


@pytest.fixture
def people(client: TestClient, registry: Registry) -> People:
    load_demo(registry)
    return demo_people(client, registry)


def owner_project(client: TestClient, people: People) -> int:
    mine = client.get("/projects?mine=true", headers=people["owner"]).json()["items"]
    return int(mine[0]["id"])


def new_filing(client: TestClient, people: People, registry: Registry, *, preparer: str = "owner",
               start: str = "2025-07-01", end: str = "2025-12-31", mwh: str = "1234.5") -> dict[str, Any]:
    """A draft filing of the mill's project (the demo data already filed its first half of 2025)."""
    report = upload(client, people["owner"], PDF + start.encode() + mwh.encode())
    response = client.post("/filings", headers=people["owner"], json={
        "project_id": owner_project(client, people), "monitoring_start": start, "monitoring_end": end,
        "inputs": {"net_generation_mwh": mwh}, "report_sha256": report,
        "report_preparer_participant_id": participant_id(registry, preparer)})
    assert response.status_code == 201, response.text
    return dict(response.json())


def verified_and_applied(client: TestClient, people: People, registry: Registry, filing_id: int,
                         verified: str = "700.5") -> None:
    assert client.post(f"/filings/{filing_id}/commission", headers=people["owner"],
                       json={"verifier_participant_id": participant_id(registry, "verifier")}).status_code == 200
    statement = upload(client, people["verifier"], PDF + b"statement" + str(filing_id).encode())
    verified_response = client.post(f"/filings/{filing_id}/verification", headers=people["verifier"], json={
        "verified_tco2e": verified, "statement_sha256": statement, "reason": "扣除自用电量的保守估计"})
    assert verified_response.status_code == 200, verified_response.text
    docs = [{"kind": k, "sha256": upload(client, people["owner"], PDF + k.encode() + str(filing_id).encode())}
            for k in ("application_letter", "application_form", "supporting_evidence")]
    applied = client.post(f"/filings/{filing_id}/apply", headers=people["owner"], json={"documents": docs})
    assert applied.status_code == 200, applied.text


def issue(client: TestClient, people: People, clock: FixedClock, filing_id: int) -> dict[str, Any]:
    for who, action in (("center", "center_approve"), ("bureau", "bureau_approve")):
        step = client.post(f"/filings/{filing_id}/review", headers=people[who], json={"action": action})
        assert step.status_code == 200, step.text
    clock.advance(timedelta(days=8))
    registered = client.post(f"/filings/{filing_id}/review", headers=people["bureau"], json={"action": "register"})
    assert registered.status_code == 200, registered.text
    issued = client.post(f"/filings/{filing_id}/issue", headers=people["bureau"], json={"comment": "签发"})
    assert issued.status_code == 201, issued.text
    return dict(issued.json())


def test_the_whole_life_of_a_tonne(client: TestClient, people: People, registry: Registry,
                                   clock: FixedClock) -> None:
    filing = new_filing(client, people, registry)
    assert filing["status"] == "draft" and filing["calculated_tco2e"].startswith("704.03535")
    trace = filing["calculation"]["trace"]
    assert trace[0]["substituted"].replace(" ", "") == "1234.5*0.5703"
    assert filing["calculation"]["parameters"]["EF_GRID_CN"]["version"] == 2
    fid = filing["id"]
    # The verifier cannot claim more than the owner calculated, nor less without reasons (JX-15).
    assert client.post(f"/filings/{fid}/commission", headers=people["owner"],
                       json={"verifier_participant_id": participant_id(registry, "verifier")}).status_code == 200
    statement = upload(client, people["verifier"], PDF + b"statement")
    too_much = client.post(f"/filings/{fid}/verification", headers=people["verifier"], json={
        "verified_tco2e": "704.03536", "statement_sha256": statement})
    assert too_much.status_code == 409 and too_much.json()["rule_codes"] == ["JX-15"]
    no_reason = client.post(f"/filings/{fid}/verification", headers=people["verifier"], json={
        "verified_tco2e": "700.5", "statement_sha256": statement})
    assert no_reason.status_code == 409
    assert client.post(f"/filings/{fid}/verification", headers=people["verifier"], json={
        "verified_tco2e": "700.5", "statement_sha256": statement, "reason": "保守扣减"}).status_code == 200
    # Art. 16: each missing document is named.
    missing = client.post(f"/filings/{fid}/apply", headers=people["owner"], json={"documents": []})
    assert missing.status_code == 409 and missing.json()["rule_codes"] == ["JX-16"]
    assert {v["field"] for v in missing.json()["violations"]} >= {"documents.application_letter",
                                                                  "documents.application_form",
                                                                  "documents.supporting_evidence"}
    docs = [{"kind": k, "sha256": upload(client, people["owner"], PDF + k.encode())}
            for k in ("application_letter", "application_form", "supporting_evidence")]
    applied = client.post(f"/filings/{fid}/apply", headers=people["owner"], json={"documents": docs}).json()
    assert applied["status"] == "submitted" and applied["code"].startswith("JXF-")
    # Each review step only by its role.
    assert client.post(f"/filings/{fid}/review", headers=people["bureau"],
                       json={"action": "center_approve"}).status_code == 409
    assert client.get(f"/filings/{fid}").status_code == 404  # not public before the notice
    batch = issue(client, people, clock, fid)
    assert batch["quantity_t"] == 700  # 700.5 rounded down (Art. 28)
    assert batch["serial_end"] - batch["serial_start"] + 1 == 700
    assert client.get(f"/filings/{fid}").json()["status"] == "issued"

    owner_accounts = client.get("/accounts", headers=people["owner"]).json()
    assert [b for b in owner_accounts[0]["balances"] if b["asset"] == f"CREDIT:{batch['batch_id']}"] == [
        {"asset": f"CREDIT:{batch['batch_id']}", "bucket": "available", "amount": 700}]
    buyer_account = client.get("/accounts", headers=people["buyer"]).json()[0]
    sent = client.post("/transfers", headers=people["owner"], json={
        "to_account_code": buyer_account["code"], "quantity_t": 100, "batch_id": batch["batch_id"],
        "memo": "sale by contract"})
    assert sent.status_code == 201 and sent.json()["blocks"][0]["serial_start"] == batch["serial_start"]
    retire = client.post("/retirements", headers=people["buyer"], json={
        "quantity_t": 60, "beneficiary": "2026 嘉兴马拉松组委会",
        "purpose": {"purpose": "event_neutrality", "event_name": "2026 嘉兴马拉松", "event_start": "2026-11-01",
                    "event_end": "2026-11-01", "event_place": "嘉兴南湖", "event_emissions_tco2e": "58.2"}})
    assert retire.status_code == 201, retire.text
    rid = retire.json()["id"]
    assert retire.json()["status"] == "requested"
    assert client.get(f"/retirements/{rid}").status_code == 404  # a request is not public yet
    executed = client.post(f"/retirements/{rid}/execute", headers=people["operator"])
    assert executed.status_code == 200 and executed.json()["status"] == "executed"
    certificate = client.get(f"/retirements/{rid}/certificate").json()
    assert certificate["retirement"]["quantity_t"] == 60
    assert certificate["retirement"]["serial_blocks"][0].endswith(
        f"{batch['serial_start']:010d}-{batch['serial_start'] + 59:010d}")
    assert certificate["sources"][0]["methodology_code"].startswith("JXM-")

    life = client.get(f"/serials/{batch['serial_start']}").json()
    assert life["status"] == "retired" and life["transferred_times"] == 1
    assert life["retirement"]["purpose"] == "event_neutrality"
    # Holders are numbered, never named; the pending hold before the retirement is no public event.
    assert [(e["kind"], e["holder"]) for e in life["events"]] == [("issuance", 1), ("transfer", 2),
                                                                  ("retirement", 2)]
    assert "account" not in str(life["events"])
    forged = life["serial_label"].replace(f"B{batch['batch_id']:06d}", "B999999")
    assert client.get(f"/serials/{forged}").status_code == 404
    assert client.get("/serials/²").status_code == 422
    labelled = client.get(f"/serials/{life['serial_label']}").json()
    assert labelled["serial"] == batch["serial_start"]
    untouched = client.get(f"/serials/{batch['serial_end']}").json()
    assert untouched["status"] == "available" and untouched["transferred_times"] == 0
    assert client.get(f"/serials/{batch['serial_end'] + 1}").status_code == 404
    assert client.get("/serials/not-a-serial").status_code == 422

    # A retired tonne can never move again: the buyer has 40 t left, not 100.
    too_many = client.post("/retirements", headers=people["buyer"], json={
        "quantity_t": 41, "beneficiary": "x", "purpose": {"purpose": "voluntary"}})
    assert too_many.status_code == 409
    check = client.get("/ledger/check", headers=people["operator"]).json()
    assert check["ok"], check["problems"]
    mine = next(b for b in check["batches"] if b["batch"] == batch["batch_code"])
    assert mine == {"batch": batch["batch_code"], "issued_t": 700, "available_t": 640, "held_t": 0,
                    "retired_t": 60, "revoked_t": 0}
    assert client.get("/audit/verify", headers=people["bureau"]).json()["ok"] is True
    assert client.get("/disclosure/issuances").json()["items"][0]["batch_code"] == batch["batch_code"]


def test_revocation_takes_back_what_is_unretired(client: TestClient, people: People, registry: Registry,
                                                 clock: FixedClock) -> None:
    fid = new_filing(client, people, registry)["id"]
    verified_and_applied(client, people, registry, fid)
    batch = issue(client, people, clock, fid)
    buyer_code = client.get("/accounts", headers=people["buyer"]).json()[0]["code"]
    client.post("/transfers", headers=people["owner"], json={"to_account_code": buyer_code, "quantity_t": 50,
                                                             "batch_id": batch["batch_id"]})
    done = client.post("/retirements", headers=people["buyer"], json={
        "quantity_t": 20, "beneficiary": "某会议", "purpose": {"purpose": "voluntary"}}).json()
    client.post(f"/retirements/{done['id']}/execute", headers=people["operator"])
    pending = client.post("/retirements", headers=people["buyer"], json={
        "quantity_t": 10, "beneficiary": "待注销", "purpose": {"purpose": "voluntary"}}).json()
    revoked = client.post(f"/batches/{batch['batch_id']}/revocations", headers=people["bureau"], json={
        "reason": "核算报告数据造假", "notice": "关于收回某项目核证减排量的通报"})
    assert revoked.status_code == 201, revoked.text
    assert revoked.json()["quantity_t"] == 680  # 700 issued − 20 retired
    assert client.get(f"/retirements/{pending['id']}", headers=people["buyer"]).json()["status"] == "cancelled"
    flagged = client.get(f"/retirements/{done['id']}").json()
    assert flagged["status"] == "executed" and flagged["revoked_batches"] == [batch["batch_code"]]
    check = client.get("/ledger/check", headers=people["operator"]).json()
    assert check["ok"], check["problems"]
    mine = next(b for b in check["batches"] if b["batch"] == batch["batch_code"])
    assert mine == {"batch": batch["batch_code"], "issued_t": 700, "available_t": 0, "held_t": 0,
                    "retired_t": 20, "revoked_t": 680}
    assert client.get(f"/serials/{batch['serial_end']}").json()["status"] == "revoked"
    # The owner is disqualified: no more filings, transfers or retirements (Art. 26).
    me = client.get("/auth/me", headers=people["owner"]).json()
    assert me["participant_status"] == "disqualified"
    refused = client.post("/transfers", headers=people["owner"], json={"to_account_code": buyer_code,
                                                                       "quantity_t": 1})
    assert refused.status_code == 409 and refused.json()["rule_codes"] == ["JX-26"]
    assert client.get("/disclosure/revocations").json()["items"][0]["quantity_t"] == 680


def test_verifier_independence(client: TestClient, people: People, registry: Registry) -> None:
    fid = new_filing(client, people, registry, preparer="verifier")["id"]
    refused = client.post(f"/filings/{fid}/commission", headers=people["owner"],
                          json={"verifier_participant_id": participant_id(registry, "verifier")})
    assert refused.status_code == 409 and refused.json()["rule_codes"] == ["JX-15"]


def test_no_double_counting_of_a_monitoring_period(client: TestClient, people: People,
                                                   registry: Registry) -> None:
    first = new_filing(client, people, registry, start="2024-01-01", end="2024-06-30")
    verified_and_applied(client, people, registry, first["id"])
    # Overlapping by the last day: refused when filed.
    report = upload(client, people["owner"], PDF + b"second")
    body = {"project_id": owner_project(client, people), "monitoring_start": "2024-06-30",
            "monitoring_end": "2024-12-31", "inputs": {"net_generation_mwh": "100"}, "report_sha256": report,
            "report_preparer_participant_id": participant_id(registry, "owner")}
    clash = client.post("/filings", headers=people["owner"], json=body)
    assert clash.status_code == 409 and clash.json()["rule_codes"] == ["JX-13-3"]
    # From the next day: accepted.
    assert client.post("/filings", headers=people["owner"],
                       json=body | {"monitoring_start": "2024-07-01"}).status_code == 201


@pytest.mark.parametrize("start,end,ok", [("2020-09-22", "2020-12-31", False), ("2026-01-01", "2026-11-23", True),
                                          ("2026-01-01", "2026-11-24", False), ("2022-12-31", "2023-06-30", False)])
def test_monitoring_period_bounds(client: TestClient, people: People, registry: Registry, start: str, end: str,
                                  ok: bool) -> None:
    """Inside the crediting period (from 2023-01-01 for this project), not after the application date."""
    report = upload(client, people["owner"], PDF + start.encode() + end.encode())
    response = client.post("/filings", headers=people["owner"], json={
        "project_id": owner_project(client, people), "monitoring_start": start, "monitoring_end": end,
        "inputs": {"net_generation_mwh": "10"}, "report_sha256": report,
        "report_preparer_participant_id": participant_id(registry, "owner")})
    assert (response.status_code == 201) is ok, response.text
    if not ok:
        assert "JX-12" in response.json()["rule_codes"]


def test_an_upheld_objection_rejects_the_filing_and_frees_the_period(client: TestClient, people: People,
                                                                    registry: Registry) -> None:
    fid = new_filing(client, people, registry, start="2024-01-01", end="2024-03-31")["id"]
    verified_and_applied(client, people, registry, fid, verified="100")
    for who, action in (("center", "center_approve"), ("bureau", "bureau_approve")):
        assert client.post(f"/filings/{fid}/review", headers=people[who], json={"action": action}).status_code == 200
    in_notice = client.get("/filings?status=public_notice").json()["items"]
    assert [f["id"] for f in in_notice] == [fid]
    assert "sha256" not in in_notice[0]["documents"][0]  # the public sees kinds, not evidence
    objection = client.post(f"/filings/{fid}/objections", json={
        "objector_name": "匿名", "objector_contact": "tip@example.org", "text": "该屋顶光伏已申报其他机制。"})
    assert objection.status_code == 201
    ruled = client.post(f"/objections/{objection.json()['id']}/ruling", headers=people["bureau"],
                        json={"uphold": True, "ruling": "经核实，异议成立。"})
    assert ruled.status_code == 200
    rejected = client.get(f"/filings/{fid}", headers=people["owner"]).json()
    assert rejected["status"] == "rejected" and rejected["rejection_reason"] == "经核实，异议成立。"
    # The rejected filing no longer blocks a corrected one for the same period.
    again = new_filing(client, people, registry, start="2024-01-01", end="2024-03-31", mwh="99")
    assert again["status"] == "draft"


def test_nothing_to_issue_below_one_tonne(client: TestClient, people: People, registry: Registry,
                                          clock: FixedClock) -> None:
    fid = new_filing(client, people, registry, start="2024-01-01", end="2024-01-31", mwh="1.8")["id"]
    verified_and_applied(client, people, registry, fid, verified="0.99")
    for who, action in (("center", "center_approve"), ("bureau", "bureau_approve")):
        client.post(f"/filings/{fid}/review", headers=people[who], json={"action": action})
    clock.advance(timedelta(days=8))
    client.post(f"/filings/{fid}/review", headers=people["bureau"], json={"action": "register"})
    refused = client.post(f"/filings/{fid}/issue", headers=people["bureau"], json={})
    assert refused.status_code == 409 and refused.json()["rule_codes"] == ["JX-28"]


def test_the_verifier_reads_the_report_and_the_owner_cannot_supply_the_statement(
        client: TestClient, people: People, registry: Registry) -> None:
    filing = new_filing(client, people, registry)
    report = next(d["sha256"] for d in filing["documents"] if d["kind"] == "accounting_report")
    assert client.get(f"/documents/{report}", headers=people["verifier"]).status_code == 404
    client.post(f"/filings/{filing['id']}/commission", headers=people["owner"],
                json={"verifier_participant_id": participant_id(registry, "verifier")})
    assert client.get(f"/documents/{report}", headers=people["verifier"]).status_code == 200
    statement = upload(client, people["verifier"], PDF + b"real statement")
    client.post(f"/filings/{filing['id']}/verification", headers=people["verifier"], json={
        "verified_tco2e": "700", "statement_sha256": statement, "reason": "保守"})
    own = upload(client, people["owner"], PDF + b"home-made statement")
    forged = client.post(f"/filings/{filing['id']}/apply", headers=people["owner"],
                         json={"documents": [{"kind": "verification_statement", "sha256": own}]})
    assert forged.status_code == 409 and forged.json()["violations"][0]["field"] == "documents[0].kind"


def test_retried_transfers_and_retirements_happen_once(client: TestClient, people: People, registry: Registry,
                                                       clock: FixedClock) -> None:
    fid = new_filing(client, people, registry)["id"]
    verified_and_applied(client, people, registry, fid)
    batch = issue(client, people, clock, fid)
    buyer_code = client.get("/accounts", headers=people["buyer"]).json()[0]["code"]
    keyed = people["owner"] | {"Idempotency-Key": "gift-2026-001"}
    body = {"to_account_code": buyer_code, "quantity_t": 30, "batch_id": batch["batch_id"]}
    first = client.post("/transfers", headers=keyed, json=body)
    again = client.post("/transfers", headers=keyed, json=body)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert client.post("/transfers", headers=keyed, json=body | {"quantity_t": 31}).status_code == 422
    retire = {"quantity_t": 5, "beneficiary": "b", "purpose": {"purpose": "voluntary"}}
    buyer_keyed = people["buyer"] | {"Idempotency-Key": "ret-1"}
    assert client.post("/retirements", headers=buyer_keyed, json=retire).json() == \
        client.post("/retirements", headers=buyer_keyed, json=retire).json()
    balances = client.get("/accounts", headers=people["buyer"]).json()[0]["balances"]
    # Only this batch: the demo's buyer holds (and retired, for the demo event) credits of other batches.
    assert sorted((b["bucket"], b["amount"]) for b in balances if b["asset"] == credit_asset(batch["batch_id"])) == [
        ("available", 25), ("held", 5)]
