"""Residents' points through reduction scenarios, on SQLite and on PostgreSQL (issue 18's "Done when")."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from registry.clock import FixedClock
from registry.context import Registry
from registry.orm import Methodology, MethodologyVersion, Project
from tests.support import People, make_user, participant_id

JIAXING = ZoneInfo("Asia/Shanghai")


def registered_project(registry: Registry, owner_participant: int, title: str) -> int:
    """A registered project of the operator, written directly (its registration flow is tested elsewhere)."""
    with registry.uow() as uow:
        now = uow.now()
        methodology = Methodology(code=f"M-{title}", title_zh=title, title_en=title, field="other",
                                  proposer_participant_id=owner_participant, created_at=now)
        uow.session.add(methodology)
        uow.session.flush()
        version = MethodologyVersion(methodology_id=methodology.id, version=1, status="registered", definition={},
                                     submitted_by=1, submitted_at=now)
        uow.session.add(version)
        uow.session.flush()
        project = Project(code=f"P-{title}", owner_participant_id=owner_participant,
                          methodology_version_id=version.id, title=title, county_code="330402",
                          industry_code="5411", owner_kind="large", crediting_start=date(2025, 1, 1),
                          crediting_end=date(2030, 12, 31), legal_reduction_obligation=False,
                          declared_other_mechanisms=[], status="registered", created_at=now)
        uow.session.add(project)
        uow.commit()
        return project.id


LIMITS = {"max_grams_per_record": 1000, "daily_grams": 300, "yearly_points": 100_000, "late_days": 7,
          "points_per_kg": 10, "duplicate_window_s": 60, "max_accounts_per_device": 2}


def scenario(client: TestClient, headers: dict[str, str], project_id: int, code: str, behaviour: str,
             **limits: int) -> int:
    made = client.post("/scenarios", headers=headers, json={
        "project_id": project_id, "code": code, "title_zh": code, "title_en": code, "behaviour": behaviour,
        "activity_key": "distance_m", "baseline_g_per_km": 100, "mode_g_per_km": 25} | LIMITS | limits)
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


@pytest.fixture
def world(client: TestClient, registry: Registry) -> dict[str, Any]:
    ids = {name: make_user(registry, name, [role]) for name, role in (
        ("metro_op", "owner"), ("bike_op", "owner"), ("alice", "resident"), ("bob", "resident"),
        ("bureau", "bureau"))}
    people = People(client, ids)
    metro = scenario(client, people["metro_op"], registered_project(
        registry, participant_id(registry, "metro_op"), "metro"), "JX-METRO", "metro")
    bike = scenario(client, people["bike_op"], registered_project(
        registry, participant_id(registry, "bike_op"), "bike"), "JX-BIKE", "shared_bike", daily_grams=100_000)
    refs = {}
    for name in ("alice", "bob"):
        opened = client.post("/residents/me", headers=people[name], json={"display_name": name})
        assert opened.status_code == 200, opened.text
        refs[name] = opened.json()["reference"]
    return {"people": people, "metro": metro, "bike": bike, "refs": refs}


def consent(client: TestClient, headers: dict[str, str], scenario_id: int) -> None:
    assert client.post("/residents/me/consents", headers=headers, json={"scenario_id": scenario_id}).status_code == 200


def record(ref: str, account: str, at: datetime, metres: int = 2000, minutes: int = 20,
           device: str | None = None) -> dict[str, Any]:
    body = {"record_ref": ref, "account_ref": account, "started_at": at.isoformat(),
            "ended_at": (at + timedelta(minutes=minutes)).isoformat(), "activity": {"distance_m": metres}}
    return body | ({"device_hash": device} if device else {})


def post(client: TestClient, headers: dict[str, str], scenario_id: int, records: list[dict[str, Any]]) -> Any:
    response = client.post(f"/scenarios/{scenario_id}/records", headers=headers, json={"records": records})
    assert response.status_code == 200, response.text
    return response.json()


def test_caps_consent_late_and_a_repost_that_creates_nothing(client: TestClient, world: dict[str, Any],
                                                              clock: FixedClock) -> None:
    people, metro, alice = world["people"], world["metro"], world["refs"]["alice"]
    before_consent = clock.now() - timedelta(hours=1)
    consent(client, people["alice"], metro)
    clock.advance(timedelta(days=10, hours=3))
    morning = datetime(2026, 12, 3, 10, 30, tzinfo=JIAXING)
    batch = [record(f"m-{i}", alice, morning + timedelta(hours=i)) for i in range(3)]
    batch += [record("m-early", alice, before_consent),
              record("m-late", alice, clock.now() - timedelta(days=8)),
              record("m-nobody", "JXR-NOSUCH", morning)]
    first = post(client, people["metro_op"], metro, batch)
    got = [(r["outcome"], r["code"], r["grams"]) for r in first["records"]]
    assert got == [("accepted", None, 150), ("accepted", None, 150), ("capped", "PTS-DAILY-CAP", 0),
                   ("refused", "PTS-CONSENT", 0), ("refused", "PTS-LATE", 0), ("refused", "PTS-CONSENT", 0)]
    assert first["records"][4]["message_zh"] and first["records"][4]["message_en"]
    # Midnight in Jiaxing resets the cap: a trip at 00:10 next day counts again.
    clock.advance(timedelta(days=1))
    next_day = post(client, people["metro_op"], metro,
                    [record("m-next", alice, datetime(2026, 12, 4, 0, 10, tzinfo=JIAXING))])
    assert next_day["records"][0]["grams"] == 150
    # Re-posting the first batch creates nothing: the same answers, marked replayed, and no new points.
    points_before = client.get("/residents/me", headers=people["alice"]).json()["balances"]["available"]
    again = post(client, people["metro_op"], metro, batch)
    assert again["replayed"] == 6 and [(r["outcome"], r["grams"]) for r in again["records"]] == [
        (o, g) for o, _, g in got]
    assert client.get("/residents/me", headers=people["alice"]).json()["balances"]["available"] == points_before == 3
    assert len(client.get("/residents/me/records", headers=people["alice"]).json()) == 6
    # Revocation: later records refused, earlier ones kept.
    assert client.delete(f"/residents/me/consents/{metro}", headers=people["alice"]).status_code == 200
    clock.advance(timedelta(minutes=1))
    after = post(client, people["metro_op"], metro,
                 [record("m-after", alice, clock.now() - timedelta(seconds=10), minutes=0)])
    assert after["records"][0]["code"] == "PTS-CONSENT"
    mine = client.get("/residents/me/records", headers=people["alice"]).json()
    assert sum(r["grams"] for r in mine) == 450


def test_overlapping_bike_and_metro_legs_are_jx_13_3(client: TestClient, world: dict[str, Any],
                                                     clock: FixedClock) -> None:
    people, alice = world["people"], world["refs"]["alice"]
    consent(client, people["alice"], world["metro"])
    consent(client, people["alice"], world["bike"])
    clock.advance(timedelta(hours=3))
    leg = datetime(2026, 11, 23, 10, 30, tzinfo=JIAXING)
    assert post(client, people["bike_op"], world["bike"],
                [record("b-1", alice, leg, minutes=30)])["records"][0]["outcome"] == "accepted"
    metro = post(client, people["metro_op"], world["metro"], [record("m-1", alice, leg + timedelta(minutes=10))])
    assert metro["records"][0]["code"] == "JX-13-3"
    later = post(client, people["metro_op"], world["metro"], [record("m-2", alice, leg + timedelta(minutes=30))])
    assert later["records"][0]["outcome"] == "accepted"


def test_records_are_seen_by_the_resident_and_the_operator_only(client: TestClient, world: dict[str, Any],
                                                                clock: FixedClock) -> None:
    people, metro = world["people"], world["metro"]
    consent(client, people["alice"], metro)
    clock.advance(timedelta(hours=2))
    post(client, people["metro_op"], metro, [record("v-1", world["refs"]["alice"], clock.now() - timedelta(hours=1))])
    assert len(client.get(f"/scenarios/{metro}/records", headers=people["metro_op"]).json()) == 1
    assert client.get(f"/scenarios/{metro}/records", headers=people["bike_op"]).status_code == 404
    assert client.post(f"/scenarios/{metro}/records", headers=people["bike_op"],
                       json={"records": [record("x", "JXR-A", clock.now())]}).status_code == 404
    assert client.get("/residents/me/records", headers=people["bob"]).json() == []
    assert client.get("/residents/me/records").status_code == 401
    assert client.get("/residents/me").status_code == 401
    public = client.get(f"/scenarios/{metro}").json()
    assert public["residents"] == 1 and public["points_issued"] == 1 and "records" not in public
    outcomes = client.get(f"/scenarios/{metro}/outcomes", headers=people["metro_op"]).json()
    assert outcomes == [{"outcome": "accepted", "code": None, "records": 1}]


def test_a_batch_is_bounded(client: TestClient, world: dict[str, Any], clock: FixedClock) -> None:
    people, metro = world["people"], world["metro"]
    records = [record(f"n-{i}", "JXR-A", clock.now()) for i in range(1001)]
    assert client.post(f"/scenarios/{metro}/records", headers=people["metro_op"],
                       json={"records": records}).status_code == 422
    twice = [record("same", "JXR-A", clock.now()), record("same", "JXR-A", clock.now())]
    assert client.post(f"/scenarios/{metro}/records", headers=people["metro_op"],
                       json={"records": twice}).status_code == 409
    bad = record("ctl\u0000", "JXR-A", clock.now())
    assert client.post(f"/scenarios/{metro}/records", headers=people["metro_op"],
                       json={"records": [bad]}).status_code == 422
