"""The demo has a metro and a shared-bike scenario with residents and a month of their trips (issue 18)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from registry.context import Registry
from registry.demo import load_demo
from registry.demo_points import load_points_demo
from tests.support import login


def test_the_demo_has_two_scenarios_residents_and_a_month_of_trips(client: TestClient, registry: Registry) -> None:
    load_demo(registry)
    assert "2 scenarios, 3 residents" in load_points_demo(registry)
    assert load_points_demo(registry) == "points demo already loaded"
    listed = {s["code"]: s for s in client.get("/scenarios").json()}
    assert set(listed) == {"JX-METRO-DEMO", "JX-BIKE-DEMO"}
    assert all(s["residents"] == 3 and s["points_issued"] > 0 for s in listed.values())
    resident = login(client, "resident1", "resident1-demo-pass")
    mine = client.get("/residents/me/records", headers=resident, params={"limit": 500}).json()
    assert len(mine) == 60 and {r["outcome"] for r in mine} <= {"accepted", "capped"}
    assert client.get("/residents/me", headers=resident).json()["balances"]["available"] > 0
    assert len(client.get("/rewards").json()) == 2
