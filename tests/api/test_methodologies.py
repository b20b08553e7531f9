"""Methodologies through HTTP: submission, the Art. 10 review by role, public notice, objections,
registration, parameter versions (Art. 11) and the calculation table (Art. 14)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from registry.clock import FixedClock, business_date
from registry.context import Registry
from tests.support import People, make_user

FACTOR_SOURCE = "MEE national average grid emission factor (test fixture)"


def definition(**overrides: Any) -> dict[str, Any]:
    base = {
        "asset_identifier_kind": "electricity_meter_number",
        "inclusive_owner_kinds": ["individual", "household", "micro", "small"],
        "inputs": [{"name": "generation_mwh", "unit": "MWh", "label_zh": "上网电量", "label_en": "Generation"}],
        "parameters": ["GRID_EF"],
        "calculation": [
            {"name": "baseline_t", "expression": "generation_mwh * GRID_EF", "label_zh": "基准线排放",
             "label_en": "Baseline emissions", "unit": "tCO2e"},
            {"name": "reduction_t", "expression": "max(baseline_t - 0, 0)", "label_zh": "减排量",
             "label_en": "Reduction", "unit": "tCO2e"},
        ],
    }
    return base | overrides


@pytest.fixture
def people(client: TestClient, registry: Registry) -> People:
    ids = {role: make_user(registry, role, [role]) for role in ("bureau", "center", "expert", "owner")}
    ids["other_owner"] = make_user(registry, "other_owner", ["owner"])
    return People(client, ids)


@pytest.fixture
def grid_factor(client: TestClient, people: People, clock: FixedClock) -> None:
    response = client.post("/parameters", headers=people["bureau"], json={
        "code": "GRID_EF", "name_zh": "电网排放因子", "name_en": "Grid emission factor", "unit": "tCO2/MWh",
        "first_version": {"value": "0.5703", "source": FACTOR_SOURCE, "effective_from": "2022-01-01"}})
    assert response.status_code == 201, response.text
    version_id = response.json()["versions"][0]["id"]
    assert response.json()["versions"][0]["status"] == "public_notice"
    refused = client.post(f"/parameter-versions/{version_id}/publish", headers=people["bureau"])
    assert refused.status_code == 409 and refused.json()["rule_codes"] == ["JX-11"]
    clock.advance(timedelta(days=8))
    published = client.post(f"/parameter-versions/{version_id}/publish", headers=people["bureau"])
    assert published.status_code == 200 and published.json()["status"] == "published"


def submit(client: TestClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    response = client.post("/methodologies", headers=headers, json={
        "title_zh": "屋顶光伏", "title_en": "Rooftop PV", "field": "renewable_energy",
        "definition": definition(**overrides)})
    assert response.status_code == 201, response.text
    return response.json()


def review(client: TestClient, headers: dict[str, str], version_id: int, action: str,
           comment: str = "ok") -> Any:
    return client.post(f"/methodology-versions/{version_id}/review", headers=headers,
                       json={"action": action, "comment": comment})


def walk_to_notice(client: TestClient, people: People, version_id: int) -> None:
    for who, action in (("center", "center_approve"), ("bureau", "convene_experts"),
                        ("expert", "expert_approve"), ("bureau", "bureau_approve")):
        response = review(client, people[who], version_id, action)
        assert response.status_code == 200, (action, response.text)


@pytest.mark.usefixtures("grid_factor")
def test_the_whole_review_to_registration(client: TestClient, people: People,
                                          clock: FixedClock) -> None:
    version = submit(client, people["owner"])
    vid = version["id"]
    assert version["status"] == "submitted" and version["code"].startswith("JXM-")
    # Not public yet; not visible to another owner either.
    assert client.get(f"/methodology-versions/{vid}").status_code == 404
    assert client.get(f"/methodology-versions/{vid}", headers=people["other_owner"]).status_code == 404
    assert client.get(f"/methodology-versions/{vid}", headers=people["owner"]).status_code == 200
    walk_to_notice(client, people, vid)
    notice = client.get(f"/methodology-versions/{vid}").json()
    assert notice["status"] == "public_notice"
    assert notice["notice_end"] == (business_date(clock) + timedelta(days=7)).isoformat()
    # Registration only after the notice ends: on its last day refused, the next day allowed.
    clock.advance(timedelta(days=7))
    too_early = review(client, people["bureau"], vid, "register")
    assert too_early.status_code == 409
    clock.advance(timedelta(days=1))
    registered = review(client, people["bureau"], vid, "register")
    assert registered.status_code == 200 and registered.json()["status"] == "registered"
    history = client.get(f"/methodology-versions/{vid}/history").json()
    assert [h["action"] for h in history] == ["center_approve", "convene_experts", "expert_approve",
                                              "bureau_approve", "register"]
    listed = client.get("/methodologies").json()
    assert [m["id"] for m in listed["items"]] == [vid]


@pytest.mark.usefixtures("grid_factor")
def test_each_step_only_by_its_role(client: TestClient, people: People) -> None:
    vid = submit(client, people["owner"])["id"]
    wrong = review(client, people["bureau"], vid, "center_approve")
    assert wrong.status_code == 409 and wrong.json()["rule_codes"] == ["FLOW"]
    assert review(client, people["expert"], vid, "expert_approve").status_code == 409
    assert review(client, people["owner"], vid, "center_approve").status_code == 403
    assert review(client, people["center"], vid, "bureau_approve").status_code == 409


@pytest.mark.usefixtures("grid_factor")
def test_rejection_needs_reasons_and_ends_the_flow(client: TestClient, people: People) -> None:
    vid = submit(client, people["owner"])["id"]
    assert review(client, people["center"], vid, "center_reject", comment="").status_code == 409
    rejected = review(client, people["center"], vid, "center_reject", comment="公式缺少项目排放")
    assert rejected.status_code == 200
    body = rejected.json()
    assert body["status"] == "rejected" and body["rejection_reason"] == "公式缺少项目排放"
    assert review(client, people["bureau"], vid, "bureau_approve").status_code == 409


@pytest.mark.usefixtures("grid_factor")
def test_objection_blocks_registration_until_ruled(client: TestClient, people: People,
                                                   clock: FixedClock) -> None:
    vid = submit(client, people["owner"])["id"]
    objection = {"objector_name": "张三", "objector_contact": "zhang@example.org",
                 "text": "基准线因子应采用最新发布值。"}
    # Before the notice the public cannot even see the version.
    assert client.post(f"/methodology-versions/{vid}/objections", json=objection).status_code == 404
    walk_to_notice(client, people, vid)
    lodged = client.post(f"/methodology-versions/{vid}/objections", json=objection)
    assert lodged.status_code == 201
    assert "objector_contact" not in lodged.json()
    clock.advance(timedelta(days=8))
    assert client.post(f"/methodology-versions/{vid}/objections", json=objection).status_code == 409
    assert review(client, people["bureau"], vid, "register").status_code == 409
    listed = client.get("/objections?status=open", headers=people["bureau"]).json()
    assert listed["items"][0]["objector_contact"] == "zhang@example.org"
    ruling = client.post(f"/objections/{lodged.json()['id']}/ruling", headers=people["bureau"],
                         json={"uphold": False, "ruling": "因子已为最新发布值，异议不成立。"})
    assert ruling.status_code == 200 and ruling.json()["status"] == "dismissed"
    assert review(client, people["bureau"], vid, "register").status_code == 200


@pytest.mark.usefixtures("grid_factor")
def test_an_upheld_objection_rejects_the_version(client: TestClient, people: People) -> None:
    vid = submit(client, people["owner"])["id"]
    walk_to_notice(client, people, vid)
    lodged = client.post(f"/methodology-versions/{vid}/objections", json={
        "objector_name": "李四", "objector_contact": "13800000000", "text": "抄袭了他人方法学。"}).json()
    client.post(f"/objections/{lodged['id']}/ruling", headers=people["bureau"],
                json={"uphold": True, "ruling": "异议成立。"})
    version = client.get(f"/methodology-versions/{vid}", headers=people["owner"]).json()
    assert version["status"] == "rejected"


@pytest.mark.usefixtures("grid_factor")
def test_a_bad_formula_is_refused_with_its_field(client: TestClient, people: People) -> None:
    calc = definition()["calculation"]
    calc[0] = calc[0] | {"expression": "__import__('os').system('true')"}
    response = client.post("/methodologies", headers=people["owner"], json={
        "title_zh": "坏", "title_en": "Bad", "field": "other", "definition": definition(calculation=calc)})
    assert response.status_code == 409
    assert any(v["field"].startswith("calculation[0]") for v in response.json()["violations"])


@pytest.mark.usefixtures("grid_factor")
def test_an_unknown_parameter_is_refused(client: TestClient, people: People) -> None:
    response = client.post("/methodologies", headers=people["owner"], json={
        "title_zh": "坏", "title_en": "Bad", "field": "other",
        "definition": definition(parameters=["GRID_EF", "NOPE"])})
    assert response.status_code == 409
    assert "JX-11" in response.json()["rule_codes"]


@pytest.mark.usefixtures("grid_factor")
def test_calculation_uses_the_parameter_version_in_force(client: TestClient, people: People,
                                                         clock: FixedClock) -> None:
    vid = submit(client, people["owner"])["id"]
    # An Art. 11 update: a new value from 2024; calculations for 2023 keep the old one.
    update = client.post("/parameters/GRID_EF/versions", headers=people["bureau"], json={
        "value": "0.5366", "source": "MEE 2024 update (test fixture)", "effective_from": "2024-01-01"})
    assert update.status_code == 201 and update.json()["version"] == 2
    clock.advance(timedelta(days=8))
    client.post(f"/parameter-versions/{update.json()['id']}/publish", headers=people["bureau"])
    body = {"inputs": {"generation_mwh": "100"}, "on": "2023-06-01"}
    old = client.post(f"/methodology-versions/{vid}/calculate", headers=people["owner"], json=body).json()
    assert old["result"].startswith("57.03") and old["parameters"][0]["version"] == 1
    assert old["trace"][0]["substituted"].replace(" ", "") in {"100*0.5703"}
    new = client.post(f"/methodology-versions/{vid}/calculate", headers=people["owner"],
                      json=body | {"on": "2024-06-01"}).json()
    assert new["result"].startswith("53.66") and new["parameters"][0]["version"] == 2
    history = client.get("/parameters/GRID_EF").json()
    assert [v["value"] for v in history["versions"]] == ["0.5703", "0.5366"]


@pytest.mark.usefixtures("grid_factor")
def test_missing_input_names_its_field(client: TestClient, people: People) -> None:
    vid = submit(client, people["owner"])["id"]
    response = client.post(f"/methodology-versions/{vid}/calculate", headers=people["owner"],
                           json={"inputs": {}, "on": "2023-06-01"})
    assert response.status_code == 409
    assert any(v["field"] == "inputs.generation_mwh" for v in response.json()["violations"])
