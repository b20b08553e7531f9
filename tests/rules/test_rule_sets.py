"""Rule sets as data: the trial measures, round trips, validation of a successor, selection by date."""

from __future__ import annotations

import dataclasses
import json
from datetime import date

import pytest

from rules.rule_sets import (
    JIAXING_TRIAL_2023,
    RuleSet,
    RuleSetError,
    check_rule_set,
    rule_set_from_dict,
    rule_set_to_dict,
    select_rule_set,
)

TRIAL = JIAXING_TRIAL_2023


def test_trial_measures_content() -> None:
    assert TRIAL.effective_from == date(2023, 11, 8)
    assert TRIAL.effective_to == date(2025, 11, 7)
    assert TRIAL.earliest_reduction_date == date(2020, 9, 23)  # "after 2020-09-22", read conservatively
    assert TRIAL.notice_days == 7
    assert TRIAL.other_mechanisms == {"CCER", "CDM", "VCS", "GS", "OTHER_CI"}
    assert TRIAL.owner_kinds == {
        "individual", "household", "community", "micro", "small", "medium", "large", "institution",
    }
    assert TRIAL.required_filing_documents == (
        "accounting_report", "verification_statement", "application_letter", "application_form",
        "supporting_evidence",
    )
    assert "330483" in TRIAL.county_codes
    assert "4411" in TRIAL.covered_industry_codes
    assert "嘉碳普惠办〔2023〕3号" in TRIAL.title_zh
    assert check_rule_set(TRIAL) == []


def test_round_trip_through_json() -> None:
    data = json.loads(json.dumps(rule_set_to_dict(TRIAL)))
    assert rule_set_from_dict(data) == TRIAL


def test_from_dict_accepts_date_objects_and_open_end() -> None:
    data = rule_set_to_dict(TRIAL) | {"effective_from": date(2025, 11, 8), "effective_to": None}
    rs = rule_set_from_dict(data)
    assert rs.effective_from == date(2025, 11, 8)
    assert rs.effective_to is None


def test_from_dict_lists_every_unreadable_field() -> None:
    data = rule_set_to_dict(TRIAL) | {
        "effective_from": "2025-13-01", "county_codes": "330402", "notice_days": "7", "title_en": None,
    }
    del data["code"]
    with pytest.raises(RuleSetError) as caught:
        rule_set_from_dict(data)
    fields = {v.field for v in caught.value.violations}
    assert fields == {"code", "title_en", "effective_from", "county_codes", "notice_days"}
    assert isinstance(caught.value, ValueError)


def test_notice_days_must_not_be_a_bool() -> None:
    with pytest.raises(RuleSetError):
        rule_set_from_dict(rule_set_to_dict(TRIAL) | {"notice_days": True})


def test_check_rule_set_reports_every_problem() -> None:
    bad = dataclasses.replace(
        TRIAL,
        code="bad code!",
        title_zh=" ",
        effective_from=date(2026, 1, 1),
        effective_to=date(2025, 12, 31),
        earliest_reduction_date=date(2026, 1, 2),
        county_codes=frozenset({"33040", "330402"}),
        covered_industry_codes=frozenset({"441"}),
        other_mechanisms=frozenset({"ccer"}),
        owner_kinds=frozenset({"Large"}),
        required_filing_documents=("accounting_report", "accounting_report"),
        notice_days=0,
    )
    fields = [v.field for v in check_rule_set(bad)]
    assert set(fields) == {
        "code", "title_zh", "effective_to", "earliest_reduction_date", "county_codes",
        "covered_industry_codes", "other_mechanisms", "owner_kinds", "required_filing_documents",
        "notice_days",
    }
    assert all(v.code == "RULE_SET" for v in check_rule_set(bad))


def test_check_rule_set_boundaries() -> None:
    same_day = dataclasses.replace(TRIAL, effective_to=TRIAL.effective_from)
    assert check_rule_set(same_day) == []
    day_before = dataclasses.replace(TRIAL, effective_to=date(2023, 11, 7))
    assert [v.field for v in check_rule_set(day_before)] == ["effective_to"]
    assert check_rule_set(dataclasses.replace(TRIAL, notice_days=1)) == []
    assert check_rule_set(dataclasses.replace(TRIAL, notice_days=365)) == []
    assert [v.field for v in check_rule_set(dataclasses.replace(TRIAL, notice_days=366))] == ["notice_days"]
    empty = dataclasses.replace(TRIAL, county_codes=frozenset(), owner_kinds=frozenset(),
                                required_filing_documents=())
    assert {v.field for v in check_rule_set(empty)} == {"county_codes", "owner_kinds",
                                                         "required_filing_documents"}


def _successor(start: date, end: date | None, code: str = "JX-2025") -> RuleSet:
    return dataclasses.replace(TRIAL, code=code, effective_from=start, effective_to=end)


def test_select_rule_set_by_date() -> None:
    successor = _successor(date(2025, 11, 8), None)
    both = [successor, TRIAL]
    assert select_rule_set(both, date(2023, 11, 7)) is None
    assert select_rule_set(both, date(2023, 11, 8)) is TRIAL
    assert select_rule_set(both, date(2025, 11, 7)) is TRIAL
    assert select_rule_set(both, date(2025, 11, 8)) is successor
    assert select_rule_set(both, date(2099, 1, 1)) is successor
    assert select_rule_set([], date(2024, 1, 1)) is None


def test_select_rule_set_latest_effective_from_wins_on_overlap() -> None:
    amendment = _successor(date(2024, 6, 1), date(2025, 11, 7), code="JX-2024-AMEND")
    assert select_rule_set([TRIAL, amendment], date(2024, 5, 31)) is TRIAL
    assert select_rule_set([TRIAL, amendment], date(2024, 6, 1)) is amendment
    assert select_rule_set([amendment, TRIAL], date(2024, 6, 1)) is amendment


def test_gap_after_trial_expiry() -> None:
    assert select_rule_set([TRIAL], date(2025, 11, 8)) is None
