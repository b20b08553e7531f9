"""The two demo methodologies are valid calculation tables with sourced parameters and plausible results."""

from __future__ import annotations

import itertools
import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from registry.demo_methodologies import METHODOLOGIES, NEW_ENERGY_VEHICLE, PARAMETERS, ROOFTOP_PV
from rules.formula import CalculationStep, check_calculation, evaluate, is_valid_name
from rules.rule_sets import JIAXING_TRIAL_2023

FIELDS = {
    "renewable_energy", "energy_efficiency", "transport", "buildings", "forestry_agriculture_sinks",
    "low_carbon_products", "waste", "pollution_carbon_co_reduction", "other",
}
LOWER_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]{0,39}")
PARAMETERS_BY_CODE = {p["code"]: p for p in PARAMETERS}


def steps_of(spec: dict[str, Any]) -> list[CalculationStep]:
    return [CalculationStep(s["name"], s["expression"], s["label_zh"], s["label_en"], s["unit"])
            for s in spec["calculation"]]


def value_on(code: str, on: date) -> Decimal:
    for version in PARAMETERS_BY_CODE[code]["versions"]:
        start = date.fromisoformat(version["effective_from"])
        end = date.fromisoformat(version["effective_to"]) if version["effective_to"] else None
        if start <= on and (end is None or on <= end):
            return Decimal(version["value"])
    raise LookupError(code)


def calculate(spec: dict[str, Any], inputs: dict[str, Decimal], on: date) -> Any:
    params = {code: value_on(code, on) for code in spec["parameters"]}
    return evaluate(steps_of(spec), inputs, params, input_names={i["name"] for i in spec["inputs"]})


@pytest.mark.parametrize("spec", METHODOLOGIES, ids=lambda s: s["code"])
def test_demo_methodology_shape(spec: dict[str, Any]) -> None:
    assert spec["field"] in FIELDS
    assert spec["title_zh"] and spec["title_en"]
    assert set(spec["inclusive_owner_kinds"]) <= JIAXING_TRIAL_2023.owner_kinds
    assert "large" not in spec["inclusive_owner_kinds"]  # Art. 13(4): small owners and the public
    assert LOWER_IDENTIFIER.fullmatch(spec["asset_identifier_kind"])
    for item in spec["inputs"]:
        assert LOWER_IDENTIFIER.fullmatch(item["name"])
        assert item["unit"] and item["label_zh"] and item["label_en"]
    for step in spec["calculation"]:
        assert LOWER_IDENTIFIER.fullmatch(step["name"])
        assert len(step["expression"]) <= 500
    for code in spec["parameters"]:
        assert code in PARAMETERS_BY_CODE and is_valid_name(code)
    last = spec["calculation"][-1]
    assert last["unit"] == "tCO2e"
    assert last["expression"].startswith("max(") and last["expression"].endswith(", 0)")


@pytest.mark.parametrize("spec", METHODOLOGIES, ids=lambda s: s["code"])
def test_demo_methodology_passes_check_calculation(spec: dict[str, Any]) -> None:
    inputs = {i["name"] for i in spec["inputs"]}
    assert check_calculation(steps_of(spec), inputs, set(spec["parameters"])) == []


@pytest.mark.parametrize("parameter", PARAMETERS, ids=lambda p: p["code"])
def test_parameters_are_sourced_and_cover_every_day_from_2020_09_22(parameter: dict[str, Any]) -> None:
    assert parameter["name_zh"] and parameter["name_en"] and parameter["unit"]
    versions = parameter["versions"]
    assert date.fromisoformat(versions[0]["effective_from"]) == date(2020, 9, 22)
    for version in versions:
        assert isinstance(version["value"], str)
        value = Decimal(version["value"])
        assert value.is_finite() and value > 0
        assert len(version["source"]) > 40  # a real citation, not a placeholder
    for earlier, later in itertools.pairwise(versions):
        assert earlier["effective_to"] is not None
        assert date.fromisoformat(earlier["effective_to"]) + timedelta(days=1) == date.fromisoformat(
            later["effective_from"]
        )
    assert versions[-1]["effective_to"] is None


def test_grid_factor_versions() -> None:
    assert value_on("EF_GRID_CN", date(2020, 9, 22)) == Decimal("0.5810")
    assert value_on("EF_GRID_CN", date(2022, 12, 31)) == Decimal("0.5810")
    assert value_on("EF_GRID_CN", date(2023, 1, 1)) == Decimal("0.5703")


def test_rooftop_pv_plausible() -> None:
    # A 100 kW rooftop system in Jiaxing yields roughly 100 MWh a year.
    calc = calculate(ROOFTOP_PV, {"net_generation_mwh": Decimal("100")}, date(2024, 6, 30))
    assert calc.result == Decimal("57.0300")
    assert calc.trace[0].substituted == "100 * 0.5703"
    older = calculate(ROOFTOP_PV, {"net_generation_mwh": Decimal("100")}, date(2022, 6, 30))
    assert older.result == Decimal("58.1000")
    zero = calculate(ROOFTOP_PV, {"net_generation_mwh": Decimal("0")}, date(2024, 6, 30))
    assert zero.result == 0


def test_new_energy_vehicle_plausible() -> None:
    # A year of family driving: 15,000 km at about 16 kWh/100 km.
    inputs = {"distance_km": Decimal("15000"), "electricity_kwh": Decimal("2400")}
    calc = calculate(NEW_ENERGY_VEHICLE, inputs, date(2024, 6, 30))
    baseline_fuel, baseline, project, reduction = (line.value for line in calc.trace)
    assert baseline_fuel == Decimal("750")
    assert Decimal("1.6") < baseline < Decimal("1.7")  # about 2.2 kg CO2 per litre of petrol
    assert project == Decimal("1.36872")
    assert Decimal("0.2") < reduction < Decimal("0.4")
    assert calc.result == reduction == baseline - project


def test_new_energy_vehicle_never_negative() -> None:
    # A car (or a data error) charging more than the petrol baseline would emit: zero, not less.
    inputs = {"distance_km": Decimal("1000"), "electricity_kwh": Decimal("1000")}
    calc = calculate(NEW_ENERGY_VEHICLE, inputs, date(2024, 6, 30))
    assert calc.result == 0
