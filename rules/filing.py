"""Pure checks for a reduction filing (Art. 12–17, 28): the monitoring period, double counting, the verifier's
independence, the Art. 16 documents, the verified quantity, and the tonnes issued.

Each check returns every violation it finds; the registry loads the other filings first.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, Decimal

from rules.eligibility import normalise_asset_identifier, periods_overlap
from rules.rule_sets import RuleSet
from rules.violations import Violation

DOCUMENT_NAMES: dict[str, tuple[str, str]] = {
    "accounting_report": ("碳普惠减排量核算报告", "the reduction accounting report"),
    "verification_statement": ("碳普惠减排量核证表", "the verification statement"),
    "application_letter": ("核证减排量备案申请函", "the filing application letter"),
    "application_form": ("核证减排量备案申请表", "the filing application form"),
    "supporting_evidence": ("其他支持性证明材料", "the supporting evidence"),
}


@dataclass(frozen=True, slots=True)
class FiledPeriod:
    """Another live filing: its project, the asset identifiers it credits and its monitoring period."""

    filing_id: int
    project_id: int
    asset_identifiers: tuple[str, ...]
    start: date
    end: date


def document_names(kind: str) -> tuple[str, str]:
    """Chinese and English name of a filing document kind (the kind itself when unknown)."""
    return DOCUMENT_NAMES.get(kind, (kind, kind))


def check_monitoring_period(start: date, end: date, crediting_start: date, crediting_end: date,
                            application_date: date, rule_set: RuleSet, *,
                            field_prefix: str = "monitoring_period") -> list[Violation]:
    """Art. 12: the period ends on or after it starts, lies inside the crediting period, starts on or after
    the earliest reduction date and ends no later than the application date."""
    problems: list[Violation] = []
    start_field, end_field = f"{field_prefix}.start", f"{field_prefix}.end"
    s, e = start.isoformat(), end.isoformat()
    if end < start:
        problems.append(Violation(
            "JX-12", "Art. 12", end_field,
            f"监测期结束日 {e} 早于开始日 {s}。",
            f"The monitoring period ends ({e}) before it starts ({s}).",
        ))
    earliest = rule_set.earliest_reduction_date
    if start < earliest:
        problems.append(Violation(
            "JX-12", "Art. 12", start_field,
            f"监测期开始日 {s} 早于 {earliest.isoformat()}；减排量须产生于我国提出碳达峰碳中和目标之后。",
            f"The monitoring period starts on {s}, before {earliest.isoformat()}; reductions must arise "
            "after China announced its carbon peak and neutrality goals.",
        ))
    if start < crediting_start:
        problems.append(Violation(
            "JX-12", "Art. 12", start_field,
            f"监测期开始日 {s} 早于项目计入期开始日 {crediting_start.isoformat()}。",
            f"The monitoring period starts on {s}, before the crediting period starts "
            f"({crediting_start.isoformat()}).",
        ))
    if end > crediting_end:
        problems.append(Violation(
            "JX-12", "Art. 12", end_field,
            f"监测期结束日 {e} 晚于项目计入期结束日 {crediting_end.isoformat()}。",
            f"The monitoring period ends on {e}, after the crediting period ends "
            f"({crediting_end.isoformat()}).",
        ))
    if end > application_date:
        problems.append(Violation(
            "JX-12", "Art. 12", end_field,
            f"监测期结束日 {e} 晚于申报日 {application_date.isoformat()}；减排量只能计算至申报日。",
            f"The monitoring period ends on {e}, after the application date "
            f"({application_date.isoformat()}); reductions count only up to the application date.",
        ))
    return problems


def check_double_counting(project_id: int, asset_identifiers: Iterable[str], start: date, end: date,
                          other_filings: Iterable[FiledPeriod], *,
                          filing_id: int | None = None) -> list[Violation]:
    """Art. 13(3) and Art. 28 (唯一性): no other filing of the same project, and no filing of another project
    crediting the same asset identifier, may overlap this monitoring period (both ends inclusive).
    ``filing_id`` (this filing, when re-checked) is skipped among the others."""
    problems: list[Violation] = []
    own = [normalise_asset_identifier(a) for a in asset_identifiers]
    for other in other_filings:
        if filing_id is not None and other.filing_id == filing_id:
            continue
        if not periods_overlap(start, end, other.start, other.end):
            continue
        period = f"{other.start.isoformat()} 至 {other.end.isoformat()}"
        period_en = f"{other.start.isoformat()} to {other.end.isoformat()}"
        if other.project_id == project_id:
            problems.append(Violation(
                "JX-13-3", "Art. 13(3)", "monitoring_period",
                f"本项目的备案 {other.filing_id}（监测期 {period}）与本监测期重叠，减排量不得重复计算。",
                f"Filing {other.filing_id} of the same project (monitoring period {period_en}) overlaps this "
                "period; reductions may not be counted twice.",
            ))
            continue
        theirs = {normalise_asset_identifier(a) for a in other.asset_identifiers}
        reported: set[str] = set()
        for index, identifier in enumerate(own):
            if identifier and identifier in theirs and identifier not in reported:
                reported.add(identifier)
                problems.append(Violation(
                    "JX-13-3", "Art. 13(3)", f"asset_identifiers[{index}]",
                    f"资产标识“{identifier}”已在项目 {other.project_id} 的备案 {other.filing_id}"
                    f"（监测期 {period}）中计算减排量，监测期重叠，不得重复计算。",
                    f"Asset identifier '{identifier}' is already credited by filing {other.filing_id} of "
                    f"project {other.project_id} (monitoring period {period_en}), which overlaps; reductions "
                    "may not be counted twice.",
                ))
    return problems


def check_verifier_independence(verifier_org_id: int, report_preparer_org_id: int,
                                owner_org_id: int) -> list[Violation]:
    """Art. 15: a verifier may not verify a project whose accounting report it prepared, nor its own."""
    problems: list[Violation] = []
    if verifier_org_id == report_preparer_org_id:
        problems.append(Violation(
            "JX-15", "Art. 15", "verifier_org_id",
            "核查机构不得对其编制核算报告的项目进行减排量核查。",
            "A verifier may not verify reductions of a project whose accounting report it prepared.",
        ))
    if verifier_org_id == owner_org_id:
        problems.append(Violation(
            "JX-15", "Art. 15", "verifier_org_id",
            "项目业主不得自行核查本项目的减排量，须委托独立的核查机构。",
            "The project owner may not verify its own reductions; it must commission an independent "
            "verifier.",
        ))
    return problems


def check_filing_documents(present_kinds: Collection[str], rule_set: RuleSet) -> list[Violation]:
    """Art. 16: one violation for each required document that is missing, named in both languages."""
    present = set(present_kinds)
    problems: list[Violation] = []
    for kind in rule_set.required_filing_documents:
        if kind not in present:
            zh, en = document_names(kind)
            problems.append(Violation(
                "JX-16", "Art. 16", f"documents.{kind}",
                f"备案申请缺少{zh}。",
                f"The filing application lacks {en}.",
            ))
    return problems


def check_verified_quantity(claimed: Decimal, verified: Decimal, reason: str | None) -> list[Violation]:
    """Art. 15: the verified quantity is not negative, never above the claimed one, and a lower one gives
    its reasons."""
    problems: list[Violation] = []
    for field, value in (("claimed_quantity", claimed), ("verified_quantity", verified)):
        if not isinstance(value, Decimal) or not value.is_finite():
            problems.append(Violation("JX-15", "Art. 15", field, "数量须为有限的十进制数。",
                                      "The quantity must be a finite decimal number."))
    if problems:
        return problems
    if claimed < 0:
        problems.append(Violation("JX-15", "Art. 15", "claimed_quantity", "申报减排量不得为负。",
                                  "The claimed reduction must not be negative."))
    if verified < 0:
        problems.append(Violation("JX-15", "Art. 15", "verified_quantity", "核证减排量不得为负。",
                                  "The verified reduction must not be negative."))
    if verified > claimed:
        problems.append(Violation(
            "JX-15", "Art. 15", "verified_quantity",
            f"核证减排量 {verified} 不得高于申报减排量 {claimed}。",
            f"The verified reduction ({verified}) may not exceed the claimed one ({claimed}).",
        ))
    elif verified < claimed and not (reason or "").strip():
        problems.append(Violation(
            "JX-15", "Art. 15", "reason",
            "核证减排量低于申报减排量时须说明理由。",
            "A verified reduction below the claimed one must give its reasons.",
        ))
    return problems


def issued_tonnes(verified: Decimal) -> int:
    """Whole tonnes to issue: the verified tCO2e rounded DOWN (Art. 28 conservativeness), never negative."""
    if not verified.is_finite():
        raise ValueError("the verified quantity must be finite")
    if verified <= 0:
        return 0
    return int(verified.to_integral_value(rounding=ROUND_FLOOR))
