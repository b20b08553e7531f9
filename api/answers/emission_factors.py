"""Answers of the emission-factor catalogue: a factor version with its citation, a release with its factors,
and a selection with its trace. The CSV of a release is made from the same rows as its JSON."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from registry.orm import EmissionFactor, FactorRelease
from registry.services import emission_factors as service
from rules.emission_factors import Selection

CSV_COLUMNS = ("code", "version", "release", "activity", "sector", "unit", "name_zh", "name_en", "region",
               "data_year", "value_kg", "gwp_basis", "effective_from", "effective_to", "publisher", "dataset",
               "document_number", "link", "uncertainty_pct", "quality_flags", "demo", "citation")


class FactorOut(BaseModel):
    code: str
    version: int
    label: str
    release: int
    activity: str
    sector: str
    unit: str
    name_zh: str
    name_en: str
    region: str
    data_year: int
    value_kg: str
    gases: dict[str, str]
    gwp_basis: str
    effective_from: str
    effective_to: str | None
    publisher: str
    dataset: str
    document_number: str | None
    link: str | None
    uncertainty_pct: str | None
    quality_flags: list[str]
    demo: bool
    supersedes_id: int | None
    citation: str


class ReleaseOut(BaseModel):
    number: int
    title: str
    note: str
    status: str
    notice_end: str | None
    published_at: str | None
    demo: bool
    factors: list[FactorOut]


class SelectionOut(BaseModel):
    factor: FactorOut
    asked_region: str
    fell_back: bool
    trace: dict[str, Any]


def factor_out(row: EmissionFactor, release_number: int) -> FactorOut:
    """A factor version as the API shows it."""
    return FactorOut(
        code=row.code, version=row.version, label=f"{row.code}@{row.version}", release=release_number,
        activity=row.activity, sector=row.sector, unit=row.unit, name_zh=row.name_zh, name_en=row.name_en,
        region=row.region, data_year=row.data_year, value_kg=format(row.value_kg, "f"),
        gases={k: str(v) for k, v in row.gases.items()}, gwp_basis=row.gwp_basis,
        effective_from=row.effective_from.isoformat(),
        effective_to=row.effective_to.isoformat() if row.effective_to else None, publisher=row.publisher,
        dataset=row.dataset, document_number=row.document_number, link=row.link,
        uncertainty_pct=format(row.uncertainty_pct, "f") if row.uncertainty_pct is not None else None,
        quality_flags=list(row.quality_flags), demo=row.demo, supersedes_id=row.supersedes_id,
        citation=service.citation(row, release_number))


def release_out(release: FactorRelease, factors: list[EmissionFactor]) -> ReleaseOut:
    """A release with its factors; `demo` when any of them is a demo value."""
    return ReleaseOut(number=release.number, title=release.title, note=release.note, status=release.status,
                      notice_end=release.notice_end.isoformat() if release.notice_end else None,
                      published_at=release.published_at.isoformat() if release.published_at else None,
                      demo=any(f.demo for f in factors), factors=[factor_out(f, release.number) for f in factors])


def selection_out(selection: Selection, row: EmissionFactor) -> SelectionOut:
    return SelectionOut(factor=factor_out(row, selection.factor.release_number), asked_region=selection.asked_region,
                        fell_back=selection.fell_back, trace=selection.trace())


def csv_row(factor: FactorOut) -> dict[str, Any]:
    """One CSV row of a factor (lists joined, so a spreadsheet shows them in one cell)."""
    row = factor.model_dump()
    row["quality_flags"] = ";".join(factor.quality_flags)
    return row
