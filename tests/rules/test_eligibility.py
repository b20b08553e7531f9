"""Project eligibility (Art. 12–13): both sides of every boundary, and every violation at once."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules.eligibility import (
    ExternalRegistration,
    LiveProject,
    ProjectFacts,
    check_project,
    normalise_asset_identifier,
    periods_overlap,
)
from rules.rule_sets import JIAXING_TRIAL_2023

GOOD = ProjectFacts(
    county_code="330481",
    industry_code="1713",
    owner_kind="small",
    owner_credit_code="91330481MA0000004D",
    crediting_start=date(2023, 1, 1),
    crediting_end=date(2032, 12, 31),
    application_date=date(2024, 3, 1),
    asset_identifiers=("3304810012345678",),
    declared_other_mechanisms=(),
    legal_reduction_obligation=False,
    methodology_inclusive_owner_kinds=frozenset({"individual", "household", "micro", "small"}),
)


def check(facts: ProjectFacts, live: list[LiveProject] | None = None,
          external: list[ExternalRegistration] | None = None) -> list[tuple[str, str | None]]:
    return [(v.code, v.field) for v in check_project(facts, JIAXING_TRIAL_2023, live or [], external or [])]


def test_good_project_passes() -> None:
    assert check(GOOD) == []


@pytest.mark.parametrize("code", ["330402", "330411", "330421", "330424", "330481", "330482", "330483"])
def test_every_jiaxing_county_is_accepted(code: str) -> None:
    assert check(dataclasses.replace(GOOD, county_code=code)) == []


@pytest.mark.parametrize("code", ["330401", "330400", "330100", "330484", "330422", "", "33048"])
def test_counties_outside_jiaxing_are_refused(code: str) -> None:
    assert check(dataclasses.replace(GOOD, county_code=code)) == [("JX-12", "county_code")]


def test_crediting_start_boundary_2020_09_23() -> None:
    """Art. 12 "after 2020-09-22", read conservatively (Art. 28): the announcement day itself is refused."""
    day_after = dataclasses.replace(GOOD, crediting_start=date(2020, 9, 23))
    assert check(day_after) == []
    on_day = dataclasses.replace(GOOD, crediting_start=date(2020, 9, 22))
    assert check(on_day) == [("JX-12", "crediting_period.start")]


def test_crediting_end_must_follow_start() -> None:
    start = GOOD.crediting_start
    assert check(dataclasses.replace(GOOD, crediting_end=start + timedelta(days=1))) == []
    assert check(dataclasses.replace(GOOD, crediting_end=start)) == [("JX-12", "crediting_period.end")]
    assert check(dataclasses.replace(GOOD, crediting_end=start - timedelta(days=1))) == [
        ("JX-12", "crediting_period.end")
    ]


def test_covered_industry_refused_neighbour_allowed() -> None:
    assert check(dataclasses.replace(GOOD, industry_code="4411")) == [("JX-13-2", "industry_code")]
    assert check(dataclasses.replace(GOOD, industry_code="4420")) == []
    assert check(dataclasses.replace(GOOD, industry_code="2659")) == [("JX-13-2", "industry_code")]
    assert check(dataclasses.replace(GOOD, industry_code="2641")) == []


@pytest.mark.parametrize("code", ["441", "44111", "44a1", "", " 4411"])
def test_malformed_industry_code(code: str) -> None:
    problems = check_project(dataclasses.replace(GOOD, industry_code=code), JIAXING_TRIAL_2023, [], [])
    assert [(v.code, v.field) for v in problems] == [("JX-13-2", "industry_code")]
    assert "4754" in problems[0].message_zh and "4754" in problems[0].message_en


def test_legal_obligation_refused() -> None:
    assert check(dataclasses.replace(GOOD, legal_reduction_obligation=True)) == [
        ("JX-13-1", "legal_reduction_obligation")
    ]


@pytest.mark.parametrize("mechanism", ["CCER", "CDM", "VCS", "GS", "OTHER_CI", " ccer "])
def test_declared_other_mechanism_refused(mechanism: str) -> None:
    assert check(dataclasses.replace(GOOD, declared_other_mechanisms=(mechanism,))) == [
        ("JX-13-3", "declared_other_mechanisms[0]")
    ]


def test_unknown_mechanism_code_is_named() -> None:
    problems = check_project(
        dataclasses.replace(GOOD, declared_other_mechanisms=("CCER", "XYZ")), JIAXING_TRIAL_2023, [], []
    )
    assert [v.field for v in problems] == ["declared_other_mechanisms[0]", "declared_other_mechanisms[1]"]
    assert "XYZ" in problems[1].message_en and "XYZ" in problems[1].message_zh


def test_external_registration_matched_by_normalised_asset_identifier() -> None:
    facts = dataclasses.replace(GOOD, asset_identifiers=("AB-1", "  浙f·d 12345 "))
    hit = ExternalRegistration("CCER", "CCER-001", "浙F·D   12345", None)
    miss = ExternalRegistration("VCS", "VCS-9", "浙F·D12345", None)  # inner whitespace is significant
    problems = check_project(facts, JIAXING_TRIAL_2023, [], [hit, miss])
    assert [(v.code, v.field) for v in problems] == [("JX-13-3", "asset_identifiers[1]")]
    assert "CCER-001" in problems[0].message_en


def test_external_registration_by_credit_code_only_without_asset() -> None:
    by_owner = ExternalRegistration("GS", "GS-7", None, " 91330481ma0000004d")
    assert check(GOOD, external=[by_owner]) == [("JX-13-3", None)]
    # A registration naming a different asset of the same owner does not make this project non-unique.
    other_asset = ExternalRegistration("GS", "GS-8", "SOMETHING-ELSE", "91330481MA0000004D")
    assert check(GOOD, external=[other_asset]) == []
    other_owner = ExternalRegistration("GS", "GS-9", None, "91330402MA0000005E")
    assert check(GOOD, external=[other_owner]) == []
    blank_asset = ExternalRegistration("GS", "GS-10", "   ", "91330481MA0000004D")
    assert check(GOOD, external=[blank_asset]) == [("JX-13-3", None)]


def test_owner_without_credit_code_never_matches_by_code() -> None:
    facts = dataclasses.replace(GOOD, owner_credit_code=None)
    assert check(facts, external=[ExternalRegistration("GS", "GS-1", None, None)]) == []
    assert check(facts, external=[ExternalRegistration("GS", "GS-1", None, "")]) == []


def _live(start: date, end: date, asset: str = "3304810012345678", project_id: int = 41) -> LiveProject:
    return LiveProject(project_id, (asset,), start, end)


def test_same_asset_in_live_project_touching_on_same_day_is_refused() -> None:
    live = _live(date(2020, 10, 1), GOOD.crediting_start)
    problems = check_project(GOOD, JIAXING_TRIAL_2023, [live], [])
    assert [(v.code, v.field) for v in problems] == [("JX-13-3", "asset_identifiers[0]")]
    assert "41" in problems[0].message_en and "41" in problems[0].message_zh


def test_same_asset_in_live_project_ending_the_day_before_is_accepted() -> None:
    live = _live(date(2020, 10, 1), GOOD.crediting_start - timedelta(days=1))
    assert check(GOOD, live=[live]) == []
    after = _live(GOOD.crediting_end + timedelta(days=1), date(2040, 1, 1))
    assert check(GOOD, live=[after]) == []
    touching_end = _live(GOOD.crediting_end, date(2040, 1, 1))
    assert check(GOOD, live=[touching_end]) == [("JX-13-3", "asset_identifiers[0]")]


def test_live_project_matched_after_normalising() -> None:
    live = _live(date(2021, 1, 1), date(2030, 1, 1), asset="  浙f·d12345")
    facts = dataclasses.replace(GOOD, asset_identifiers=("浙F·D12345 ",))
    assert check(facts, live=[live]) == [("JX-13-3", "asset_identifiers[0]")]


def test_other_asset_in_live_project_is_fine() -> None:
    assert check(GOOD, live=[_live(date(2021, 1, 1), date(2030, 1, 1), asset="OTHER")]) == []


def test_duplicate_identifiers_in_request() -> None:
    facts = dataclasses.replace(GOOD, asset_identifiers=("m-1", "M-2", " m-1 ", "m  2"))
    assert check(facts) == [("JX-13-3", "asset_identifiers[2]")]


def test_empty_and_missing_identifiers() -> None:
    assert check(dataclasses.replace(GOOD, asset_identifiers=())) == [("JX-13-3", "asset_identifiers")]
    assert check(dataclasses.replace(GOOD, asset_identifiers=("A", "  "))) == [
        ("JX-13-3", "asset_identifiers[1]")
    ]


def test_not_inclusive_owner_kind() -> None:
    assert check(dataclasses.replace(GOOD, owner_kind="large")) == [("JX-13-4", "owner_kind")]
    assert check(dataclasses.replace(GOOD, owner_kind="micro")) == []


def test_owner_kind_unknown_to_rule_set() -> None:
    facts = dataclasses.replace(
        GOOD, owner_kind="alien", methodology_inclusive_owner_kinds=frozenset({"alien", "small"})
    )
    assert check(facts) == [("JX-4", "owner_kind")]
    both = dataclasses.replace(GOOD, owner_kind="alien")
    assert check(both) == [("JX-4", "owner_kind"), ("JX-13-4", "owner_kind")]


def test_every_violation_is_returned_at_once() -> None:
    facts = ProjectFacts(
        county_code="330100",
        industry_code="4411",
        owner_kind="large",
        owner_credit_code="91330481MA0000004D",
        crediting_start=date(2020, 9, 21),
        crediting_end=date(2020, 9, 1),
        application_date=date(2024, 3, 1),
        asset_identifiers=("A1", "a1", "B2"),
        declared_other_mechanisms=("CDM",),
        legal_reduction_obligation=True,
        methodology_inclusive_owner_kinds=frozenset({"household"}),
    )
    live = [LiveProject(7, ("B2",), date(2020, 1, 1), date(2021, 1, 1))]
    external = [ExternalRegistration("CCER", "C-1", "A1", None)]
    got = check(facts, live, external)
    assert got == [
        ("JX-12", "county_code"),
        ("JX-12", "crediting_period.start"),
        ("JX-12", "crediting_period.end"),
        ("JX-13-1", "legal_reduction_obligation"),
        ("JX-13-2", "industry_code"),
        ("JX-13-3", "declared_other_mechanisms[0]"),
        ("JX-13-3", "asset_identifiers[0]"),
        ("JX-13-3", "asset_identifiers[1]"),
        ("JX-13-3", "asset_identifiers[2]"),
        ("JX-13-4", "owner_kind"),
    ]
    for v in check_project(facts, JIAXING_TRIAL_2023, live, external):
        assert v.message_zh and v.message_en and v.article.startswith("Art. ")


def test_rule_set_must_be_in_force_on_the_application_date() -> None:
    last_day = dataclasses.replace(GOOD, application_date=date(2025, 11, 7))
    assert check(last_day) == []
    after = dataclasses.replace(GOOD, application_date=date(2025, 11, 8))
    assert check(after) == [("JX-30", None)]
    before = dataclasses.replace(GOOD, application_date=date(2023, 11, 7))
    assert check(before) == [("JX-30", None)]


def test_normalise_asset_identifier() -> None:
    assert normalise_asset_identifier("  ab \t c\n d  ") == "AB C D"
    assert normalise_asset_identifier("浙f·d12345") == "浙F·D12345"
    assert normalise_asset_identifier("   ") == ""


def test_periods_overlap_boundaries() -> None:
    d = date(2024, 1, 10)
    assert periods_overlap(d, d, d, d)
    assert periods_overlap(date(2024, 1, 1), d, d, date(2024, 2, 1))
    assert not periods_overlap(date(2024, 1, 1), d, d + timedelta(days=1), date(2024, 2, 1))


_dates = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))


@given(_dates, _dates, _dates, _dates)
def test_overlap_is_symmetric_and_matches_day_sets(a: date, b: date, c: date, d: date) -> None:
    a_start, a_end = sorted((a, b))
    b_start, b_end = sorted((c, d))
    result = periods_overlap(a_start, a_end, b_start, b_end)
    assert result == periods_overlap(b_start, b_end, a_start, a_end)
    # Reference: the later start is not after the earlier end.
    assert result == (max(a_start, b_start) <= min(a_end, b_end))


@given(st.text(max_size=30))
def test_normalise_is_idempotent(raw: str) -> None:
    once = normalise_asset_identifier(raw)
    assert normalise_asset_identifier(once) == once
    assert once == once.strip()
    assert "  " not in once
