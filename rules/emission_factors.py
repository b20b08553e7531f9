"""Emission factors (排放因子, Art. 11): which factor a calculation uses, and a hash that pins the choice.

Art. 11 asks that key parameters such as emission factors come from national published data, be updated and
re-published, and that a calculation record which version it used. A factor belongs to a numbered, immutable
release; selecting one for an activity, a region and a day follows one rule, written here so that it is the
same for the live calculator, the stored inventory and a re-computation years later:

1. Regions are tried from the narrowest to the widest: a Jiaxing county (``330402``) → Zhejiang (``CN-ZJ``)
   → China (``CN``). The first region with a factor in force wins, and the selection says whether it fell
   back to a wider region (the trace shows it).
2. In force on the day: ``effective_from <= day`` and (no ``effective_to`` or ``day <= effective_to``); a
   factor that only comes into force after the event is never picked.
3. Of those, the newest data year.
4. Of those, the conservative value for the use (Art. 28): for an emission, the higher one; for a removal or
   a reduction, the lower one.

Values are ``Decimal`` kilograms of CO2e per activity unit; nothing here is a float.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from rules.regions import COUNTIES_BY_CODE
from rules.violations import Violation

CODE = "JX-11"
ARTICLE = "Art. 11"

CHINA = "CN"
ZHEJIANG = "CN-ZJ"
EMISSION = "emission"
REDUCTION = "reduction"
GWP_BASES = ("AR4", "AR5", "AR6")


def wider_regions(region: str) -> tuple[str, ...]:
    """The region and the regions it lies in, narrowest first: a Jiaxing county → CN-ZJ → CN."""
    if region in COUNTIES_BY_CODE:
        return (region, ZHEJIANG, CHINA)
    if region.startswith("CN-"):
        return (region, CHINA)
    return (region,) if region == CHINA else (region, CHINA)


@dataclass(frozen=True, slots=True)
class Factor:
    """One factor version as a calculation sees it (loaded from a published release)."""

    code: str
    version: int
    activity: str
    unit: str
    region: str
    data_year: int
    value_kg: Decimal  # kg CO2e per unit
    effective_from: date
    effective_to: date | None
    release_number: int
    source: str = ""
    demo: bool = False

    def in_force_on(self, day: date) -> bool:
        """Whether the factor applies on `day` (both ends inclusive)."""
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)

    @property
    def label(self) -> str:
        """The factor as a line cites it: code@version."""
        return f"{self.code}@{self.version}"


@dataclass(frozen=True, slots=True)
class Selection:
    """The factor chosen for an activity, with how it was chosen."""

    factor: Factor
    asked_region: str
    fell_back: bool
    candidates: tuple[str, ...] = field(default=())  # code@version of the factors considered in that region

    def trace(self) -> dict[str, object]:
        """What a calculation records about the choice (JSON-safe)."""
        return {"factor": self.factor.label, "release": self.factor.release_number,
                "asked_region": self.asked_region, "region": self.factor.region, "fell_back": self.fell_back,
                "data_year": self.factor.data_year, "value_kg": format(self.factor.value_kg, "f"),
                "unit": self.factor.unit, "candidates": list(self.candidates)}


def select_factor(factors: Iterable[Factor], activity: str, region: str, day: date,
                  use: str = EMISSION) -> Selection | Violation:
    """The factor for `activity` in `region` on `day`, by the rule in the module docstring; a JX-11
    violation when no region up to China has one in force."""
    pool = [f for f in factors if f.activity == activity and f.in_force_on(day)]
    for place in wider_regions(region):
        here = [f for f in pool if f.region == place]
        if not here:
            continue
        newest = max(f.data_year for f in here)
        latest = [f for f in here if f.data_year == newest]
        pick = max if use == EMISSION else min
        # Ties on value go to the newest version, so the choice never depends on the order rows were loaded in.
        chosen = pick(latest, key=lambda f: (f.value_kg, f.version if use == EMISSION else -f.version))
        return Selection(chosen, region, place != region,
                         tuple(sorted(f.label for f in here)))
    return Violation(CODE, ARTICLE, f"activities.{activity}",
                     f"活动 {activity} 在 {region} 及其上级地区于 {day} 没有有效的已发布排放因子。",
                     f"No published emission factor for {activity} in force on {day} in {region} or a wider "
                     "region.")


def check_factor(value_kg: Decimal, gwp_basis: str, effective_from: date, effective_to: date | None,
                 data_year: int, uncertainty_pct: Decimal | None) -> list[Violation]:
    """A factor the bureau types in: a finite non-negative value, a known GWP basis, a sane period and year."""
    problems: list[Violation] = []

    def bad(field_name: str, zh: str, en: str) -> None:
        problems.append(Violation(CODE, ARTICLE, field_name, zh, en))

    if not value_kg.is_finite() or value_kg < 0:
        bad("value_kg", "排放因子须为非负的有限数。", "A factor is a finite, non-negative number.")
    if gwp_basis not in GWP_BASES:
        bad("gwp_basis", f"全球增温潜势依据须为 {'/'.join(GWP_BASES)} 之一。",
            f"The GWP basis is one of {', '.join(GWP_BASES)}.")
    if effective_to is not None and effective_to < effective_from:
        bad("effective_to", "失效日期早于生效日期。", "effective_to is before effective_from.")
    if data_year > effective_from.year:
        bad("data_year", "数据年份晚于生效年份。", "The data year is after the year the factor takes effect.")
    if uncertainty_pct is not None and (not uncertainty_pct.is_finite() or not 0 <= uncertainty_pct <= 100):
        bad("uncertainty_pct", "不确定性须在 0–100% 之间。", "Uncertainty is between 0 and 100 %.")
    return problems


def citation(*, code: str, version: int, release_number: int, publisher: str, dataset: str,
             document_number: str | None, link: str | None, data_year: int, demo: bool) -> str:
    """How a statement or a report cites a factor: publisher, dataset, document number, year, release."""
    parts = [publisher, f"《{dataset}》"]
    if document_number:
        parts.append(document_number)
    parts.append(f"data year {data_year}")
    parts.append(f"{code}@{version}, Jiaxing factor release {release_number}")
    if link:
        parts.append(link)
    text = ", ".join(parts)
    return f"[DEMO — not an official value] {text}" if demo else text


def trace_hash(selections: Sequence[dict[str, object]]) -> str:
    """A SHA-256 over a calculation's lines (canonical JSON): recomputing an old calculation with the factor
    versions it recorded gives the same hash, so anyone can tell it was not changed."""
    canonical = json.dumps(list(selections), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
