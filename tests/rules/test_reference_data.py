"""Regions (Art. 12) and covered industries (Art. 13(2), annex 1 of seed 001)."""

from __future__ import annotations

import pytest

from rules import covered_industries, regions


def test_seven_jiaxing_counties_with_names() -> None:
    codes = regions.JIAXING_COUNTY_CODES
    assert codes == {"330402", "330411", "330421", "330424", "330481", "330482", "330483"}
    nanhu = regions.county("330402")
    tongxiang = regions.county("330483")
    assert nanhu is not None and nanhu.name_zh == "南湖区"
    assert tongxiang is not None and tongxiang.name_en == "Tongxiang City"
    assert regions.county("330401") is None
    listed = regions.as_list()
    assert [c["code"] for c in listed] == sorted(regions.JIAXING_COUNTY_CODES)
    assert all(c["name_zh"] and c["name_en"] for c in listed)


ANNEX_1_CODES = {
    "4411", "4412", "4417",
    "3011", "3041",
    "3110", "3120", "3130",
    "3216", "3211",
    "2511",
    "2611", "2612", "2613", "2614", "2619",
    "2621", "2622", "2623", "2624", "2625", "2629",
    "2631", "2632",
    "2651", "2652", "2653", "2659",
    "2211", "2212", "2221",
    "5631",
}


def test_table_is_exactly_annex_1() -> None:
    assert covered_industries.COVERED_INDUSTRY_CODES == ANNEX_1_CODES
    assert len(covered_industries.COVERED_INDUSTRIES) == len(ANNEX_1_CODES)


@pytest.mark.parametrize("code", sorted(ANNEX_1_CODES))
def test_every_annex_code_is_covered(code: str) -> None:
    assert covered_industries.is_covered(code)


@pytest.mark.parametrize(
    "code",
    [
        "4420",  # 电力供应: next to 4411–4417 but not generation
        "4413", "4415", "4416",  # hydro, wind, solar power: not in the annex
        "4419",
        "2641", "2642", "2643", "2644", "2645", "2646",  # group 264 lies inside 2611–2659 but is not listed
        "2661", "2710",
        "3012", "3042", "3140", "3212", "3217",
        "2512", "2222", "5611", "5632",
        "44", "261", "30",  # the annex's headings are not class codes
        "", "abcd", "44111",
    ],
)
def test_codes_outside_the_annex_are_not_covered(code: str) -> None:
    assert not covered_industries.is_covered(code)


def test_industry_code_shape() -> None:
    assert covered_industries.is_industry_code("4411")
    assert not covered_industries.is_industry_code("441")
    assert not covered_industries.is_industry_code("44111")
    assert not covered_industries.is_industry_code("44a1")
    assert not covered_industries.is_industry_code("４４１１")  # full-width digits


def test_as_list_is_json_safe_and_names_sectors() -> None:
    rows = covered_industries.as_list()
    assert {r["code"] for r in rows} == ANNEX_1_CODES
    by_code = {r["code"]: r for r in rows}
    assert by_code["3011"]["name_zh"] == "水泥制造"
    assert by_code["5631"]["sector_zh"] == "民航"
    assert by_code["4417"]["note_en"]
    assert all(isinstance(v, str) for r in rows for v in r.values())
