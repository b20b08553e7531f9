"""The emission-factor catalogue through HTTP (Art. 11): a release in public notice, objections, publication,
immutable versions, browse / JSON / CSV with citations, and the selection the calculations use."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from registry.clock import FixedClock
from registry.context import Registry
from tests.support import People, make_user


def factor(**overrides: Any) -> dict[str, Any]:
    base = {"code": "ELEC-GRID-ZJ", "activity": "electricity_grid", "sector": "energy", "unit": "kWh",
            "name_zh": "电网电力", "name_en": "Grid electricity", "region": "CN-ZJ", "data_year": 2022,
            "value_kg": "0.55213", "gases": {"CO2": "0.55"}, "gwp_basis": "AR5", "effective_from": "2024-01-01",
            "publisher": "Test bureau", "dataset": "Test factors", "demo": True, "quality_flags": ["demo"]}
    return base | overrides


@pytest.fixture
def people(client: TestClient, registry: Registry) -> People:
    return People(client, {"bureau": make_user(registry, "bureau", ["bureau"]),
                           "owner": make_user(registry, "owner", ["owner"])})


def propose(client: TestClient, people: People, *factors: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/factor-releases", headers=people["bureau"],
                           json={"title": "Release", "factors": list(factors) or [factor()]})
    assert response.status_code == 201, response.text
    return response.json()


def test_a_release_goes_through_notice_then_is_published_and_cited(client: TestClient, people: People,
                                                                   clock: FixedClock) -> None:
    release = propose(client, people, factor(), factor(code="ELEC-GRID-CN", region="CN", value_kg="0.5703"))
    assert release["status"] == "public_notice" and release["number"] == 1 and release["demo"]
    assert client.get("/emission-factors").json() == []  # nothing published yet
    early = client.post("/factor-releases/1/publish", headers=people["bureau"])
    assert early.status_code == 409 and early.json()["rule_codes"] == ["JX-11"]
    notice_end = release["notice_end"]
    clock.advance(timedelta(days=8))
    assert client.post("/factor-releases/1/publish", headers=people["bureau"]).json()["status"] == "published"
    listed = client.get("/emission-factors", params={"activity": "electricity_grid"}).json()
    assert {f["label"] for f in listed} == {"ELEC-GRID-ZJ@1", "ELEC-GRID-CN@1"}
    assert all(f["citation"].startswith("[DEMO") and "release 1" in f["citation"] for f in listed)
    chosen = client.get("/emission-factors/selection",
                        params={"activity": "electricity_grid", "region": "330402", "on": "2025-06-01"}).json()
    assert chosen["factor"]["label"] == "ELEC-GRID-ZJ@1" and chosen["fell_back"] is True
    assert notice_end is not None
    csv = client.get("/factor-releases/1/factors.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("code,version,release") and len(lines) == 3
    assert client.get("/factor-releases/1").json()["factors"][0]["code"] == "ELEC-GRID-CN"


def test_a_new_version_supersedes_and_the_old_one_never_changes(client: TestClient, people: People,
                                                                clock: FixedClock) -> None:
    propose(client, people)
    clock.advance(timedelta(days=8))
    client.post("/factor-releases/1/publish", headers=people["bureau"])
    second = propose(client, people, factor(value_kg="0.6", data_year=2023, effective_from="2025-01-01"))
    assert second["factors"][0]["label"] == "ELEC-GRID-ZJ@2"
    assert second["factors"][0]["supersedes_id"] is not None
    assert client.get("/factor-releases/1").json()["factors"][0]["value_kg"] == "0.55213"


def test_an_upheld_objection_rejects_the_release(client: TestClient, people: People, registry: Registry) -> None:
    propose(client, people)
    lodged = client.post("/factor-releases/1/objections", json={
        "objector_name": "公众", "objector_contact": "a@example.org", "text": "数值没有出处，请核实。"})
    assert lodged.status_code == 201, lodged.text
    ruled = client.post(f"/objections/{lodged.json()['id']}/ruling", headers=people["bureau"],
                        json={"uphold": True, "ruling": "采纳，撤回该版本"})
    assert ruled.status_code == 200, ruled.text
    assert client.get("/factor-releases/1").status_code == 404
    assert client.get("/factor-releases").json() == []


def test_an_official_value_must_name_its_document_and_bad_factors_are_refused(client: TestClient,
                                                                              people: People) -> None:
    no_document = client.post("/factor-releases", headers=people["bureau"],
                              json={"title": "R", "factors": [factor(demo=False)]})
    assert no_document.status_code == 422
    bad = client.post("/factor-releases", headers=people["bureau"], json={"title": "R", "factors": [
        factor(effective_to="2023-01-01"), factor(code="X-1", data_year=2030, effective_from="2024-01-01")]})
    assert bad.status_code == 409, bad.text
    assert {p["field"] for p in bad.json()["violations"]} == {"factors[0].effective_to", "factors[1].data_year"}
    unknown_region = client.get("/emission-factors/selection",
                                params={"activity": "electricity_grid", "region": "330402", "on": "2025-06-01"})
    assert unknown_region.status_code == 409 and unknown_region.json()["rule_codes"] == ["JX-11"]
    assert client.post("/factor-releases", headers=people["owner"], json={"title": "R", "factors": [factor()]}
                       ).status_code == 403
