"""Project eligibility (Art. 12–13): where and when reductions arise, and the four forbidden kinds of project.

``check_project`` returns every violation it finds. It reads only the facts it is given: the registry loads
the live projects sharing an asset identifier and the imported registrations of other mechanisms first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from rules.regions import COUNTIES_BY_CODE
from rules.rule_sets import RuleSet
from rules.violations import Violation

_INDUSTRY = re.compile(r"[0-9]{4}")
_WHITESPACE = re.compile(r"\s+")

_MECHANISM_NAMES: dict[str, tuple[str, str]] = {
    "CCER": ("国家核证自愿减排量（CCER）", "China Certified Emission Reductions (CCER)"),
    "CDM": ("清洁发展机制（CDM）", "the Clean Development Mechanism (CDM)"),
    "VCS": ("核证碳标准（VCS/Verra）", "the Verified Carbon Standard (VCS/Verra)"),
    "GS": ("黄金标准（Gold Standard）", "the Gold Standard (GS)"),
    "OTHER_CI": ("其他地区碳普惠机制", "another region's carbon-inclusive scheme"),
}

_OWNER_KIND_NAMES: dict[str, tuple[str, str]] = {
    "individual": ("个人", "individual"),
    "household": ("家庭", "household"),
    "community": ("社区", "community"),
    "micro": ("微型企业", "micro enterprise"),
    "small": ("小型企业", "small enterprise"),
    "medium": ("中型企业", "medium enterprise"),
    "large": ("大型企业", "large enterprise"),
    "institution": ("机关事业单位", "institution"),
}


@dataclass(frozen=True, slots=True)
class ProjectFacts:
    """What a project registration says about itself (asset identifiers as the owner typed them)."""

    county_code: str
    industry_code: str
    owner_kind: str
    owner_credit_code: str | None
    crediting_start: date
    crediting_end: date
    application_date: date
    asset_identifiers: tuple[str, ...]
    declared_other_mechanisms: tuple[str, ...]
    legal_reduction_obligation: bool
    methodology_inclusive_owner_kinds: frozenset[str]


@dataclass(frozen=True, slots=True)
class LiveProject:
    """Another registered (live) project and the asset identifiers it credits."""

    project_id: int
    asset_identifiers: tuple[str, ...]
    crediting_start: date
    crediting_end: date


@dataclass(frozen=True, slots=True)
class ExternalRegistration:
    """A project known to be registered in another reduction mechanism (an imported list)."""

    mechanism: str
    external_id: str
    asset_identifier: str | None
    credit_code: str | None


def normalise_asset_identifier(raw: str) -> str:
    """Canonical asset identifier: stripped, upper-case, inner whitespace collapsed to one space."""
    return _WHITESPACE.sub(" ", raw.strip()).upper()


def normalise_credit_code(raw: str | None) -> str:
    """Canonical form of a unified social credit code (统一社会信用代码): no whitespace, upper-case."""
    return _WHITESPACE.sub("", raw or "").upper()


def periods_overlap(a_start: date, a_end: date, b_start: date, b_end: date) -> bool:
    """True when the two periods share at least one day (both ends inclusive)."""
    return a_start <= b_end and b_start <= a_end


def mechanism_names(code: str) -> tuple[str, str]:
    """Chinese and English name of another mechanism's code (the code itself when unknown)."""
    return _MECHANISM_NAMES.get(code, (code, code))


def owner_kind_names(kind: str) -> tuple[str, str]:
    """Chinese and English name of an owner kind (the code itself when unknown)."""
    return _OWNER_KIND_NAMES.get(kind, (kind, kind))


def _v(code: str, article: str, field: str | None, zh: str, en: str) -> Violation:
    return Violation(code, article, field, zh, en)


def _check_region_and_dates(facts: ProjectFacts, rule_set: RuleSet) -> list[Violation]:
    problems: list[Violation] = []
    if not rule_set.in_force_on(facts.application_date):
        # The caller picks the rule set in force on the application date; a mismatch is a caller error
        # that must not pass silently (Art. 30: the trial measures are valid for two years).
        problems.append(_v(
            "JX-30", "Art. 30", None,
            f"规则集 {rule_set.code} 在申报日 {facts.application_date.isoformat()} 不在有效期内。",
            f"Rule set {rule_set.code} is not in force on the application date "
            f"{facts.application_date.isoformat()}.",
        ))
    if facts.county_code not in rule_set.county_codes:
        known = "、".join(
            f"{COUNTIES_BY_CODE[c].name_zh} {c}" if c in COUNTIES_BY_CODE else c
            for c in sorted(rule_set.county_codes)
        )
        problems.append(_v(
            "JX-12", "Art. 12", "county_code",
            f"县级行政区划代码“{facts.county_code}”不在嘉兴市行政区域内；"
            f"减排量须产生在嘉兴市行政区域内（{known}）。",
            f"County code '{facts.county_code}' is not inside the Jiaxing administrative area; "
            f"reductions must be produced in Jiaxing (one of {', '.join(sorted(rule_set.county_codes))}).",
        ))
    earliest = rule_set.earliest_reduction_date
    if facts.crediting_start < earliest:
        problems.append(_v(
            "JX-12", "Art. 12", "crediting_period.start",
            f"计入期开始日 {facts.crediting_start.isoformat()} 早于 {earliest.isoformat()}；"
            "减排量须产生于我国提出碳达峰碳中和目标之后。",
            f"The crediting period starts on {facts.crediting_start.isoformat()}, before "
            f"{earliest.isoformat()}; reductions must arise after China announced its carbon peak and "
            "neutrality goals.",
        ))
    if facts.crediting_end <= facts.crediting_start:
        problems.append(_v(
            "JX-12", "Art. 12", "crediting_period.end",
            f"计入期结束日 {facts.crediting_end.isoformat()} "
            f"须晚于开始日 {facts.crediting_start.isoformat()}。",
            f"The crediting period must end after it starts ({facts.crediting_end.isoformat()} is not after "
            f"{facts.crediting_start.isoformat()}).",
        ))
    return problems


def _check_industry_and_obligation(facts: ProjectFacts, rule_set: RuleSet) -> list[Violation]:
    problems: list[Violation] = []
    if facts.legal_reduction_obligation:
        problems.append(_v(
            "JX-13-1", "Art. 13(1)", "legal_reduction_obligation",
            "法律法规、国家政策规定有温室气体减排义务的项目不得申请开发碳普惠减排量。",
            "A project with a greenhouse-gas reduction obligation under law, regulation or national "
            "policy may not generate carbon-inclusive reductions.",
        ))
    if _INDUSTRY.fullmatch(facts.industry_code) is None:
        problems.append(_v(
            "JX-13-2", "Art. 13(2)", "industry_code",
            f"行业代码“{facts.industry_code}”格式不正确，须为 4 位数字的 GB/T 4754-2017 行业小类代码。",
            f"Industry code '{facts.industry_code}' is not a four-digit GB/T 4754-2017 class code.",
        ))
    elif facts.industry_code in rule_set.covered_industry_codes:
        problems.append(_v(
            "JX-13-2", "Art. 13(2)", "industry_code",
            f"行业代码 {facts.industry_code} 属于纳入全国碳排放权交易市场配额管理的行业，"
            "不得申请开发碳普惠减排量。",
            f"Industry {facts.industry_code} is under national carbon-market allowance management and "
            "may not generate carbon-inclusive reductions.",
        ))
    return problems


def _check_other_mechanisms(facts: ProjectFacts, rule_set: RuleSet, identifiers: list[str],
                            external_registrations: Iterable[ExternalRegistration]) -> list[Violation]:
    problems: list[Violation] = []
    for index, declared in enumerate(facts.declared_other_mechanisms):
        field = f"declared_other_mechanisms[{index}]"
        code = declared.strip().upper()
        if code in rule_set.other_mechanisms:
            zh, en = mechanism_names(code)
            problems.append(_v(
                "JX-13-3", "Art. 13(3)", field,
                f"项目已在{zh}登记，不具唯一性，不得申请开发碳普惠减排量。",
                f"The project is registered in {en}; it is not unique and may not generate carbon-inclusive "
                "reductions.",
            ))
        else:
            known = ", ".join(sorted(rule_set.other_mechanisms))
            problems.append(_v(
                "JX-13-3", "Art. 13(3)", field,
                f"未知的减排机制代码“{declared}”（可选：{known}）；已参与任何其他减排机制的项目均不具唯一性。",
                f"Unknown mechanism code '{declared}' (known: {known}); a project in any other "
                "reduction mechanism is not unique.",
            ))
    problems += check_other_registrations(identifiers, facts.owner_credit_code, external_registrations)
    return problems


def check_other_registrations(asset_identifiers: Iterable[str], owner_credit_code: str | None,
                              external_registrations: Iterable[ExternalRegistration]) -> list[Violation]:
    """Art. 13(3): an asset identifier of the project, or (where a registration names no asset) its owner,
    registered in another reduction mechanism; each violation names the mechanism and its registration id.
    Checked when a project is submitted and again before each filing is verified, approved and issued, so a
    registration imported later still stops it."""
    problems: list[Violation] = []
    owner_code = normalise_credit_code(owner_credit_code)
    positions: dict[str, int] = {}
    for index, identifier in enumerate(normalise_asset_identifier(a) for a in asset_identifiers):
        positions.setdefault(identifier, index)
    for reg in external_registrations:
        zh, en = mechanism_names(reg.mechanism.strip().upper())
        asset = normalise_asset_identifier(reg.asset_identifier) if reg.asset_identifier is not None else ""
        if asset:
            if asset in positions:
                problems.append(_v(
                    "JX-13-3", "Art. 13(3)", f"asset_identifiers[{positions[asset]}]",
                    f"资产标识“{asset}”已在{zh}登记（编号 {reg.external_id}），项目不具唯一性。",
                    f"Asset identifier '{asset}' is registered in {en} (id {reg.external_id}); "
                    "the project is not unique.",
                ))
        elif owner_code and normalise_credit_code(reg.credit_code) == owner_code:
            problems.append(_v(
                "JX-13-3", "Art. 13(3)", None,
                f"项目业主（统一社会信用代码 {owner_code}）已在{zh}登记项目（编号 {reg.external_id}），"
                "且该登记未列明资产标识，无法排除重复认定。",
                f"The owner (unified social credit code {owner_code}) has a project registered in {en} "
                f"(id {reg.external_id}) that names no asset identifier, so double registration cannot "
                "be ruled out.",
            ))
    return problems


def _check_identifiers(facts: ProjectFacts, identifiers: list[str],
                       live_projects: Iterable[LiveProject]) -> list[Violation]:
    problems: list[Violation] = []
    if not identifiers:
        problems.append(_v(
            "JX-13-3", "Art. 13(3)", "asset_identifiers",
            "至少须填写一个资产标识（如电表号、车牌号），以确认项目的唯一性。",
            "At least one asset identifier (a meter number, a plate number ...) is required to "
            "establish that the project is unique.",
        ))
    first_seen: dict[str, int] = {}
    for index, identifier in enumerate(identifiers):
        field = f"asset_identifiers[{index}]"
        if not identifier:
            problems.append(_v("JX-13-3", "Art. 13(3)", field, "资产标识不能为空。",
                               "An asset identifier must not be empty."))
            continue
        if identifier in first_seen:
            problems.append(_v(
                "JX-13-3", "Art. 13(3)", field,
                f"资产标识“{identifier}”与第 {first_seen[identifier] + 1} 个重复。",
                f"Asset identifier '{identifier}' repeats asset_identifiers[{first_seen[identifier]}].",
            ))
            continue
        first_seen[identifier] = index
    for live in live_projects:
        live_ids = {normalise_asset_identifier(a) for a in live.asset_identifiers}
        if not periods_overlap(facts.crediting_start, facts.crediting_end,
                               live.crediting_start, live.crediting_end):
            continue
        for identifier, index in first_seen.items():
            if identifier in live_ids:
                problems.append(_v(
                    "JX-13-3", "Art. 13(3)", f"asset_identifiers[{index}]",
                    f"资产标识“{identifier}”已属于在册项目 {live.project_id}，其计入期"
                    f"（{live.crediting_start.isoformat()} 至 {live.crediting_end.isoformat()}）"
                    "与本项目重叠，不具唯一性。",
                    f"Asset identifier '{identifier}' already belongs to live project {live.project_id}, "
                    f"whose crediting period ({live.crediting_start.isoformat()} to "
                    f"{live.crediting_end.isoformat()}) overlaps this one; the project is not unique.",
                ))
    return problems


def _check_owner_kind(facts: ProjectFacts, rule_set: RuleSet) -> list[Violation]:
    problems: list[Violation] = []
    zh, en = owner_kind_names(facts.owner_kind)
    if facts.owner_kind not in rule_set.owner_kinds:
        known = ", ".join(sorted(rule_set.owner_kinds))
        problems.append(_v(
            "JX-4", "Art. 4", "owner_kind",
            f"未知的业主类型“{facts.owner_kind}”（可选：{known}）。",
            f"Unknown owner kind '{facts.owner_kind}' (known: {known}).",
        ))
    if facts.owner_kind not in facts.methodology_inclusive_owner_kinds:
        scope = ", ".join(sorted(facts.methodology_inclusive_owner_kinds)) or "-"
        problems.append(_v(
            "JX-13-4", "Art. 13(4)", "owner_kind",
            f"业主类型“{zh}”不在该方法学的普惠对象范围（{scope}）内，项目不具普惠性。",
            f"Owner kind '{en}' is outside the methodology's inclusive scope ({scope}); the project is not "
            "inclusive.",
        ))
    return problems


def check_project(facts: ProjectFacts, rule_set: RuleSet, live_projects: Iterable[LiveProject],
                  external_registrations: Iterable[ExternalRegistration]) -> list[Violation]:
    """Every Art. 12–13 violation of a project registration, in a stable order."""
    identifiers = [normalise_asset_identifier(raw) for raw in facts.asset_identifiers]
    return [
        *_check_region_and_dates(facts, rule_set),
        *_check_industry_and_obligation(facts, rule_set),
        *_check_other_mechanisms(facts, rule_set, identifiers, external_registrations),
        *_check_identifiers(facts, identifiers, live_projects),
        *_check_owner_kind(facts, rule_set),
    ]
