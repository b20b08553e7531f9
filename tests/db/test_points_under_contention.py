"""What holds when callers race (PostgreSQL): two batches for one resident at once never pass the daily cap;
100 redemptions at once of an offer with stock 10 give exactly 10; the points tables refuse UPDATE and DELETE
to the service, and a month of records detaches as one partition."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from registry.clock import FixedClock
from registry.context import Registry
from registry.errors import DomainError
from registry.points_partitions import ensure_month_partitions, partitions
from registry.services import participants, points, rewards
from tests.api.test_points import JIAXING, consent, post, record, registered_project, scenario
from tests.conftest import Backend
from tests.support import People, make_user, participant_id

pytestmark = pytest.mark.postgres


def _postgres_only(backend: Backend) -> None:
    if backend.name != "postgres":
        pytest.skip("concurrency is PostgreSQL's (SQLite has one writer)")


def race(workers: int, work: Callable[[int], Any]) -> list[str]:
    start = threading.Barrier(workers)
    outcomes: list[str] = []

    def run(index: int) -> None:
        start.wait()
        try:
            work(index)
            outcomes.append("ok")
        except DomainError as refusal:
            outcomes.append(type(refusal).__name__)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(outcomes) == workers
    return outcomes


def world(client: TestClient, registry: Registry, residents: int) -> dict[str, Any]:
    names = [f"r{i}" for i in range(residents)]
    ids = {"op": make_user(registry, "op", ["owner"])} | {n: make_user(registry, n, ["resident"]) for n in names}
    people = People(client, ids)
    sid = scenario(client, people["op"], registered_project(registry, participant_id(registry, "op"), "metro"),
                   "JX-METRO", "metro", points_per_kg=1000)
    refs = {}
    for name in names:
        refs[name] = client.post("/residents/me", headers=people[name], json={"display_name": name}).json()["reference"]
        consent(client, people[name], sid)
    return {"people": people, "scenario": sid, "refs": refs, "ids": ids}


def test_two_batches_for_one_resident_at_once_never_pass_the_daily_cap(backend: Backend, client: TestClient,
                                                                       registry: Registry,
                                                                       clock: FixedClock) -> None:
    _postgres_only(backend)
    w = world(client, registry, 1)
    clock.advance(timedelta(hours=6))
    with registry.uow() as uow:
        operator = participants.load_principal(uow, w["ids"]["op"])
    assert operator is not None
    base = datetime(2026, 11, 23, 10, 30, tzinfo=JIAXING)

    def batch(index: int) -> None:
        incoming = [points.IncomingRecord(f"c-{index}-{k}", w["refs"]["r0"], base + timedelta(minutes=10 * k + index),
                                          base + timedelta(minutes=10 * k + index + 5), {"distance_m": 2000}, None)
                    for k in range(2)]
        with registry.uow(operator) as uow:
            points.ingest(uow, operator, w["scenario"], incoming)

    assert race(2, batch) == ["ok", "ok"]
    mine = client.get("/residents/me/records", headers=w["people"]["r0"]).json()
    assert len(mine) == 4 and sum(r["grams"] for r in mine) == 300  # 4 × 150 g offered, 300 g a day counted
    assert sorted(r["outcome"] for r in mine) == ["accepted", "accepted", "capped", "capped"]


def test_a_hundred_redemptions_at_once_of_a_stock_of_ten_give_exactly_ten(backend: Backend, client: TestClient,
                                                                          registry: Registry,
                                                                          clock: FixedClock) -> None:
    _postgres_only(backend)
    w = world(client, registry, 10)
    clock.advance(timedelta(hours=6))
    base = datetime(2026, 11, 23, 10, 30, tzinfo=JIAXING)
    post(client, w["people"]["op"], w["scenario"],
         [record(f"e-{n}", ref, base, 3000) for n, ref in w["refs"].items()])  # 225 points each
    offer = client.post("/rewards", headers=w["people"]["op"], json={
        "title_zh": "单车月卡", "title_en": "A month of bikes", "points_cost": 10, "stock": 10}).json()
    with registry.uow() as uow:
        residents = [participants.load_principal(uow, w["ids"][f"r{i}"]) for i in range(10)]

    def redeem(index: int) -> None:
        resident = residents[index % 10]
        assert resident is not None
        with registry.uow(resident) as uow:
            rewards.redeem(uow, resident, offer["id"])

    outcomes = race(100, redeem)
    assert outcomes.count("ok") == 10, outcomes
    assert set(outcomes) == {"ok", "RuleViolation"}
    assert client.get("/rewards").json()[0]["stock"] == 0
    check = client.get("/points/check", headers=w["people"]["op"])  # not the bureau's: refused
    assert check.status_code == 403
    with registry.uow() as uow:
        ledger = points.check_ledger(uow)
    assert ledger.ok and ledger.buckets["redeemed"] == 100 and ledger.credited == 2250


@pytest.mark.parametrize("statement", [
    "UPDATE behaviour_records SET grams = grams",
    "DELETE FROM behaviour_records",
    "UPDATE points_postings SET amount = amount",
    "DELETE FROM points_entries",
    "DELETE FROM behaviour_record_refs",
    "DELETE FROM redemptions",
])
def test_the_service_cannot_rewrite_points_history(backend: Backend, statement: str) -> None:
    _postgres_only(backend)
    with pytest.raises(DBAPIError) as refused, backend.engine.begin() as conn:
        conn.execute(text(statement))
    assert isinstance(refused.value.orig, psycopg.errors.InsufficientPrivilege), refused.value.orig


def test_a_month_of_records_detaches_as_one_partition(backend: Backend, client: TestClient, registry: Registry,
                                                      clock: FixedClock) -> None:
    _postgres_only(backend)
    w = world(client, registry, 1)
    clock.advance(timedelta(hours=6))
    post(client, w["people"]["op"], w["scenario"],
         [record("d-1", w["refs"]["r0"], datetime(2026, 11, 23, 10, 30, tzinfo=JIAXING))])
    with backend.privileged_engine.begin() as conn:
        where = conn.execute(text("SELECT tableoid::regclass::text FROM behaviour_records")).scalar_one()
        assert where == "points_partitions.behaviour_records_2026_11"
        conn.execute(text("ALTER TABLE behaviour_records DETACH PARTITION points_partitions.behaviour_records_2026_11"))
        assert conn.execute(text("SELECT count(*) FROM behaviour_records")).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM points_partitions.behaviour_records_2026_11")).scalar_one() == 1
        conn.rollback()


def test_months_ahead_get_their_partitions(backend: Backend) -> None:
    _postgres_only(backend)
    with backend.privileged_engine.begin() as conn:
        made = ensure_month_partitions(conn, date(2027, 11, 15), 4)
        assert made == ["behaviour_records_2028_01", "behaviour_records_2028_02"]  # 2027-11 and -12 exist
        assert {"behaviour_records_2028_02", "behaviour_records_default"} <= set(partitions(conn))
        conn.rollback()


def test_one_trip_posted_by_two_operators_at_once_counts_once(backend: Backend, client: TestClient,
                                                              registry: Registry, clock: FixedClock) -> None:
    _postgres_only(backend)
    w = world(client, registry, 1)
    bike_op = make_user(registry, "bike_op", ["owner"])
    people = People(client, {"bike_op": bike_op, "r0": w["ids"]["r0"]})
    bike = scenario(client, people["bike_op"], registered_project(registry, participant_id(registry, "bike_op"),
                                                                 "bike"), "JX-BIKE", "shared_bike")
    consent(client, people["r0"], bike)
    clock.advance(timedelta(hours=6))
    with registry.uow() as uow:
        operators = [participants.load_principal(uow, w["ids"]["op"]), participants.load_principal(uow, bike_op)]
    leg = datetime(2026, 11, 23, 11, 0, tzinfo=JIAXING)
    answers: dict[int, str] = {}

    def post_leg(index: int) -> None:
        operator = operators[index]
        assert operator is not None
        with registry.uow(operator) as uow:
            answer = points.ingest(uow, operator, [w["scenario"], bike][index], [points.IncomingRecord(
                f"leg-{index}", w["refs"]["r0"], leg, leg + timedelta(minutes=20), {"distance_m": 2000}, None)])
        answers[index] = answer[0].code or answer[0].outcome

    assert race(2, post_leg) == ["ok", "ok"]
    assert sorted(answers.values()) == ["JX-13-3", "accepted"]
