"""Rule holes closed, through HTTP on both backends: separation of duties (JX-10/15/17/26), Art. 13(3) again
at verification, approval and issuance, no credits to or deals with a disqualified participant (JX-26), no
second revocation notice for 0 t (JX-26), and retirement refusals under JX-21."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from registry import demo_methodologies
from registry.clock import FixedClock
from registry.context import Registry
from registry.demo import load_demo
from registry.orm import User, UserRole
from tests.api.test_reduction_lifecycle import issue, new_filing, verified_and_applied
from tests.support import People, bearer, demo_people, make_user, participant_id, upload

PDF = b"%PDF-1.4\n% rule holes\n"


@pytest.fixture
def people(client: TestClient, registry: Registry) -> People:
    load_demo(registry)
    return demo_people(client, registry)


def legacy_user(registry: Registry, username: str, participant: int, roles: list[str]) -> int:
    """A user written directly into an organisation, as data from before the role check would be."""
    with registry.uow() as uow:
        user = User(participant_id=participant, username=username, display_name=username, password_hash="x",
                    active=True, created_at=uow.now())
        uow.session.add(user)
        uow.session.flush()
        uow.session.add_all(UserRole(user_id=user.id, role=r) for r in roles)
        uow.commit()
        return user.id


def review(client: TestClient, headers: dict[str, str], filing_id: int, action: str) -> Any:
    return client.post(f"/filings/{filing_id}/review", headers=headers, json={"action": action, "comment": "ok"})


# --- 1. separation of duties ------------------------------------------------------------------------------


def test_an_owner_that_also_reviews_is_refused_at_creation(client: TestClient, people: People) -> None:
    admin = people["admin"]
    org = client.post("/admin/participants", headers=admin, json={"name": "某光伏公司", "kind": "enterprise"})
    assert org.status_code == 201
    body = {"participant_id": org.json()["id"], "password": "long-enough-password", "display_name": "x"}
    both = client.post("/admin/users", headers=admin, json=body | {"username": "both", "roles": ["owner", "center"]})
    assert both.status_code == 409 and both.json()["rule_codes"] == ["JX-17"]
    assert both.json()["violations"][0]["field"] == "roles"
    assert client.post("/admin/users", headers=admin,
                       json=body | {"username": "owner1", "roles": ["owner", "trader"]}).status_code == 201
    # The organisation owns now: a reviewer of it is refused, whoever the user (JX-15 for the verifier).
    for role, code in (("center", "JX-17"), ("expert", "JX-17"), ("bureau", "JX-17"), ("verifier", "JX-15")):
        refused = client.post("/admin/users", headers=admin, json=body | {"username": f"r-{role}", "roles": [role]})
        assert refused.status_code == 409 and refused.json()["rule_codes"] == [code], role
    # Roles that judge nothing stay possible.
    assert client.post("/admin/users", headers=admin,
                       json=body | {"username": "owner2", "roles": ["trader"]}).status_code == 201


def test_nobody_reviews_approves_or_issues_their_own_organisations_filing(
        client: TestClient, people: People, registry: Registry, clock: FixedClock) -> None:
    owner_org = participant_id(registry, "owner")
    insiders = People(client, {"center": legacy_user(registry, "insider_center", owner_org, ["owner", "center"]),
                               "bureau": legacy_user(registry, "insider_bureau", owner_org, ["bureau"])})
    insider_center = insiders["center"]
    fid = new_filing(client, people, registry, start="2024-01-01", end="2024-06-30")["id"]
    verified_and_applied(client, people, registry, fid)
    own = review(client, insider_center, fid, "center_approve")
    assert own.status_code == 409 and own.json()["rule_codes"] == ["JX-17"]
    assert "Separation of duties" in own.json()["violations"][0]["message_en"]
    assert review(client, people["center"], fid, "center_approve").status_code == 200
    assert review(client, insiders["bureau"], fid, "bureau_approve").json()["rule_codes"] == ["JX-17"]
    assert review(client, insiders["bureau"], fid, "bureau_reject").json()["rule_codes"] == ["JX-17"]
    assert review(client, people["bureau"], fid, "bureau_approve").status_code == 200
    objection = client.post(f"/filings/{fid}/objections", json={
        "objector_name": "匿名", "objector_contact": "a@example.org", "text": "请核实该项目的发电量。"})
    assert objection.status_code == 201, objection.text
    for uphold in (True, False):
        ruled = client.post(f"/objections/{objection.json()['id']}/ruling", headers=insiders["bureau"],
                            json={"uphold": uphold, "ruling": "自行裁决"})
        assert ruled.status_code == 409 and ruled.json()["rule_codes"] == ["JX-17"]
    assert client.post(f"/objections/{objection.json()['id']}/ruling", headers=people["bureau"],
                       json={"uphold": False, "ruling": "异议不成立"}).status_code == 200
    clock.advance(timedelta(days=8))
    assert review(client, insiders["bureau"], fid, "register").json()["rule_codes"] == ["JX-17"]
    assert review(client, people["bureau"], fid, "register").status_code == 200
    own_issue = client.post(f"/filings/{fid}/issue", headers=insiders["bureau"], json={})
    assert own_issue.status_code == 409 and own_issue.json()["rule_codes"] == ["JX-17"]
    batch = client.post(f"/filings/{fid}/issue", headers=people["bureau"], json={}).json()
    # Nor take back, nor order the correction of, what the organisation owns (JX-26).
    own_revocation = client.post(f"/batches/{batch['batch_id']}/revocations", headers=insiders["bureau"],
                                 json={"reason": "自行收回", "notice": "通报"})
    assert own_revocation.status_code == 409 and own_revocation.json()["rule_codes"] == ["JX-26"]
    own_order = client.post(f"/batches/{batch['batch_id']}/corrections", headers=insiders["bureau"],
                            json={"finding": "材料有误", "deadline_days": 7})
    assert own_order.status_code == 409 and own_order.json()["rule_codes"] == ["JX-26"]
    order = client.post(f"/batches/{batch['batch_id']}/corrections", headers=people["bureau"],
                        json={"finding": "材料有误", "deadline_days": 7})
    assert order.status_code == 201
    own_decision = client.post(f"/corrections/{order.json()['id']}/decision", headers=insiders["bureau"],
                               json={"decision": "lapse", "comment": "逾期", "notice": "通报"})
    assert own_decision.status_code == 409 and "JX-26" in own_decision.json()["rule_codes"]


def methodology_body() -> dict[str, Any]:
    spec = demo_methodologies.METHODOLOGIES[0]
    definition = {k: spec[k] for k in ("asset_identifier_kind", "inclusive_owner_kinds", "inputs", "parameters",
                                       "calculation")}
    return {"title_zh": "另一屋顶光伏方法学", "title_en": "Another rooftop PV methodology", "field": spec["field"],
            "definition": definition}


def test_nobody_reviews_a_methodology_their_organisation_proposed(client: TestClient, people: People,
                                                                  registry: Registry) -> None:
    proposed = client.post("/methodologies", headers=people["household"], json=methodology_body())
    assert proposed.status_code == 201, proposed.text
    vid = proposed.json()["id"]
    insider = bearer(client, legacy_user(registry, "insider", participant_id(registry, "household"), ["center"]))
    path = f"/methodology-versions/{vid}/review"
    refused = client.post(path, headers=insider, json={"action": "center_approve", "comment": "ok"})
    assert refused.status_code == 409 and refused.json()["rule_codes"] == ["JX-10"]
    assert client.post(path, headers=people["center"],
                       json={"action": "center_approve", "comment": "ok"}).status_code == 200


# --- 2. Art. 13(3) again after registration -----------------------------------------------------------------


def import_registration(client: TestClient, people: People, asset: str) -> None:
    csv_text = ("mechanism,external_id,asset_identifier,credit_code,project_name\n"
                f"CCER,CCER-2026-0042,{asset},,某光伏项目\n")
    imported = client.post("/external-registrations/import", headers=people["bureau"] | {
        "Content-Type": "text/csv"}, content=csv_text.encode())
    assert imported.status_code == 200, imported.text


def test_a_registration_elsewhere_imported_later_stops_verification_approval_and_issuance(
        client: TestClient, people: People, registry: Registry, clock: FixedClock) -> None:
    # Three filings of the mill (whose meter is 3304810012345678): one commissioned, one approved by the
    # center, one registered.
    to_verify = new_filing(client, people, registry, start="2024-01-01", end="2024-03-31")["id"]
    assert client.post(f"/filings/{to_verify}/commission", headers=people["owner"], json={
        "verifier_participant_id": participant_id(registry, "verifier")}).status_code == 200
    to_approve = new_filing(client, people, registry, start="2024-04-01", end="2024-06-30")["id"]
    verified_and_applied(client, people, registry, to_approve)
    assert review(client, people["center"], to_approve, "center_approve").status_code == 200
    to_issue = new_filing(client, people, registry, start="2024-07-01", end="2024-09-30")["id"]
    verified_and_applied(client, people, registry, to_issue)
    for who, action in (("center", "center_approve"), ("bureau", "bureau_approve")):
        assert review(client, people[who], to_issue, action).status_code == 200
    clock.advance(timedelta(days=8))
    assert review(client, people["bureau"], to_issue, "register").status_code == 200

    import_registration(client, people, "3304810012345678")
    statement = upload(client, people["verifier"], PDF + b"statement")
    verification = {"verified_tco2e": "100", "statement_sha256": statement, "reason": "保守"}
    refusals = [
        client.post(f"/filings/{to_verify}/verification", headers=people["verifier"], json=verification),
        review(client, people["bureau"], to_approve, "bureau_approve"),
        client.post(f"/filings/{to_issue}/issue", headers=people["bureau"], json={}),
    ]
    for refused in refusals:
        assert refused.status_code == 409 and refused.json()["rule_codes"] == ["JX-13-3"], refused.text
        message = refused.json()["violations"][0]
        assert "CCER-2026-0042" in message["message_en"] and "CCER" in message["message_zh"]
        assert message["field"] == "asset_identifiers[0]"
    assert client.get(f"/filings/{to_issue}").json()["status"] == "registered"  # nothing moved

    # The same registration corrected to another meter: the three steps go through.
    import_registration(client, people, "3304810099999999")
    assert client.post(f"/filings/{to_verify}/verification", headers=people["verifier"],
                       json=verification).status_code == 200
    assert review(client, people["bureau"], to_approve, "bureau_approve").status_code == 200
    assert client.post(f"/filings/{to_issue}/issue", headers=people["bureau"], json={}).status_code == 201


# --- 3. nothing to or from a disqualified participant ------------------------------------------------------


def disqualify(client: TestClient, bureau: dict[str, str], participant: int) -> None:
    answer = client.post(f"/admin/participants/{participant}/status", headers=bureau,
                         json={"status": "disqualified", "reason": "第二十六条"})
    assert answer.status_code == 200, answer.text


def test_no_transfer_to_a_disqualified_participant(client: TestClient, people: People,
                                                   registry: Registry) -> None:
    buyer_code = client.get("/accounts", headers=people["buyer"]).json()[0]["code"]
    household_code = client.get("/accounts", headers=people["household"]).json()[0]["code"]
    disqualify(client, people["bureau"], participant_id(registry, "buyer"))
    refused = client.post("/transfers", headers=people["owner"], json={"to_account_code": buyer_code,
                                                                      "quantity_t": 5})
    assert refused.status_code == 409 and refused.json()["rule_codes"] == ["JX-26"]
    assert refused.json()["violations"][0]["field"] == "to_account_code"
    assert client.post("/transfers", headers=people["owner"], json={"to_account_code": household_code,
                                                                    "quantity_t": 5}).status_code == 201


def test_no_deal_with_a_disqualified_participant(client: TestClient, market: dict[str, Any],
                                                 registry: Registry, clock: FixedClock) -> None:
    people, holders = market["people"], market["holders"]
    seller, buyer, stranger = (h.participant_id for h in holders)
    bureau = bearer(client, make_user(registry, "bureau_x", ["bureau"]))
    expires = (clock.now() + timedelta(hours=2)).isoformat()
    listing = client.post("/listings", headers=people["seller"], json={
        "instrument": "JXCI-2023", "client_order_id": "l1", "side": "sell", "price_fen": 5200, "quantity_t": 100,
        "min_pick_t": 10})
    assert listing.status_code == 201, listing.text
    lid = listing.json()["id"]
    assert client.post(f"/listings/{lid}/pick", headers=people["buyer"],
                       json={"client_order_id": "p1", "quantity_t": 10}).status_code == 201

    def propose(cid: str, to: int) -> Any:
        return client.post("/proposals", headers=people["seller"], json={
            "instrument": "JXCI-2023", "client_order_id": cid, "counterparty_participant_id": to, "side": "sell",
            "price_fen": 5300, "quantity_t": 10, "expires_at": expires})

    proposal = propose("n1", buyer)
    assert proposal.status_code == 201, proposal.text
    disqualify(client, bureau, stranger)
    to_stranger = propose("n2", stranger)
    assert to_stranger.status_code == 409 and to_stranger.json()["rule_codes"] == ["JX-26"]
    buy = client.post("/orders", headers=people["stranger"], json={
        "instrument": "JXCI-2023", "client_order_id": "b1", "side": "buy", "quantity_t": 10, "price_fen": 5000})
    assert buy.status_code == 409 and "JX-26" in buy.json()["rule_codes"]
    stranger_code = client.get("/accounts", headers=people["seller"]).json()[0]["code"].replace(
        f"P{seller:06d}", f"P{stranger:06d}")
    gift = client.post("/transfers", headers=people["seller"], json={"to_account_code": stranger_code,
                                                                     "quantity_t": 1})
    assert gift.status_code == 409 and gift.json()["rule_codes"] == ["JX-26"]

    # The seller is disqualified: its listing and its proposal can no longer be taken.
    disqualify(client, bureau, seller)
    pick = client.post(f"/listings/{lid}/pick", headers=people["buyer"], json={"client_order_id": "p2",
                                                                              "quantity_t": 10})
    assert pick.status_code == 409 and pick.json()["rule_codes"] == ["JX-26"]
    accept = client.post(f"/proposals/{proposal.json()['id']}/accept", headers=people["buyer"])
    assert accept.status_code == 409 and accept.json()["rule_codes"] == ["JX-26"]
    assert client.get("/cash", headers=people["buyer"]).json()["balances_fen"]["held"] == 0
    check = client.get("/ledger/check", headers=market["operator"]).json()
    assert check["ok"], check["problems"]


# --- 5. no second notice for 0 t -------------------------------------------------------------------------


def test_a_batch_with_nothing_left_is_not_revoked_again(client: TestClient, people: People, registry: Registry,
                                                       clock: FixedClock) -> None:
    fid = new_filing(client, people, registry)["id"]
    verified_and_applied(client, people, registry, fid)
    batch = issue(client, people, clock, fid)
    path = f"/batches/{batch['batch_id']}/revocations"
    body = {"reason": "未真实产生", "notice": "关于收回的通报"}
    part = client.post(path, headers=people["bureau"], json=body | {"quantity_t": 699})
    assert part.status_code == 201 and part.json()["quantity_t"] == 699
    last = client.post(path, headers=people["bureau"], json=body)
    assert last.status_code == 201 and last.json()["quantity_t"] == 1
    again = client.post(path, headers=people["bureau"], json=body)
    assert again.status_code == 409 and again.json()["rule_codes"] == ["JX-26"]
    assert again.json()["violations"][0]["field"] == "quantity_t"
    notices = client.get("/disclosure/revocations").json()["items"]
    assert [n["quantity_t"] for n in notices] == [1, 699]
    # The notice of an immediate revocation says why there was no correction order first.
    assert "无法改正" in notices[0]["notice"] and "never happened" in notices[0]["notice"]


# --- 7. retirement refusals carry JX-21 ------------------------------------------------------------------


def test_retirement_refusals_name_article_21(client: TestClient, people: People, registry: Registry) -> None:
    accounts = client.get("/accounts", headers=people["owner"]).json()
    available = sum(b["amount"] for b in accounts[0]["balances"]
                    if b["asset"].startswith("CREDIT:") and b["bucket"] == "available")
    assert available > 0

    def retire(quantity: int, **extra: Any) -> Any:
        return client.post("/retirements", headers=people["owner"], json={
            "quantity_t": quantity, "beneficiary": "某会议", "purpose": {"purpose": "voluntary"}} | extra)

    too_many = retire(available + 1)
    assert too_many.status_code == 409 and too_many.json()["rule_codes"] == ["JX-21"]
    assert f"{available} t available" in too_many.json()["violations"][0]["message_en"]
    unknown_batch = retire(1, batch_id=999_999)
    assert unknown_batch.status_code == 409 and unknown_batch.json()["rule_codes"] == ["JX-21"]
    done = retire(available)
    assert done.status_code == 201, done.text
    rid = done.json()["id"]
    assert client.post(f"/retirements/{rid}/execute", headers=people["operator"]).status_code == 200
    twice = client.post(f"/retirements/{rid}/execute", headers=people["operator"])
    assert twice.status_code == 409 and twice.json()["rule_codes"] == ["JX-21"]
    undo = client.post(f"/retirements/{rid}/cancel", headers=people["operator"], json={"reason": "撤回"})
    assert undo.status_code == 409 and undo.json()["rule_codes"] == ["JX-21"]
    assert retire(1).json()["rule_codes"] == ["JX-21"]  # nothing left: a retired tonne is never used again


def test_the_rule_sets_count_reductions_from_2020_09_23(client: TestClient) -> None:
    """Art. 12 read conservatively; the project boundary itself: tests/api/test_projects.py."""
    for on in ("2024-06-01", "2026-11-23"):  # the trial measures, and the demo continuation
        assert client.get(f"/rule-sets/in-force?on={on}").json()["earliest_reduction_date"] == "2020-09-23"
