"""The event inventory (Art. 21, 28): the done-when fixture to the gram, completeness, rounding up, offsets
that count, the assessor's independence, and the calendar's boundaries."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from rules import event_inventory as inv
from rules.emission_factors import Factor

DAY = date(2026, 6, 1)


def f(code: str, activity: str, unit: str, value: str, region: str = "CN", start: date = date(2025, 1, 1)) -> Factor:
    return Factor(code, 1, activity, unit, region, 2023, Decimal(value), start, None, 1)


FACTORS = [
    f("RAIL-HSR", "rail_high_speed", "passenger-km", "0.04137"),
    f("HOTEL", "accommodation_room_night", "room-night", "14.7325"),
    f("MEAL", "catering_meal", "meal", "2.3417"),
    f("ELEC-CN", "electricity_grid", "kWh", "0.5703"),
    f("ELEC-ZJ", "electricity_grid", "kWh", "0.55213", region="CN-ZJ"),
    # In force only from the day after the event starts: never picked for it.
    f("ELEC-ZJ-NEW", "electricity_grid", "kWh", "0.9", region="CN-ZJ", start=date(2026, 6, 2)),
]
EXCLUDED = {"venue_fuel": "场馆全部用电，无燃料", "purchased_heat": "夏季无供热", "service_vehicles": "无保障车辆",
            "materials": "复用往届物料", "waste": "场馆统一处理并计入其自身清单"}


def fixture_activities() -> list[inv.Activity]:
    return [
        inv.travel("attendee_travel", "rail_high_speed", Decimal(300), 500, round_trip=True),
        inv.Activity("accommodation", "accommodation_room_night", Decimal(400)),
        inv.Activity("catering", "catering_meal", Decimal(1500)),
        inv.Activity("purchased_electricity", "electricity_grid", Decimal(20_000)),  # 20 MWh
    ]


def test_the_fixture_event_matches_the_hand_computed_total_to_the_gram() -> None:
    result = inv.compute(fixture_activities(), EXCLUDED, FACTORS, "330402", DAY)
    assert isinstance(result, inv.Inventory), result
    # By hand: 500 × 300 km × 2 = 300,000 pkm × 0.04137 = 12,411 kg; 400 × 14.7325 = 5,893 kg;
    # 1,500 × 2.3417 = 3,512.55 kg; 20,000 kWh × 0.55213 (Zhejiang, the county falls back) = 11,042.6 kg.
    assert [line.emissions_g for line in result.lines] == [12_411_000, 5_893_000, 3_512_550, 11_042_600]
    assert result.total_g == 32_859_150 and result.total_t == 33
    assert [line.factor for line in result.lines] == ["RAIL-HSR@1", "HOTEL@1", "MEAL@1", "ELEC-ZJ@1"]
    electricity = result.lines[3].selection
    assert electricity["fell_back"] is True and electricity["region"] == "CN-ZJ"
    again = inv.compute(fixture_activities(), EXCLUDED, FACTORS, "330402", DAY)
    assert isinstance(again, inv.Inventory) and again.trace_hash == result.trace_hash
    later = inv.compute(fixture_activities(), EXCLUDED, FACTORS, "330402", date(2026, 6, 2))
    assert isinstance(later, inv.Inventory) and later.lines[3].factor == "ELEC-ZJ-NEW@1"
    assert later.trace_hash != result.trace_hash


def test_lines_round_up_to_the_gram_and_totals_up_to_the_tonne() -> None:
    assert inv.line_grams(Decimal("1"), Decimal("0.0000001")) == 1
    assert inv.line_grams(Decimal("3"), Decimal("0.001")) == 3
    assert inv.line_grams(Decimal("0"), Decimal("5")) == 0
    assert inv.tonnes_to_offset(12_300_000) == 13
    assert inv.tonnes_to_offset(12_000_000) == 12
    assert inv.tonnes_to_offset(12_000_001) == 13
    assert inv.tonnes_to_offset(0) == 0


def test_an_uncounted_source_needs_a_reason_and_a_counted_one_cannot_be_excluded() -> None:
    missing = dict(EXCLUDED)
    del missing["waste"]
    missing["catering"] = "自带"
    problems = inv.compute(fixture_activities(), missing, FACTORS, "330402", DAY)
    assert isinstance(problems, list)
    assert {(p.code, p.field) for p in problems} == {("JX-28", "exclusions.waste"),
                                                     ("JX-28", "exclusions.catering")}
    short = inv.compute(fixture_activities(), {**EXCLUDED, "waste": "x"}, FACTORS, "330402", DAY)
    assert isinstance(short, list) and short[0].field == "exclusions.waste"


def test_an_activity_without_a_factor_in_force_is_refused_with_its_path() -> None:
    items = [*fixture_activities(), inv.Activity("waste", "waste_landfill", Decimal(10))]
    problems = inv.compute(items, {k: v for k, v in EXCLUDED.items() if k != "waste"}, FACTORS, "330402", DAY)
    assert isinstance(problems, list) and [(p.code, p.field) for p in problems] == [("JX-11",
                                                                                     "activities[4].activity")]


def offset(code: str, t: int, *, purpose: str = "event_neutrality", status: str = "executed",
           backs: int | None = None, revoked: tuple[str, ...] = ()) -> inv.Offset:
    return inv.Offset(code, purpose, status, t, backs, revoked)


def test_twelve_point_three_tonnes_needs_thirteen() -> None:
    total_t = inv.tonnes_to_offset(12_300_000)
    short = inv.check_neutrality(total_t, inv.counted_t([offset("R1", 12)]))
    assert [v.code for v in short] == ["JX-21"] and "1 t missing" in short[0].message_en
    assert inv.check_neutrality(total_t, inv.counted_t([offset("R1", 12), offset("R2", 1)])) == []


def test_only_executed_event_retirements_backing_no_other_event_count() -> None:
    assert inv.check_offset(offset("R", 5, backs=1), 1) == []
    assert inv.check_offset(offset("R", 5), 1) == []
    assert [v.code for v in inv.check_offset(offset("R", 5, backs=2), 1)] == ["JX-21"]
    assert len(inv.check_offset(offset("R", 5, purpose="voluntary", status="requested"), 1)) == 2
    assert inv.counted_t([offset("V", 5, purpose="voluntary"), offset("Q", 5, status="requested"),
                          offset("X", 5, revoked=("B-1",)), offset("OK", 3)]) == 3


def test_an_assessor_who_prepared_the_inventory_is_refused() -> None:
    assert inv.check_assessor("declaration", None, 1, 1, False) == []
    assert inv.check_assessor("third_party", 9, 1, 1, True) == []
    refused = inv.check_assessor("third_party", 9, 1, 9, True)
    assert [v.code for v in refused] == ["JX-15"]
    assert [v.code for v in inv.check_assessor("third_party", 1, 1, 2, True)] == ["JX-15"]
    assert [v.code for v in inv.check_assessor("third_party", 9, 1, 2, False)] == ["JX-15"]


def test_status_on_each_side_of_the_end_and_the_deadline() -> None:
    end = date(2026, 6, 3)
    deadline = inv.deadline_of(end)
    assert deadline == date(2027, 6, 3)
    assert inv.status("planned", end, deadline, end) == "planned"
    assert inv.status("planned", end, deadline, date(2026, 6, 4)) == "held"
    assert inv.status("inventoried", end, deadline, deadline) == "inventoried"
    assert inv.status("inventoried", end, deadline, date(2027, 6, 4)) == "overdue"
    assert inv.status("neutral", end, deadline, date(2030, 1, 1)) == "neutral"
    assert inv.check_statement_day(end, end)[0].code == "JX-24"
    assert inv.check_statement_day(date(2026, 6, 4), end) == []


@pytest.mark.parametrize(("a", "b", "low", "high"), [("jiaxing", "shanghai", 80, 90),
                                                    ("jiaxing", "beijing", 1050, 1100)])
def test_the_city_distance_helper(a: str, b: str, low: int, high: int) -> None:
    km = inv.city_distance_km(a, b)
    assert km is not None and low <= km <= high and km == inv.city_distance_km(b, a)
    assert inv.city_distance_km("jiaxing", "atlantis") is None


def test_a_pending_request_may_be_named_but_a_withdrawn_one_never() -> None:
    assert inv.check_offset(offset("R", 5, status="requested"), 1, pending_ok=True) == []
    assert len(inv.check_offset(offset("R", 5, status="cancelled"), 1, pending_ok=True)) == 1
