"""The points ledger, the reward shelf, the monthly filing and the residents' privacy, on both backends."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from registry.clock import FixedClock
from registry.context import Registry
from tests.api.test_points import JIAXING, consent, post, record, registered_project, scenario
from tests.support import People, bearer, make_user, participant_id


def earning_world(client: TestClient, registry: Registry, **limits: int) -> dict[str, Any]:
    ids = {name: make_user(registry, name, [role]) for name, role in (
        ("metro_op", "owner"), ("alice", "resident"), ("bob", "resident"), ("bureau", "bureau"), ("admin", "admin"))}
    people = People(client, ids)
    metro = scenario(client, people["metro_op"], registered_project(
        registry, participant_id(registry, "metro_op"), "metro"), "JX-METRO", "metro",
        **({"points_per_kg": 1000} | limits))
    refs = {}
    for name in ("alice", "bob"):
        refs[name] = client.post("/residents/me", headers=people[name], json={"display_name": name}).json()["reference"]
        consent(client, people[name], metro)
    return {"people": people, "metro": metro, "refs": refs}


def test_points_are_earned_redeemed_donated_expired_and_never_transferred(client: TestClient, registry: Registry,
                                                                          clock: FixedClock) -> None:
    world = earning_world(client, registry)
    people, metro = world["people"], world["metro"]
    clock.advance(timedelta(hours=3))
    post(client, people["metro_op"], metro, [record("e-1", world["refs"]["alice"],
                                                    datetime(2026, 11, 23, 10, 30, tzinfo=JIAXING))])
    me = client.get("/residents/me", headers=people["alice"]).json()
    assert me["balances"] == {"available": 150, "redeemed": 0, "donated": 0, "expired": 0}
    shelf_item = {"title_zh": "地铁单程票", "title_en": "A metro ride", "points_cost": 100, "stock": 5}
    no_scenario = bearer(client, make_user(registry, "plain_owner", ["owner"]))
    assert client.post("/rewards", headers=no_scenario, json=shelf_item).status_code == 403
    offer = client.post("/rewards", headers=people["metro_op"], json=shelf_item).json()
    redeemed = client.post("/residents/me/redemptions", headers=people["alice"], json={"offer_id": offer["id"]})
    assert redeemed.status_code == 201, redeemed.text
    short = client.post("/residents/me/redemptions", headers=people["alice"], json={"offer_id": offer["id"]})
    assert short.status_code == 409 and short.json()["rule_codes"] == ["PTS-SHORT"]
    assert client.get("/rewards").json()[0]["stock"] == 4  # the refused redemption took nothing
    donated = client.post("/residents/me/donations", headers=people["alice"],
                          json={"cause": "wetland", "points": 20})
    assert donated.status_code == 200 and donated.json()["balances"]["donated"] == 20
    refused = client.post("/residents/me/transfers", headers=people["alice"],
                          json={"to_account_ref": world["refs"]["bob"], "points": 10})
    assert refused.status_code == 409 and refused.json()["rule_codes"] == ["PTS-NO-TRANSFER"]
    # Earned in 2026, they live to the end of 2027.
    clock.advance(timedelta(days=403))  # 2027-12-31
    assert client.post("/points/expiry", headers=people["bureau"]).json() == {"expired_points": 0}
    clock.advance(timedelta(days=1))  # 2028-01-01
    assert client.post("/points/expiry", headers=people["bureau"]).json() == {"expired_points": 30}
    check = client.get("/points/check", headers=people["admin"]).json()
    assert check["ok"] and check["credited"] == 150 and check["unbalanced_entries"] == 0
    assert check["buckets"] == {"available": 0, "redeemed": 100, "donated": 20, "expired": 30}
    assert check["credited"] == sum(check["buckets"].values())
    public = client.get(f"/scenarios/{metro}").json()
    assert public["points_issued"] == 150 and public["residents"] == 1


def test_a_month_becomes_a_draft_filing_of_whole_tonnes_with_its_records(client: TestClient, registry: Registry,
                                                                         clock: FixedClock) -> None:
    world = earning_world(client, registry, max_grams_per_record=10**7, daily_grams=10**8)
    people, metro = world["people"], world["metro"]
    clock.advance(timedelta(hours=3))
    # 1,000 g/km saved: grams = metres. 2,000,000 + 345,678 = 2,345,678 g → 2 t (Art. 28).
    with_scenario = client.get(f"/scenarios/{metro}").json()
    assert with_scenario["formula"]["baseline_g_per_km"] == 100
    body = {"project_id": registered_project(registry, participant_id(registry, "metro_op"), "bus"), "code": "JX-BUS",
            "title_zh": "公交", "title_en": "Bus", "behaviour": "bus", "activity_key": "distance_m",
            "baseline_g_per_km": 1000, "mode_g_per_km": 0, "max_grams_per_record": 10**7, "daily_grams": 10**8,
            "yearly_points": 10**9, "late_days": 7, "points_per_kg": 1, "duplicate_window_s": 60,
            "max_accounts_per_device": 2, "parameter_versions": {}}
    bus = client.post("/scenarios", headers=people["metro_op"], json=body).json()["id"]
    for name in ("alice", "bob"):
        consent(client, people[name], bus)
    clock.advance(timedelta(minutes=1))
    trips = [record("f-1", world["refs"]["alice"], datetime(2026, 11, 23, 13, 0, tzinfo=JIAXING), 2_000_000),
             record("f-2", world["refs"]["bob"], datetime(2026, 11, 23, 13, 0, tzinfo=JIAXING), 345_678)]
    assert post(client, people["metro_op"], bus, trips)["accepted"] == 2
    early = client.post(f"/scenarios/{bus}/filings", headers=people["metro_op"], json={"month": "2026-11"})
    assert early.status_code == 409 and early.json()["rule_codes"] == ["PTS-MONTH-OPEN"]
    clock.advance(timedelta(days=15))  # past 1 December + the 7-day late window
    filed = client.post(f"/scenarios/{bus}/filings", headers=people["metro_op"], json={"month": "2026-11"})
    assert filed.status_code == 201, filed.text
    answer = filed.json()
    assert (answer["grams"], answer["tonnes"], answer["record_count"]) == (2_345_678, 2, 2)
    content = client.get(f"/documents/{answer['records_sha256']}", headers=people["metro_op"]).content
    assert hashlib.sha256(content).hexdigest() == answer["records_sha256"] and b"f-2" in content
    filing = client.get(f"/filings/{answer['filing_id']}", headers=people["metro_op"]).json()
    assert filing["status"] == "draft" and filing["calculated_tco2e"].startswith("2")
    again = client.post(f"/scenarios/{bus}/filings", headers=people["metro_op"], json={"month": "2026-11"})
    assert again.status_code == 409
    assert [f["month"] for f in client.get(f"/scenarios/{bus}/filings", headers=people["metro_op"]).json()] == [
        "2026-11"]


def test_a_resident_exports_and_closes_the_account(client: TestClient, registry: Registry,
                                                   clock: FixedClock) -> None:
    world = earning_world(client, registry)
    people, metro = world["people"], world["metro"]
    clock.advance(timedelta(hours=3))
    post(client, people["metro_op"], metro, [record("p-1", world["refs"]["alice"],
                                                    datetime(2026, 11, 23, 10, 30, tzinfo=JIAXING))])
    exported = client.get("/residents/me/export", headers=people["alice"]).json()
    assert exported["account"]["reference"] == world["refs"]["alice"]
    assert [r["record_ref"] for r in exported["records"]] == ["p-1"] and exported["balances"]["available"] == 150
    closed = client.post("/residents/me/close", headers=people["alice"]).json()
    assert closed["pseudonym"].startswith("X-")
    assert client.get("/residents/me", headers=people["alice"]).status_code == 404
    # The ledger still balances under the pseudonym; the name and the reference are gone.
    assert client.get("/points/check", headers=people["admin"]).json()["ok"]
    after = post(client, people["metro_op"], metro, [record("p-2", world["refs"]["alice"],
                                                            datetime(2026, 11, 23, 12, 0, tzinfo=JIAXING))])
    assert after["records"][0]["code"] == "PTS-CONSENT"
