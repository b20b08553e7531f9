"""Factor selection (Art. 11): region fallback, in force on the day (both ends), newest data year, the
conservative value, and a trace hash that a recomputation reproduces."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from rules.emission_factors import (
    Factor,
    Selection,
    check_factor,
    citation,
    select_factor,
    trace_hash,
    wider_regions,
)
from rules.violations import Violation


def factor(code: str = "ELEC", version: int = 1, *, region: str = "CN", year: int = 2022, value: str = "0.5",
           start: date = date(2024, 1, 1), end: date | None = None, activity: str = "electricity_grid") -> Factor:
    return Factor(code, version, activity, "kWh", region, year, Decimal(value), start, end, 1)


def chosen(result: Selection | Violation) -> Selection:
    assert isinstance(result, Selection), result
    return result


def test_a_county_falls_back_to_zhejiang_then_china_and_says_so() -> None:
    assert wider_regions("330402") == ("330402", "CN-ZJ", "CN")
    assert wider_regions("CN-ZJ") == ("CN-ZJ", "CN")
    assert wider_regions("CN") == ("CN",)
    only_china = chosen(select_factor([factor()], "electricity_grid", "330402", date(2025, 5, 1)))
    assert only_china.fell_back and only_china.trace()["region"] == "CN"
    zhejiang = factor("ELEC-ZJ", region="CN-ZJ", value="0.4")
    here = chosen(select_factor([factor(), zhejiang], "electricity_grid", "330402", date(2025, 5, 1)))
    assert here.factor is zhejiang and here.fell_back  # the narrower region wins even with a lower value
    county = factor("ELEC-NH", region="330402", value="0.3")
    exact = chosen(select_factor([factor(), zhejiang, county], "electricity_grid", "330402", date(2025, 5, 1)))
    assert exact.factor is county and not exact.fell_back


def test_in_force_on_both_boundary_days_and_never_a_day_early() -> None:
    f = factor(start=date(2025, 3, 1), end=date(2025, 12, 31))
    assert isinstance(select_factor([f], "electricity_grid", "CN", date(2025, 2, 28)), Violation)
    assert chosen(select_factor([f], "electricity_grid", "CN", date(2025, 3, 1))).factor is f
    assert chosen(select_factor([f], "electricity_grid", "CN", date(2025, 12, 31))).factor is f
    missing = select_factor([f], "electricity_grid", "CN", date(2026, 1, 1))
    assert isinstance(missing, Violation) and missing.code == "JX-11"


def test_a_factor_in_force_only_after_the_event_is_not_picked() -> None:
    old = factor("ELEC", 1, year=2021, value="0.58", start=date(2023, 1, 1))
    newer = factor("ELEC", 2, year=2022, value="0.57", start=date(2025, 6, 2))
    assert chosen(select_factor([old, newer], "electricity_grid", "CN", date(2025, 6, 1))).factor is old
    assert chosen(select_factor([old, newer], "electricity_grid", "CN", date(2025, 6, 2))).factor is newer


def test_newest_data_year_then_the_higher_value_for_an_emission() -> None:
    y21 = factor("A", year=2021, value="0.9")
    y22_low = factor("B", year=2022, value="0.5")
    y22_high = factor("C", year=2022, value="0.6")
    pick = chosen(select_factor([y21, y22_low, y22_high], "electricity_grid", "CN", date(2025, 1, 1)))
    assert pick.factor is y22_high  # 2021's 0.9 is older data; of 2022's two, the higher
    reduction = chosen(select_factor([y21, y22_low, y22_high], "electricity_grid", "CN", date(2025, 1, 1),
                                     use="reduction"))
    assert reduction.factor is y22_low


def test_the_trace_hash_is_stable_and_changes_with_any_value() -> None:
    line = {"factor": "ELEC@1", "value_kg": "0.5", "emissions_g": 10}
    assert trace_hash([line]) == trace_hash([dict(reversed(list(line.items())))])
    assert trace_hash([line]) != trace_hash([{**line, "value_kg": "0.50001"}])


def test_factor_input_checks() -> None:
    assert check_factor(Decimal("0.5"), "AR5", date(2024, 1, 1), None, 2022, Decimal("5")) == []
    codes = {v.field for v in check_factor(Decimal("-1"), "AR3", date(2024, 1, 1), date(2023, 1, 1), 2025,
                                           Decimal("101"))}
    assert codes == {"value_kg", "gwp_basis", "effective_to", "data_year", "uncertainty_pct"}


@pytest.mark.parametrize("demo", [True, False])
def test_a_citation_names_publisher_dataset_document_and_version(demo: bool) -> None:
    text = citation(code="ELEC", version=2, release_number=3, publisher="MEE", dataset="Grid factors",
                    document_number="No. 1", link=None, data_year=2022, demo=demo)
    assert "ELEC@2" in text and "No. 1" in text and "release 3" in text
    assert text.startswith("[DEMO") is demo
