"""Projects through HTTP: drafts, the Art. 12–13 eligibility rules with every violation listed, uniqueness
across projects and other mechanisms, visibility of drafts and personal data."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from registry.context import Registry
from registry.demo import load_demo
from tests.support import bearer, make_user


@pytest.fixture
def demo(registry: Registry) -> None:
    load_demo(registry)


@pytest.fixture
def pv_version(client: TestClient, demo: None) -> int:
    items = client.get("/methodologies?field=renewable_energy").json()["items"]
    return int(items[0]["id"])


@pytest.fixture
def owner(client: TestClient, registry: Registry, demo: None) -> dict[str, str]:
    return bearer(client, make_user(registry, "mill", ["owner"], credit_code="91330483MA0000009K"))


def project(version_id: int, **overrides: Any) -> dict[str, Any]:
    base = {
        "methodology_version_id": version_id, "title": "桐乡厂房光伏", "county_code": "330483",
        "industry_code": "1713", "owner_kind": "small", "crediting_start": "2023-01-01",
        "crediting_end": "2030-12-31", "legal_reduction_obligation": False,
        "asset_identifiers": ["METER-330483-0001"],
    }
    return base | overrides


def draft(client: TestClient, headers: dict[str, str], body: dict[str, Any]) -> int:
    response = client.post("/projects", headers=headers, json=body)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "draft"
    return int(response.json()["id"])


def test_an_eligible_project_registers(client: TestClient, owner: dict[str, str], pv_version: int) -> None:
    pid = draft(client, owner, project(pv_version))
    assert client.get(f"/projects/{pid}/eligibility", headers=owner).json() == {"eligible": True,
                                                                               "violations": []}
    registered = client.post(f"/projects/{pid}/submit", headers=owner)
    assert registered.status_code == 200, registered.text
    body = registered.json()
    assert body["status"] == "registered" and body["code"].startswith("JXP-330483-")
    assert body["rule_set_code"] == "JX-DEMO-CONTINUATION"
    assert client.get(f"/projects/{pid}").status_code == 200
    assert client.post(f"/projects/{pid}/submit", headers=owner).status_code == 409


def test_every_violation_is_listed_with_its_article(client: TestClient, owner: dict[str, str],
                                                    pv_version: int) -> None:
    pid = draft(client, owner, project(
        pv_version, county_code="330100", industry_code="4411", owner_kind="large",
        crediting_start="2020-09-21", legal_reduction_obligation=True, declared_other_mechanisms=["CCER"]))
    response = client.post(f"/projects/{pid}/submit", headers=owner)
    assert response.status_code == 409
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert problem["code"] == "rule_violation"
    assert {"JX-12", "JX-13-1", "JX-13-2", "JX-13-3", "JX-13-4"} <= set(problem["rule_codes"])
    fields = {v["field"] for v in problem["violations"]}
    assert {"county_code", "industry_code"} <= fields
    assert all(v["message_zh"] and v["message_en"] for v in problem["violations"])
    assert client.get(f"/projects/{pid}", headers=owner).json()["status"] == "draft"


@pytest.mark.parametrize("start,ok", [("2020-09-23", True), ("2020-09-22", False)])
def test_the_earliest_reduction_date_boundary(client: TestClient, owner: dict[str, str], pv_version: int,
                                              start: str, ok: bool) -> None:
    pid = draft(client, owner, project(pv_version, crediting_start=start))
    result = client.get(f"/projects/{pid}/eligibility", headers=owner).json()
    assert result["eligible"] is ok
    if not ok:
        assert [v["code"] for v in result["violations"]] == ["JX-12"]


@pytest.mark.parametrize("county,ok", [("330483", True), ("330402", True), ("330401", False),
                                       ("330484", False), ("310101", False)])
def test_county_must_be_in_jiaxing(client: TestClient, owner: dict[str, str], pv_version: int, county: str,
                                   ok: bool) -> None:
    pid = draft(client, owner, project(pv_version, county_code=county))
    assert client.get(f"/projects/{pid}/eligibility", headers=owner).json()["eligible"] is ok


def test_the_same_asset_in_two_live_projects_is_refused(client: TestClient, owner: dict[str, str],
                                                        registry: Registry, pv_version: int) -> None:
    first = draft(client, owner, project(pv_version, crediting_end="2025-12-31"))
    assert client.post(f"/projects/{first}/submit", headers=owner).status_code == 200
    other = bearer(client, make_user(registry, "neighbour", ["owner"]))
    # Overlapping by one day: refused, naming the other project.
    clash = draft(client, other, project(pv_version, crediting_start="2025-12-31",
                                         asset_identifiers=[" meter-330483-0001 "]))
    refused = client.post(f"/projects/{clash}/submit", headers=other)
    assert refused.status_code == 409 and refused.json()["rule_codes"] == ["JX-13-3"]
    # Starting the next day: no overlap, allowed.
    later = draft(client, other, project(pv_version, crediting_start="2026-01-01",
                                         asset_identifiers=["METER-330483-0001"]))
    assert client.post(f"/projects/{later}/submit", headers=other).status_code == 200


def test_other_mechanism_registrations_are_matched(client: TestClient, owner: dict[str, str],
                                                   registry: Registry, pv_version: int) -> None:
    bureau = bearer(client, make_user(registry, "bureau2", ["bureau"]))
    csv_text = ("mechanism,external_id,asset_identifier,credit_code,project_name\n"
                "VCS,VCS-1234,METER-330483-0009,,某光伏\n"
                "CCER,CCER-77,,91330483MA0000009K,企业整体登记\n")
    imported = client.post("/external-registrations/import", headers=bureau | {"content-type": "text/csv"},
                           content=csv_text.encode())
    assert imported.status_code == 200, imported.text
    assert imported.json() == {"inserted": 2, "updated": 0}
    pid = draft(client, owner, project(pv_version, asset_identifiers=["meter-330483-0009"]))
    result = client.get(f"/projects/{pid}/eligibility", headers=owner).json()
    codes = [v["code"] for v in result["violations"]]
    assert codes.count("JX-13-3") == 2  # the asset's VCS registration and the owner's CCER one


def test_a_bad_import_changes_nothing(client: TestClient, registry: Registry, demo: None) -> None:
    bureau = bearer(client, make_user(registry, "bureau3", ["bureau"]))
    bad = ("mechanism,external_id,asset_identifier,credit_code,project_name\n"
           "VCS,V-1,M-1,,ok\nNOPE,V-2,M-2,,bad\n")
    response = client.post("/external-registrations/import", headers=bureau | {"content-type": "text/csv"},
                           content=bad.encode())
    assert response.status_code == 409
    assert client.get("/external-registrations", headers=bureau).json()["total"] == 0


def test_drafts_are_private_and_individuals_are_masked(client: TestClient, owner: dict[str, str],
                                                       registry: Registry, pv_version: int) -> None:
    pid = draft(client, owner, project(pv_version))
    assert client.get(f"/projects/{pid}").status_code == 404
    stranger = bearer(client, make_user(registry, "stranger", ["owner"]))
    assert client.get(f"/projects/{pid}", headers=stranger).status_code == 404
    assert client.post(f"/projects/{pid}/submit", headers=stranger).status_code == 404
    public = client.get("/projects").json()["items"]
    household = [p for p in public if p["owner_kind"] == "household"]
    assert household and all(p["owner_name"] == "王**" and p["asset_identifiers"] == [] for p in household)


def test_an_unregistered_methodology_version_is_refused(client: TestClient, owner: dict[str, str],
                                                        pv_version: int) -> None:
    response = client.post("/projects", headers=owner, json=project(999_999))
    assert response.status_code == 409 and response.json()["rule_codes"] == ["JX-10"]


def test_a_disqualified_owner_cannot_file(client: TestClient, registry: Registry, pv_version: int) -> None:
    bureau = bearer(client, make_user(registry, "bureau4", ["bureau"]))
    uid = make_user(registry, "cheat", ["owner"])
    me = client.get("/auth/me", headers=bearer(client, uid)).json()
    client.post(f"/admin/participants/{me['participant_id']}/status", headers=bureau,
                json={"status": "disqualified", "reason": "虚假材料 (Art. 26)"})
    response = client.post("/projects", headers=bearer(client, uid), json=project(pv_version))
    assert response.status_code == 409 and response.json()["rule_codes"] == ["JX-26"]
