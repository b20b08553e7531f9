"""Event carbon neutrality through HTTP, on both backends (issue 17's "done when"): the fixture event's total
to the gram with every line citing factor@version; a factor in force only after the event is not picked;
12.3 t needs 13 t; one retirement backs one event; an assessor who prepared the inventory is refused; overdue
past the deadline; the statement's serials are the union of its retirements'; a revocation marks it."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError

from registry.clock import FixedClock
from registry.context import Registry
from registry.demo_emission_factors import demo_drafts
from registry.orm import EventOffset, Participant
from registry.principals import Principal
from registry.repositories import events as events_repo
from registry.services import emission_factors, ledger_accounts, transfers
from registry.services import events as events_service
from tests.support import People, issue_to, make_user, seed_ledger

# The fixture event: 500 attendees × 300 km of high-speed rail, round trip; 400 room-nights; 1,500 meals;
# 20 MWh. Hand-computed with the demo factors (registry/demo_emission_factors.py), the venue in Nanhu falling
# back to Zhejiang for electricity and to China for the rest:
#   300,000 pkm × 0.04137 = 12,411 kg;  400 × 14.7325 = 5,893 kg;  1,500 × 2.3417 = 3,512.55 kg;
#   20,000 kWh × 0.55213 = 11,042.6 kg;  total 32,859.15 kg = 32,859,150 g → 33 t to offset.
FIXTURE_TOTAL_G = 32_859_150
FIXTURE_ACTIVITIES = [
    {"kind": "travel", "source": "attendee_travel", "activity": "rail_high_speed", "distance_km": "300",
     "persons": 500, "round_trip": True},
    {"kind": "quantity", "source": "accommodation", "activity": "accommodation_room_night", "quantity": "400"},
    {"kind": "quantity", "source": "catering", "activity": "catering_meal", "quantity": "1500"},
    {"kind": "quantity", "source": "purchased_electricity", "activity": "electricity_grid", "quantity": "20000"},
]
EXCLUSIONS = {"venue_fuel": "场馆全电气化，无燃料燃烧", "purchased_heat": "未使用供热",
              "service_vehicles": "无保障车辆", "materials": "物料全部复用", "waste": "由场馆计入其自身清单"}


def draft(**overrides: Any) -> emission_factors.FactorDraft:
    base = demo_drafts()[0]
    return emission_factors.FactorDraft(**{**base.__dict__, **overrides})


def publish(registry: Registry, bureau: Principal, drafts: list[emission_factors.FactorDraft]) -> None:
    with registry.uow(bureau) as uow:
        emission_factors.propose_release(uow, title="test", note="", drafts=drafts, notice_days=None)


def sell_to_organiser(registry: Registry, holders: list[Principal], quantity_t: int) -> None:
    """The owner (holders[0]) transfers credits to the organiser (holders[1])."""
    with registry.uow(holders[0]) as uow:
        target = ledger_accounts.main_account(uow, holders[1].participant_id).code
        transfers.transfer(uow, holders[0], from_account_id=None, to_account_code=target, quantity_t=quantity_t,
                           batch_id=None, memo="sale")
        uow.commit()


@pytest.fixture
def world(client: TestClient, registry: Registry) -> dict[str, Any]:
    bureau, holders = seed_ledger(registry)
    batch = issue_to(registry, bureau, 100)  # to holders[0], the project's owner; the organiser buys it
    sell_to_organiser(registry, holders, 100)
    publish(registry, bureau, [*demo_drafts(), draft(code="TEST-UNIT", activity="test_unit", unit="unit",
                                                     value_kg=Decimal(1), region="CN")])
    people = People(client, {"organiser": holders[1].user_id, "other": holders[2].user_id,
                             "operator": bureau.user_id, "bureau": bureau.user_id,
                             "verifier": make_user(registry, "verifier_a", ["verifier"]),
                             "verifier_b": make_user(registry, "verifier_b", ["verifier"])})
    return {"people": people, "batch": batch, "bureau": bureau, "holders": holders}


def create_event(client: TestClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    body = {"name": "南湖低碳论坛", "event_type": "forum", "venue": "南湖国际会展中心", "venue_county": "330402",
            "starts_on": "2026-11-10", "ends_on": "2026-11-12", "attendees": 500,
            "reduction_measures": "无纸化会务；公共交通接驳"} | overrides
    response = client.post("/events", headers=headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def inventory(client: TestClient, headers: dict[str, str], event_id: int,
              activities: list[dict[str, Any]] | None = None, exclusions: dict[str, str] | None = None,
              **extra: Any) -> Any:
    return client.post(f"/events/{event_id}/inventory", headers=headers, json={
        "activities": FIXTURE_ACTIVITIES if activities is None else activities,
        "exclusions": EXCLUSIONS if exclusions is None else exclusions, **extra})


def retire(client: TestClient, people: People, event: dict[str, Any], quantity_t: int, *,
           purpose: str = "event_neutrality", event_id: int | None = None) -> dict[str, Any]:
    details: dict[str, Any] = {"purpose": "voluntary", "note": "自愿"} if purpose == "voluntary" else {
        "purpose": "event_neutrality", "event_name": event["name"], "event_start": event["starts_on"],
        "event_end": event["ends_on"], "event_place": event["venue"], "event_emissions_tco2e": "33"}
    if event_id is not None:
        details["event_id"] = event_id
    made = client.post("/retirements", headers=people["organiser"],
                       json={"quantity_t": quantity_t, "beneficiary": "南湖论坛组委会", "purpose": details})
    assert made.status_code == 201, made.text
    executed = client.post(f"/retirements/{made.json()['id']}/execute", headers=people["operator"])
    assert executed.status_code == 200, executed.text
    return executed.json()


def test_the_fixture_event_matches_the_hand_computed_total_to_the_gram(client: TestClient,
                                                                       world: dict[str, Any]) -> None:
    people = world["people"]
    event = create_event(client, people["organiser"])
    assert event["status"] == "held"  # ended 2026-11-12, the tests' today is 2026-11-23
    recorded = inventory(client, people["organiser"], event["id"])
    assert recorded.status_code == 201, recorded.text
    inv = recorded.json()["inventory"]
    assert inv["total_g"] == FIXTURE_TOTAL_G and inv["total_t"] == 33
    assert [line["emissions_g"] for line in inv["lines"]] == [12_411_000, 5_893_000, 3_512_550, 11_042_600]
    assert [line["factor"] for line in inv["lines"]] == ["RAIL-HSR@1", "HOTEL-NIGHT@1", "MEAL@1", "ELEC-GRID-ZJ@1"]
    assert inv["lines"][0]["quantity"] == "300000"  # 500 persons × 300 km × 2
    assert inv["lines"][3]["selection"]["fell_back"] is True
    assert recorded.json()["status"] == "inventoried" and recorded.json()["shortfall_t"] == 33
    live = client.post("/event-inventories/calculation", json={
        "venue_county": "330402", "on": "2026-11-10", "activities": FIXTURE_ACTIVITIES, "exclusions": EXCLUSIONS})
    assert live.status_code == 200 and live.json()["trace_hash"] == inv["trace_hash"]
    assert client.get("/event-inventories/distance", params={"from": "jiaxing", "to": "shanghai"}).json()[
        "distance_km"] > 0


def test_a_factor_in_force_only_after_the_event_is_not_picked(client: TestClient, registry: Registry,
                                                             world: dict[str, Any]) -> None:
    publish(registry, world["bureau"], [draft(code="ELEC-GRID-ZJ", activity="electricity_grid", region="CN-ZJ",
                                              data_year=2023, value_kg=Decimal("0.9"),
                                              effective_from=date(2026, 11, 11))])
    people = world["people"]
    on_the_day_before = create_event(client, people["organiser"], starts_on="2026-11-10")
    lines = inventory(client, people["organiser"], on_the_day_before["id"]).json()["inventory"]["lines"]
    assert lines[3]["factor"] == "ELEC-GRID-ZJ@1"
    on_the_day = create_event(client, people["organiser"], starts_on="2026-11-11")
    lines = inventory(client, people["organiser"], on_the_day["id"]).json()["inventory"]["lines"]
    assert lines[3]["factor"] == "ELEC-GRID-ZJ@2" and lines[3]["emissions_g"] == 18_000_000


def test_an_incomplete_inventory_is_refused_with_coded_violations(client: TestClient, world: dict[str, Any]) -> None:
    people = world["people"]
    event = create_event(client, people["organiser"])
    refused = inventory(client, people["organiser"], event["id"], exclusions={"waste": "由场馆计入"})
    assert refused.status_code == 409 and set(refused.json()["rule_codes"]) == {"JX-28"}
    other = inventory(client, people["other"], event["id"])
    assert other.status_code == 404  # not theirs to record


def small_event(client: TestClient, people: People, **overrides: Any) -> dict[str, Any]:
    """An event of exactly 12.3 t (12,300 units of a 1 kg factor)."""
    event = create_event(client, people["organiser"], **overrides)
    recorded = inventory(client, people["organiser"], event["id"],
                         activities=[{"kind": "quantity", "source": "materials", "activity": "test_unit",
                                      "quantity": "12300"}],
                         exclusions={k: "不适用" for k in ("venue_fuel", "purchased_electricity", "purchased_heat",
                                                          "service_vehicles", "attendee_travel", "accommodation",
                                                          "catering", "waste")})
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["inventory"]["total_g"] == 12_300_000 and recorded.json()["inventory"]["total_t"] == 13
    return recorded.json()


def test_twelve_point_three_tonnes_needs_thirteen_and_the_statement_lists_the_union_of_serials(
        client: TestClient, world: dict[str, Any]) -> None:
    people = world["people"]
    event = small_event(client, people)
    first = retire(client, people, event, 12, event_id=event["id"])
    short = client.post(f"/events/{event['id']}/assessment", headers=people["organiser"], json={})
    assert short.status_code == 409 and short.json()["rule_codes"] == ["JX-21"]
    assert "1 t missing" in short.json()["violations"][0]["message_en"]
    assert client.get(f"/events/{event['id']}/statement").status_code == 404
    missing = client.post(f"/events/{event['id']}/shortfall-retirement", headers=people["organiser"])
    assert missing.status_code == 201, missing.text
    pending = [o for o in missing.json()["offsets"] if o["status"] == "requested"]
    assert len(pending) == 1 and pending[0]["quantity_t"] == 1 and missing.json()["counted_t"] == 12
    second = client.post(f"/retirements/{pending[0]['retirement_id']}/execute", headers=people["operator"]).json()
    neutral = client.post(f"/events/{event['id']}/assessment", headers=people["organiser"],
                          json={"conclusion": "组织方声明"})
    assert neutral.status_code == 200, neutral.text
    assert neutral.json()["status"] == "neutral" and neutral.json()["statement_code"].startswith("JXN-")
    statement = client.get(f"/events/{event['id']}/statement").json()
    assert statement["retirements"] == [first["code"], second["code"]]
    assert statement["serial_blocks"] == first["serial_blocks"] + second["serial_blocks"]
    assert statement["factors"][0]["factor"] == "TEST-UNIT@1" and statement["factors"][0]["citation"].startswith(
        "[DEMO")
    assert "13" in statement["conclusion_zh"] and statement["conclusion_en"].startswith("By the organiser's")
    pdf = client.get(f"/events/{event['id']}/statement.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    listed = client.get("/disclosure/event-neutrality").json()
    assert [s["statement_code"] for s in listed] == [statement["statement_code"]]
    csv = client.get("/disclosure/event-neutrality.csv").content.decode("utf-8-sig").splitlines()
    assert len(csv) == 2 and statement["statement_code"] in csv[1]
    assert [e["code"] for e in client.get("/events").json()] == [event["code"]]


def test_a_retirement_backing_event_a_cannot_back_b_nor_a_voluntary_one_any(
        client: TestClient, registry: Registry, world: dict[str, Any]) -> None:
    people = world["people"]
    a = small_event(client, people)
    b = small_event(client, people, name="另一活动")
    for_a = retire(client, people, a, 5, event_id=a["id"])
    refused = client.post(f"/events/{b['id']}/offsets", headers=people["organiser"],
                          json={"retirement_id": for_a["id"]})
    assert refused.status_code == 409 and refused.json()["rule_codes"] == ["JX-21"]
    voluntary = retire(client, people, a, 1, purpose="voluntary")
    refused = client.post(f"/events/{b['id']}/offsets", headers=people["organiser"],
                          json={"retirement_id": voluntary["id"]})
    assert refused.status_code == 409 and refused.json()["rule_codes"] == ["JX-21"]
    unnamed = retire(client, people, b, 2)
    named = client.post(f"/events/{b['id']}/offsets", headers=people["organiser"],
                        json={"retirement_id": unnamed["id"]})
    assert named.status_code == 201 and named.json()["counted_t"] == 2
    # Even past the checks, the database holds one retirement to one event.
    with pytest.raises(IntegrityError), registry.uow() as uow:
        uow.session.add(EventOffset(event_id=b["id"], kind="retirement", retirement_id=for_a["id"],
                                    created_by=world["bureau"].user_id, created_at=uow.now()))
        uow.session.flush()


def test_an_assessor_who_prepared_the_inventory_is_refused(client: TestClient, registry: Registry,
                                                         world: dict[str, Any]) -> None:
    people = world["people"]
    event = create_event(client, people["organiser"])
    verifier_org = client.get("/auth/me", headers=people["verifier"]).json()["participant_id"]
    recorded = inventory(client, people["organiser"], event["id"], preparer_id=verifier_org, assessor_id=verifier_org)
    assert recorded.status_code == 201, recorded.text
    retire(client, people, event, 33, event_id=event["id"])
    refused = client.post(f"/events/{event['id']}/assessment", headers=people["verifier"], json={})
    assert refused.status_code == 409 and refused.json()["rule_codes"] == ["JX-15"]
    # A verifier nobody commissioned does not see the event to assess.
    assert client.post(f"/events/{event['id']}/assessment", headers=people["verifier_b"], json={}).status_code == 404
    other_org = client.get("/auth/me", headers=people["verifier_b"]).json()["participant_id"]
    inventory(client, people["organiser"], event["id"], preparer_id=verifier_org, assessor_id=other_org)
    assessed = client.post(f"/events/{event['id']}/assessment", headers=people["verifier_b"], json={})
    assert assessed.status_code == 200 and assessed.json()["assessment_kind"] == "third_party"
    assert assessed.json()["assessor_id"] == other_org


def test_the_statement_waits_for_the_end_and_the_event_is_overdue_past_its_deadline(
        client: TestClient, clock: FixedClock, world: dict[str, Any]) -> None:
    people = world["people"]
    today = "2026-11-23"
    running = small_event(client, people, starts_on=today, ends_on=today)
    retire(client, people, running, 13, event_id=running["id"])
    early = client.post(f"/events/{running['id']}/assessment", headers=people["organiser"], json={})
    assert early.status_code == 409 and early.json()["rule_codes"] == ["JX-24"]
    due = create_event(client, people["organiser"], starts_on="2026-11-20", ends_on="2026-11-22", deadline_days=1)
    assert due["deadline"] == today and due["status"] == "held"  # the deadline day itself is not overdue
    clock.advance(timedelta(days=1))
    assert client.get(f"/events/{due['id']}").json()["status"] == "overdue"
    assert client.get(f"/events/{due['id']}").json()["status_en"] == "Overdue"


def test_a_revoked_batch_marks_the_statement_until_a_replacement_is_retired(
        client: TestClient, registry: Registry, world: dict[str, Any]) -> None:
    people = world["people"]
    event = small_event(client, people)
    retire(client, people, event, 13, event_id=event["id"])
    assert client.post(f"/events/{event['id']}/assessment", headers=people["organiser"], json={}).status_code == 200
    revoked = client.post(f"/batches/{world['batch'].id}/revocations", headers=people["bureau"],
                          json={"reason": "虚假材料", "notice": "收回公告：减排量不真实"})
    assert revoked.status_code == 201, revoked.text
    marked = client.get(f"/events/{event['id']}").json()
    assert marked["replacement_needed"] and marked["status_en"] == "Offset revoked — replacement needed"
    assert client.get("/disclosure/event-neutrality").json()[0]["event"]["replacement_needed"] is True
    # The owner of the revoked batch is disqualified (Art. 26); the organiser buys a replacement elsewhere.
    owner = world["holders"][0]
    with registry.uow() as uow:
        uow.session.get(Participant, owner.participant_id).status = "active"  # type: ignore[union-attr]
        uow.commit()
    issue_to(registry, world["bureau"], 20, month=2)
    sell_to_organiser(registry, world["holders"], 20)
    replaced = client.post(f"/events/{event['id']}/shortfall-retirement", headers=people["organiser"]).json()
    pending = next(o for o in replaced["offsets"] if o["status"] == "requested")
    client.post(f"/retirements/{pending['retirement_id']}/execute", headers=people["operator"])
    healed = client.get(f"/events/{event['id']}").json()
    assert not healed["replacement_needed"] and healed["status"] == "neutral" and healed["counted_t"] == 13


def test_a_stored_inventory_recomputes_to_its_trace_hash_after_newer_factors(
        client: TestClient, registry: Registry, world: dict[str, Any]) -> None:
    people = world["people"]
    event = create_event(client, people["organiser"])
    stored = inventory(client, people["organiser"], event["id"]).json()["inventory"]
    publish(registry, world["bureau"], [draft(code="ELEC-GRID-ZJ", activity="electricity_grid", region="CN-ZJ",
                                              data_year=2023, value_kg=Decimal("0.7"))])
    with registry.uow() as uow:
        found = events_service.get(uow, event["id"])
        recorded = events_repo.latest_inventory(uow.session, found.id)
        assert recorded is not None
        assert events_service.recompute(uow, recorded, found) == stored["trace_hash"]
    # A new inventory today would take the newer factor version and say so.
    newer = inventory(client, people["organiser"], event["id"]).json()["inventory"]
    assert newer["version"] == 2 and newer["lines"][3]["factor"] == "ELEC-GRID-ZJ@2"


def test_a_retirement_cannot_name_another_organisers_event_and_nothing_is_held(
        client: TestClient, registry: Registry, world: dict[str, Any]) -> None:
    people = world["people"]
    theirs = create_event(client, people["other"])
    purpose: dict[str, Any] = {
        "purpose": "event_neutrality", "event_name": "x", "event_start": "2026-11-10", "event_end": "2026-11-12",
        "event_place": "y", "event_emissions_tco2e": "5", "event_id": theirs["id"]}
    body: dict[str, Any] = {"quantity_t": 5, "beneficiary": "某活动", "purpose": purpose}
    refused = client.post("/retirements", headers=people["organiser"], json=body)
    assert refused.status_code == 404
    assert client.get("/retirements", headers=people["organiser"], params={"mine": True}).json()["items"] == []
    missing = client.post("/retirements", headers=people["organiser"],
                          json={**body, "purpose": {**purpose, "event_id": 999_999}})
    assert missing.status_code == 404
    # Without event_id the form answers as before: the details hold what was typed, no event_id.
    plain = client.post("/retirements", headers=people["organiser"],
                        json={**body, "purpose": {k: v for k, v in purpose.items() if k != "event_id"}})
    assert plain.status_code == 201 and "event_id" not in plain.json()["details"]
