"""Rule sets as data: the Jiaxing trial measures (嘉碳普惠办〔2023〕3号) and any registered successor.

A rule set carries everything the checks need that a successor text could change: its effective period, the
earliest reduction date, the county codes, the covered industries, the other mechanisms, the owner kinds, the
documents a filing needs and the public-notice days. Callers pick the one in force on a date with
``select_rule_set``, so a successor needs no code change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from rules.covered_industries import COVERED_INDUSTRY_CODES
from rules.regions import JIAXING_COUNTY_CODES
from rules.violations import Violation

RULE_SET_CODE = "RULE_SET"
_ARTICLE = "Art. 30"

_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")
_COUNTY = re.compile(r"[0-9]{6}")
_INDUSTRY = re.compile(r"[0-9]{4}")
_MECHANISM = re.compile(r"[A-Z][A-Z0-9_]{0,31}")
_KIND = re.compile(r"[a-z][a-z0-9_]{0,63}")
MAX_NOTICE_DAYS = 365
MAX_TITLE_CHARS = 300


@dataclass(frozen=True, slots=True)
class RuleSet:
    """One version of the carbon-inclusive rules with its effective period (both ends inclusive)."""

    code: str
    title_zh: str
    title_en: str
    effective_from: date
    effective_to: date | None
    earliest_reduction_date: date
    county_codes: frozenset[str]
    covered_industry_codes: frozenset[str]
    other_mechanisms: frozenset[str]
    owner_kinds: frozenset[str]
    required_filing_documents: tuple[str, ...]
    notice_days: int

    def in_force_on(self, on: date) -> bool:
        """True when ``on`` lies inside the effective period."""
        return self.effective_from <= on and (self.effective_to is None or on <= self.effective_to)


# Art. 12: the goals were announced on 2020-09-22; reductions count from the next day (see below).
GOALS_ANNOUNCED_ON = date(2020, 9, 22)
EARLIEST_REDUCTION_DATE = GOALS_ANNOUNCED_ON + timedelta(days=1)

# Art. 30: in force from the day of issue, for two years. The notice is dated 2023-11-08 in its header (the
# footer's 印发 date reads 2023-10-08); we follow the brief and DOMAIN.md: 2023-11-08 .. 2025-11-07.
_TRIAL_FROM = date(2023, 11, 8)

JIAXING_TRIAL_2023 = RuleSet(
    code="JX-TRIAL-2023",
    title_zh="嘉兴市碳普惠建设管理办法（试行）（嘉碳普惠办〔2023〕3号）",
    title_en=(
        "Jiaxing Carbon-Inclusive Construction Management Measures (Trial) (Jia Tan Pu Hui Ban [2023] No. 3)"
    ),
    effective_from=_TRIAL_FROM,
    effective_to=_TRIAL_FROM.replace(year=_TRIAL_FROM.year + 2) - timedelta(days=1),
    # Art. 12: reductions "produced after China announced its carbon peak and neutrality goals (2020-09-22)"
    # (于…（2020年9月22日）之后). Whether the day of the announcement itself counts is open; the team reads it
    # conservatively (Art. 28, 保守性: never over-count), so the first day that counts is the day after.
    earliest_reduction_date=EARLIEST_REDUCTION_DATE,
    county_codes=JIAXING_COUNTY_CODES,
    covered_industry_codes=COVERED_INDUSTRY_CODES,
    # Art. 28 (唯一性): in no other reduction mechanism. OTHER_CI: another region's carbon-inclusive scheme.
    other_mechanisms=frozenset({"CCER", "CDM", "VCS", "GS", "OTHER_CI"}),
    # Art. 4 and Art. 28 (普惠性): small and micro enterprises, communities, households and individuals.
    owner_kinds=frozenset(
        {"individual", "household", "community", "micro", "small", "medium", "large", "institution"}
    ),
    # Art. 16: at least these documents.
    required_filing_documents=(
        "accounting_report",
        "verification_statement",
        "application_letter",
        "application_form",
        "supporting_evidence",
    ),
    notice_days=7,
)


class RuleSetError(ValueError):
    """A rule-set dict that cannot be read; carries one Violation per unreadable field."""

    def __init__(self, violations: list[Violation]) -> None:
        super().__init__("; ".join(v.message_en for v in violations))
        self.violations = violations


def rule_set_to_dict(rs: RuleSet) -> dict[str, Any]:
    """A JSON-safe dict: ISO dates, sorted lists for the sets, the document list in its order."""
    return {
        "code": rs.code,
        "title_zh": rs.title_zh,
        "title_en": rs.title_en,
        "effective_from": rs.effective_from.isoformat(),
        "effective_to": rs.effective_to.isoformat() if rs.effective_to is not None else None,
        "earliest_reduction_date": rs.earliest_reduction_date.isoformat(),
        "county_codes": sorted(rs.county_codes),
        "covered_industry_codes": sorted(rs.covered_industry_codes),
        "other_mechanisms": sorted(rs.other_mechanisms),
        "owner_kinds": sorted(rs.owner_kinds),
        "required_filing_documents": list(rs.required_filing_documents),
        "notice_days": rs.notice_days,
    }


def _problem(field: str, zh: str, en: str) -> Violation:
    return Violation(RULE_SET_CODE, _ARTICLE, field, zh, en)


def rule_set_from_dict(data: Mapping[str, Any]) -> RuleSet:
    """Read a rule set written by ``rule_set_to_dict``; raise ``RuleSetError`` listing every unreadable field.

    Dates may be ISO strings or ``date`` objects. Content (order of dates, code shapes) is judged separately
    by ``check_rule_set``.
    """
    problems: list[Violation] = []

    def text(key: str) -> str:
        value = data.get(key)
        if not isinstance(value, str):
            problems.append(_problem(key, f"{key} 须为文本。", f"{key} must be a string."))
            return ""
        return value

    def day(key: str, optional: bool = False) -> date | None:
        value = data.get(key)
        if value is None and optional:
            return None
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        problems.append(_problem(key, f"{key} 须为 YYYY-MM-DD 格式的日期。",
                                 f"{key} must be a YYYY-MM-DD date."))
        return None

    def texts(key: str) -> tuple[str, ...]:
        value = data.get(key)
        if isinstance(value, (list, tuple, set, frozenset)) and all(isinstance(v, str) for v in value):
            return tuple(value)
        problems.append(_problem(key, f"{key} 须为文本列表。", f"{key} must be a list of strings."))
        return ()

    code = text("code")
    title_zh = text("title_zh")
    title_en = text("title_en")
    effective_from = day("effective_from")
    effective_to = day("effective_to", optional=True)
    earliest = day("earliest_reduction_date")
    counties = texts("county_codes")
    industries = texts("covered_industry_codes")
    mechanisms = texts("other_mechanisms")
    kinds = texts("owner_kinds")
    documents = texts("required_filing_documents")
    notice_days = data.get("notice_days")
    if not isinstance(notice_days, int) or isinstance(notice_days, bool):
        problems.append(_problem("notice_days", "notice_days 须为整数。", "notice_days must be an integer."))
        notice_days = 0
    if problems or effective_from is None or earliest is None:
        raise RuleSetError(problems)
    return RuleSet(
        code=code,
        title_zh=title_zh,
        title_en=title_en,
        effective_from=effective_from,
        effective_to=effective_to,
        earliest_reduction_date=earliest,
        county_codes=frozenset(counties),
        covered_industry_codes=frozenset(industries),
        other_mechanisms=frozenset(mechanisms),
        owner_kinds=frozenset(kinds),
        required_filing_documents=documents,
        notice_days=notice_days,
    )


def _check_codes(problems: list[Violation], field: str, values: Iterable[str], pattern: re.Pattern[str],
                 shape_zh: str, shape_en: str) -> None:
    for value in sorted(values):
        if pattern.fullmatch(value) is None:
            problems.append(_problem(field, f"{field} 中的“{value}”格式不正确，应为{shape_zh}。",
                                     f"{field}: '{value}' is not well formed; expected {shape_en}."))


def check_rule_set(rs: RuleSet) -> list[Violation]:
    """Every problem with a (successor) rule set: ordered dates, well-formed codes, non-empty lists."""
    problems: list[Violation] = []
    if _CODE.fullmatch(rs.code) is None:
        problems.append(_problem("code", "规则集编号须为 1–64 位字母、数字、“-”“_”“.”，且以字母或数字开头。",
                                 "The rule-set code must be 1–64 letters, digits, '-', '_' or '.', starting "
                                 "with a letter or digit."))
    for field, title in (("title_zh", rs.title_zh), ("title_en", rs.title_en)):
        if not title.strip() or len(title) > MAX_TITLE_CHARS:
            problems.append(_problem(field, f"标题不能为空，且不超过 {MAX_TITLE_CHARS} 字。",
                                     f"The title must be non-empty, at most {MAX_TITLE_CHARS} characters."))
    if rs.effective_to is not None and rs.effective_to < rs.effective_from:
        problems.append(_problem("effective_to", "失效日期不得早于生效日期。",
                                 "effective_to must not be before effective_from."))
    if rs.earliest_reduction_date > rs.effective_from:
        problems.append(_problem("earliest_reduction_date", "最早减排日期不得晚于规则生效日期。",
                                 "earliest_reduction_date must not be after effective_from."))
    if not rs.county_codes:
        problems.append(_problem("county_codes", "至少须有一个县级行政区划代码。",
                                 "At least one county code is required."))
    _check_codes(problems, "county_codes", rs.county_codes, _COUNTY, "6 位数字的行政区划代码",
                 "a six-digit administrative division code")
    _check_codes(problems, "covered_industry_codes", rs.covered_industry_codes, _INDUSTRY,
                 "4 位数字的 GB/T 4754-2017 行业小类代码", "a four-digit GB/T 4754-2017 class code")
    _check_codes(problems, "other_mechanisms", rs.other_mechanisms, _MECHANISM,
                 "大写字母、数字或下划线（如 CCER）", "upper-case letters, digits or underscores (e.g. CCER)")
    if not rs.owner_kinds:
        problems.append(_problem("owner_kinds", "至少须有一种业主类型。",
                                 "At least one owner kind is required."))
    _check_codes(problems, "owner_kinds", rs.owner_kinds, _KIND, "小写字母、数字或下划线",
                 "lower-case letters, digits or underscores")
    if not rs.required_filing_documents:
        problems.append(_problem("required_filing_documents", "至少须要求一种备案材料（第十六条）。",
                                 "At least one filing document must be required (Art. 16)."))
    if len(set(rs.required_filing_documents)) != len(rs.required_filing_documents):
        problems.append(_problem("required_filing_documents", "备案材料类型不得重复。",
                                 "The required filing documents must not repeat."))
    _check_codes(problems, "required_filing_documents", set(rs.required_filing_documents), _KIND,
                 "小写字母、数字或下划线", "lower-case letters, digits or underscores")
    if not 1 <= rs.notice_days <= MAX_NOTICE_DAYS:
        problems.append(_problem("notice_days", f"公示天数须在 1 至 {MAX_NOTICE_DAYS} 天之间。",
                                 f"notice_days must be between 1 and {MAX_NOTICE_DAYS}."))
    return problems


def select_rule_set(rule_sets: Iterable[RuleSet], on: date) -> RuleSet | None:
    """The rule set in force on ``on``; where periods overlap, the one with the latest effective_from wins
    (ties go to the later code, so the choice never depends on input order)."""
    in_force = [rs for rs in rule_sets if rs.in_force_on(on)]
    if not in_force:
        return None
    return max(in_force, key=lambda rs: (rs.effective_from, rs.code))
