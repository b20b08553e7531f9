"""Registrations in other mechanisms (CCER, CDM, VCS, GS, other regions' schemes), imported from CSV so
that uniqueness (Art. 13(3)) can be checked."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from registry.errors import RuleViolation
from registry.orm import ExternalRegistration
from registry.pagination import Page
from registry.repositories import external_registrations as repository
from registry.services.rule_sets import rule_set_in_force
from registry.unit_of_work import UnitOfWork
from rules.eligibility import normalise_asset_identifier
from rules.violations import Violation

CSV_COLUMNS = ("mechanism", "external_id", "asset_identifier", "credit_code", "project_name")
MAX_ROWS = 100_000


@dataclass(frozen=True, slots=True)
class ImportResult:
    inserted: int
    updated: int


def _row_problems(line: int, row: dict[str, str], mechanisms: frozenset[str]) -> list[Violation]:
    problems = []
    if row["mechanism"] not in mechanisms:
        problems.append(Violation("JX-13-3", "Art. 13(3)", f"rows[{line}].mechanism",
                                  f"第 {line} 行：未知的减排机制 {row['mechanism']!r}。",
                                  f"Row {line}: unknown mechanism {row['mechanism']!r}."))
    if not row["external_id"] or len(row["external_id"]) > 100:
        problems.append(Violation("JX-13-3", "Art. 13(3)", f"rows[{line}].external_id",
                                  f"第 {line} 行：缺少或过长的登记编号。",
                                  f"Row {line}: the registration id is missing or too long."))
    if not row["asset_identifier"] and not row["credit_code"]:
        problems.append(Violation("JX-13-3", "Art. 13(3)", f"rows[{line}]",
                                  f"第 {line} 行：资产标识与统一社会信用代码至少填一项。",
                                  f"Row {line}: give an asset identifier or a credit code (or both)."))
    if row["credit_code"] and len(row["credit_code"]) != 18:
        problems.append(Violation("JX-13-3", "Art. 13(3)", f"rows[{line}].credit_code",
                                  f"第 {line} 行：统一社会信用代码应为 18 位。",
                                  f"Row {line}: a unified social credit code has 18 characters."))
    return problems


def import_csv(uow: UnitOfWork, text: str, mechanisms: frozenset[str]) -> ImportResult:
    """Insert or update rows keyed by (mechanism, external_id); a file with any bad row changes nothing."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise RuleViolation([Violation("JX-13-3", "Art. 13(3)", "header", f"缺少列：{', '.join(missing)}",
                                       f"Missing columns: {', '.join(missing)}")])
    rows: list[dict[str, str]] = []
    problems: list[Violation] = []
    for line, raw in enumerate(reader, start=2):
        if line - 1 > MAX_ROWS:
            problems.append(Violation("JX-13-3", "Art. 13(3)", None, f"超过 {MAX_ROWS} 行。",
                                      f"More than {MAX_ROWS} rows."))
            break
        row = {c: (raw.get(c) or "").strip() for c in CSV_COLUMNS}
        row["mechanism"] = row["mechanism"].upper()
        row["credit_code"] = row["credit_code"].upper()
        problems.extend(_row_problems(line, row, mechanisms))
        rows.append(row)
    if problems:
        raise RuleViolation(problems[:200])
    inserted = updated = 0
    for row in rows:
        existing = repository.registration(uow.session, row["mechanism"], row["external_id"])
        asset = normalise_asset_identifier(row["asset_identifier"]) if row["asset_identifier"] else None
        if existing is None:
            uow.session.add(ExternalRegistration(
                mechanism=row["mechanism"], external_id=row["external_id"], asset_identifier=asset,
                credit_code=row["credit_code"] or None, project_name=row["project_name"][:300],
                imported_at=uow.now()))
            inserted += 1
        else:
            existing.asset_identifier = asset
            existing.credit_code = row["credit_code"] or None
            existing.project_name = row["project_name"][:300]
            existing.imported_at = uow.now()
            updated += 1
    uow.audit("external_registrations.imported", "external_registrations", "csv",
              {"inserted": inserted, "updated": updated})
    return ImportResult(inserted, updated)


def list_registrations(uow: UnitOfWork, offset: int, limit: int) -> Page[ExternalRegistration]:
    return repository.registration_page(uow.session, offset, limit)


def import_file(uow: UnitOfWork, text: str) -> ImportResult:
    """Import a CSV file (see import_csv) against the mechanisms of the rule set in force today; commits."""
    result = import_csv(uow, text, rule_set_in_force(uow, uow.today()).other_mechanisms)
    uow.commit()
    return result
