"""Reduction filing checks (Art. 12–17, 28): both sides of every boundary, all violations at once."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules.filing import (
    FiledPeriod,
    check_double_counting,
    check_filing_documents,
    check_monitoring_period,
    check_verified_quantity,
    check_verifier_independence,
    issued_tonnes,
)
from rules.rule_sets import JIAXING_TRIAL_2023

D = Decimal
RS = JIAXING_TRIAL_2023
CREDIT_START, CREDIT_END = date(2020, 1, 1), date(2030, 12, 31)
APPLIED = date(2024, 3, 1)


def period(start: date, end: date, applied: date = APPLIED, crediting_start: date = CREDIT_START,
           crediting_end: date = CREDIT_END) -> list[tuple[str, str | None]]:
    return [(v.code, v.field)
            for v in check_monitoring_period(start, end, crediting_start, crediting_end, applied, RS)]


def test_good_period() -> None:
    assert period(date(2023, 1, 1), date(2023, 12, 31)) == []


def test_single_day_period_is_fine_reversed_is_not() -> None:
    assert period(date(2023, 5, 5), date(2023, 5, 5)) == []
    assert period(date(2023, 5, 5), date(2023, 5, 4)) == [("JX-12", "monitoring_period.end")]


def test_earliest_reduction_date_boundary() -> None:
    """Reductions from 2020-09-23: the day the goals were announced (2020-09-22) does not count (Art. 12, 28)."""
    assert period(date(2020, 9, 23), date(2020, 12, 31)) == []
    assert period(date(2020, 9, 22), date(2020, 12, 31)) == [("JX-12", "monitoring_period.start")]


def test_application_date_boundary() -> None:
    assert period(date(2023, 1, 1), APPLIED) == []
    assert period(date(2023, 1, 1), APPLIED + timedelta(days=1)) == [("JX-12", "monitoring_period.end")]


def test_inside_crediting_period_boundaries() -> None:
    cs, ce = date(2022, 1, 1), date(2023, 6, 30)
    assert period(cs, ce, crediting_start=cs, crediting_end=ce) == []
    assert period(cs - timedelta(days=1), ce, crediting_start=cs, crediting_end=ce) == [
        ("JX-12", "monitoring_period.start")
    ]
    assert period(cs, ce + timedelta(days=1), crediting_start=cs, crediting_end=ce) == [
        ("JX-12", "monitoring_period.end")
    ]


def test_every_period_violation_at_once() -> None:
    got = period(date(2020, 9, 1), date(2020, 8, 1), applied=date(2020, 7, 1),
                 crediting_start=date(2020, 10, 1), crediting_end=date(2020, 7, 15))
    assert got == [
        ("JX-12", "monitoring_period.end"),  # ends before it starts
        ("JX-12", "monitoring_period.start"),  # before 2020-09-23
        ("JX-12", "monitoring_period.start"),  # before the crediting period
        ("JX-12", "monitoring_period.end"),  # after the crediting period
        ("JX-12", "monitoring_period.end"),  # after the application date
    ]


def test_field_prefix() -> None:
    problems = check_monitoring_period(date(2020, 9, 21), date(2021, 1, 1), CREDIT_START, CREDIT_END, APPLIED,
                                       RS, field_prefix="period")
    assert [v.field for v in problems] == ["period.start"]


# --- double counting -------------------------------------------------------------------------------------

JAN = (date(2023, 1, 1), date(2023, 1, 31))


def other(filing_id: int, project_id: int, start: date, end: date, *assets: str) -> FiledPeriod:
    return FiledPeriod(filing_id, project_id, tuple(assets), start, end)


def test_same_project_touching_on_same_day_vs_next_day() -> None:
    touching = other(9, 1, date(2022, 12, 1), date(2023, 1, 1))
    problems = check_double_counting(1, ["M-1"], *JAN, [touching])
    assert [(v.code, v.field) for v in problems] == [("JX-13-3", "monitoring_period")]
    assert "9" in problems[0].message_en and "9" in problems[0].message_zh
    day_before = other(9, 1, date(2022, 12, 1), date(2022, 12, 31))
    assert check_double_counting(1, ["M-1"], *JAN, [day_before]) == []
    day_after = other(9, 1, date(2023, 2, 1), date(2023, 2, 28))
    assert check_double_counting(1, ["M-1"], *JAN, [day_after]) == []


def test_same_asset_in_another_project_overlapping() -> None:
    clash = other(12, 2, date(2023, 1, 31), date(2023, 3, 1), " m-1 ", "X")
    problems = check_double_counting(1, ["OTHER", "M-1"], *JAN, [clash])
    assert [(v.code, v.field) for v in problems] == [("JX-13-3", "asset_identifiers[1]")]
    assert "12" in problems[0].message_en and "M-1" in problems[0].message_en
    apart = other(12, 2, date(2023, 2, 1), date(2023, 3, 1), "M-1")
    assert check_double_counting(1, ["M-1"], *JAN, [apart]) == []
    other_asset = other(12, 2, *JAN, "M-2")
    assert check_double_counting(1, ["M-1"], *JAN, [other_asset]) == []


def test_every_double_count_is_reported_and_self_is_skipped() -> None:
    others = [
        other(5, 1, *JAN),
        other(6, 2, *JAN, "A", "B"),
        other(7, 3, *JAN, "B"),
        other(8, 4, date(2024, 1, 1), date(2024, 2, 1), "A"),
    ]
    problems = check_double_counting(1, ["A", "B"], *JAN, others, filing_id=5)
    fields = [v.field for v in problems]
    assert fields == ["asset_identifiers[0]", "asset_identifiers[1]", "asset_identifiers[1]"]
    assert len(check_double_counting(1, ["A", "B"], *JAN, others)) == 4


# --- verifier, documents, quantities ---------------------------------------------------------------------


def test_verifier_independence() -> None:
    assert check_verifier_independence(3, 2, 1) == []
    assert [v.code for v in check_verifier_independence(2, 2, 1)] == ["JX-15"]
    assert [v.code for v in check_verifier_independence(1, 2, 1)] == ["JX-15"]
    both = check_verifier_independence(1, 1, 1)
    assert len(both) == 2 and {v.field for v in both} == {"verifier_org_id"}


def test_filing_documents_named_when_missing() -> None:
    every = list(RS.required_filing_documents)
    assert check_filing_documents(every, RS) == []
    assert check_filing_documents([*every, "photo"], RS) == []
    missing = check_filing_documents(["accounting_report", "application_form"], RS)
    assert [(v.code, v.field) for v in missing] == [
        ("JX-16", "documents.verification_statement"),
        ("JX-16", "documents.application_letter"),
        ("JX-16", "documents.supporting_evidence"),
    ]
    assert "核证表" in missing[0].message_zh and "verification statement" in missing[0].message_en
    assert len(check_filing_documents([], RS)) == 5


def test_successor_rule_set_document_unknown_to_the_table() -> None:
    successor = dataclasses.replace(RS, required_filing_documents=("accounting_report", "site_photos"))
    problems = check_filing_documents(["accounting_report"], successor)
    assert [v.field for v in problems] == ["documents.site_photos"]
    assert "site_photos" in problems[0].message_en


def test_verified_quantity_boundaries() -> None:
    assert check_verified_quantity(D("10.5"), D("10.5"), None) == []
    above = check_verified_quantity(D("10.5"), D("10.6"), "whatever")
    assert [(v.code, v.field) for v in above] == [("JX-15", "verified_quantity")]
    assert [(v.code, v.field) for v in check_verified_quantity(D("10"), D("11"), None)] == [
        ("JX-15", "verified_quantity")
    ]
    assert check_verified_quantity(D("10.5"), D("9"), "meter 3 failed calibration") == []
    assert [(v.code, v.field) for v in check_verified_quantity(D("10.5"), D("9"), "  ")] == [
        ("JX-15", "reason")
    ]
    assert check_verified_quantity(D("10"), D("0"), "no evidence") == []


def test_verified_quantity_negative_and_non_finite() -> None:
    got = [(v.code, v.field) for v in check_verified_quantity(D("-1"), D("-2"), None)]
    assert got == [("JX-15", "claimed_quantity"), ("JX-15", "verified_quantity"), ("JX-15", "reason")]
    got = [v.field for v in check_verified_quantity(D("NaN"), D("Infinity"), None)]
    assert got == ["claimed_quantity", "verified_quantity"]


def test_issued_tonnes_rounds_down() -> None:
    assert issued_tonnes(D("9.999")) == 9
    assert issued_tonnes(D("10")) == 10
    assert issued_tonnes(D("10.000")) == 10
    assert issued_tonnes(D("0.999")) == 0
    assert issued_tonnes(D("0")) == 0
    assert issued_tonnes(D("-3.5")) == 0
    assert issued_tonnes(D("1E+3")) == 1000
    with pytest.raises(ValueError):
        issued_tonnes(D("NaN"))


@given(st.decimals(min_value=0, max_value=D("1e12"), allow_nan=False, allow_infinity=False, places=6))
def test_issued_tonnes_property(verified: Decimal) -> None:
    tonnes = issued_tonnes(verified)
    assert isinstance(tonnes, int)
    assert tonnes <= verified
    assert tonnes > verified - 1
    assert tonnes >= 0


@given(st.decimals(max_value=0, allow_nan=False, allow_infinity=False))
def test_issued_tonnes_never_negative(verified: Decimal) -> None:
    assert issued_tonnes(verified) == 0
