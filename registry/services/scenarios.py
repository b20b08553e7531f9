"""Reduction scenarios (减排场景): an operator registers one on its registered project (Art. 12–13 were checked
when the project was registered), with the per-behaviour formula of the project's methodology version and the
limits residents earn under; the public sees per-scenario totals; a month of a scenario's counted grams
becomes a draft filing of floor(Σ g / 10^6) t with the record file (CSV, named by its SHA-256) as evidence,
after which the usual verification, notice and issuance to the operator follow (Art. 14–17, 28)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from registry.documents import DocumentStore
from registry.errors import NotFound, RuleViolation, StateConflict
from registry.orm import (
    Document,
    Filing,
    FilingDocument,
    ReductionScenario,
    ScenarioFiling,
)
from registry.principals import Principal
from registry.repositories import documents as document_repository
from registry.repositories import methodologies as methodology_repository
from registry.repositories import parameters as parameter_repository
from registry.repositories import points as repo
from registry.services import documents, projects
from registry.services.points import violation
from registry.unit_of_work import UnitOfWork
from rules import points as rules
from rules.violations import Violation


@dataclass(frozen=True, slots=True)
class ScenarioTerms:
    code: str
    title_zh: str
    title_en: str
    behaviour: str
    activity_key: str
    baseline_g_per_km: int
    mode_g_per_km: int
    parameter_versions: dict[str, int]
    max_grams_per_record: int
    daily_grams: int
    yearly_points: int
    late_days: int
    points_per_kg: int
    duplicate_window_s: int
    max_accounts_per_device: int


def register(uow: UnitOfWork, principal: Principal, project_id: int, terms: ScenarioTerms) -> ReductionScenario:
    """The project's owner registers a scenario on its registered project."""
    project = projects.get_project(uow, principal, project_id)
    if project.owner_participant_id != principal.participant_id:
        raise NotFound(f"Project {project_id} not found.", f"未找到项目 {project_id}。")
    if project.status != "registered":
        raise StateConflict("Only a registered project can run a scenario.", "只有已登记的项目可以设立减排场景。")
    if repo.scenario_of_project(uow.session, project.id) is not None:
        raise StateConflict("The project already runs a scenario.", "该项目已设立减排场景。")
    version = methodology_repository.version(uow.session, project.methodology_version_id)
    assert version is not None
    problems = []
    for code, number in terms.parameter_versions.items():
        found = parameter_repository.version_id_of(uow.session, code, number)
        if found is None:
            problems.append(Violation("JX-11", "Art. 11", f"parameter_versions.{code}", "未找到该参数版本。",
                                      "No such parameter version."))
    if terms.mode_g_per_km >= terms.baseline_g_per_km:
        problems.append(Violation("JX-28", "Art. 28", "formula", "出行方式排放不低于基准，无减排量。",
                                  "The mode emits no less than the baseline: there is no reduction."))
    if problems:
        raise RuleViolation(problems)
    scenario = ReductionScenario(
        code=terms.code, project_id=project.id, operator_participant_id=principal.participant_id,
        methodology_version_id=version.id, title_zh=terms.title_zh, title_en=terms.title_en,
        behaviour=terms.behaviour,
        formula={"activity_key": terms.activity_key, "baseline_g_per_km": terms.baseline_g_per_km,
                 "mode_g_per_km": terms.mode_g_per_km, "parameter_versions": terms.parameter_versions,
                 "expression": f"floor(({terms.baseline_g_per_km} - {terms.mode_g_per_km}) g/km × "
                               f"{terms.activity_key} m / 1000)"},
        max_grams_per_record=terms.max_grams_per_record, daily_grams=terms.daily_grams,
        yearly_points=terms.yearly_points, late_days=terms.late_days, points_per_kg=terms.points_per_kg,
        duplicate_window_s=terms.duplicate_window_s, max_accounts_per_device=terms.max_accounts_per_device,
        status="active", created_at=uow.now())
    uow.session.add(scenario)
    uow.session.flush()
    uow.audit("scenario.registered", "reduction_scenario", scenario.id,
              {"code": scenario.code, "project_id": project.id, "formula": scenario.formula})
    uow.commit()
    return scenario


def get(uow: UnitOfWork, scenario_id: int) -> ReductionScenario:
    found = repo.scenario(uow.session, scenario_id)
    if found is None:
        raise NotFound(f"Scenario {scenario_id} not found.", f"未找到减排场景 {scenario_id}。")
    return found


def listed(uow: UnitOfWork) -> list[ReductionScenario]:
    return repo.scenarios(uow.session)


def public_totals(uow: UnitOfWork) -> dict[int, dict[str, int]]:
    """Per scenario: residents, tonnes counted (whole, down), points issued (no one's records)."""
    totals = repo.scenario_totals(uow.session)
    return {sid: {"residents": t["residents"], "tonnes": rules.tonnes_of(t["grams"]),
                  "points_issued": t.get("points_issued", 0)} for sid, t in totals.items()}


def _month_bounds(month: str) -> tuple[date, date, datetime, datetime]:
    first = date.fromisoformat(month + "-01")
    following = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    start = datetime.combine(first, time(), rules.JIAXING)
    end = datetime.combine(following, time(), rules.JIAXING)
    return first, following - timedelta(days=1), start, end


def file_month(uow: UnitOfWork, store: DocumentStore, principal: Principal, scenario_id: int,
               month: str) -> ScenarioFiling:
    """Aggregate the scenario's counted records of a Jiaxing month into a draft filing by the operator:
    floor(Σ g / 10^6) t (Art. 28), citing the record count, the formula and its parameter versions, with the
    records as a CSV document named by its SHA-256. A month is filed once (database constraint)."""
    scenario = repo.scenario(uow.session, scenario_id, for_update=True)
    if scenario is None or scenario.operator_participant_id != principal.participant_id:
        raise NotFound(f"Scenario {scenario_id} not found.", f"未找到减排场景 {scenario_id}。")
    first, last, start, end = _month_bounds(month)
    if uow.now() < end + timedelta(days=scenario.late_days):
        raise RuleViolation([violation(rules.MONTH_OPEN, "month")])
    if month in repo.filed_months(uow.session, scenario.id):
        raise StateConflict("That month was filed already.", "该月已汇总申报。")
    records = repo.counted_records(uow.session, scenario.id, start, end)
    grams = sum(r.grams for r in records)
    tonnes = rules.tonnes_of(grams)
    if tonnes <= 0:
        raise RuleViolation([Violation("JX-28", "Art. 28", "month", "该月减排量不足 1 吨，无可申报的减排量。",
                                       "The month's reduction is under one tonne: nothing to file.")])
    data = _records_csv(scenario, records)
    blob = store.put(data)
    if document_repository.document(uow.session, blob.sha256) is None:
        uow.session.add(Document(sha256=blob.sha256, size_bytes=blob.size_bytes, media_type="text/csv",
                                 filename=f"{blob.sha256}.csv", uploaded_by_participant_id=principal.participant_id,
                                 uploaded_at=uow.now()))
        uow.session.flush()
    documents.grant_to(uow, blob.sha256, principal.participant_id, f"{blob.sha256}.csv")
    parameters = scenario.formula.get("parameter_versions", {})
    filing = Filing(
        project_id=scenario.project_id, owner_participant_id=scenario.operator_participant_id,
        methodology_version_id=scenario.methodology_version_id, monitoring_start=first, monitoring_end=last,
        inputs={"record_count": str(len(records)), "grams": str(grams), "month": month},
        calculation={"trace": [{
            "name": "reduction_t", "label_zh": "场景月度减排量", "label_en": "the scenario's reductions of the month",
            "unit": "tCO2e", "expression": "floor(sum_grams / 1000000)", "substituted": f"floor({grams} / 1000000)",
            "value": str(tonnes)}],
            "parameters": {code: {"version": number} for code, number in parameters.items()},
            "scenario": {"code": scenario.code, "formula": scenario.formula, "record_count": len(records),
                         "grams": grams, "records_sha256": blob.sha256}},
        calculated_tco2e=Decimal(tonnes), report_sha256=blob.sha256,
        report_preparer_participant_id=scenario.operator_participant_id, status="draft", created_at=uow.now())
    uow.session.add(filing)
    uow.session.flush()
    uow.session.add(FilingDocument(filing_id=filing.id, kind="accounting_report", sha256=blob.sha256))
    aggregated = ScenarioFiling(scenario_id=scenario.id, month=month, filing_id=filing.id,
                                record_count=len(records), grams=grams, records_sha256=blob.sha256,
                                created_at=uow.now())
    uow.session.add(aggregated)
    uow.session.flush()
    uow.audit("scenario.month_filed", "reduction_scenario", scenario.id,
              {"month": month, "filing_id": filing.id, "record_count": len(records), "grams": grams,
               "tonnes": tonnes, "records_sha256": blob.sha256, "parameters": parameters})
    uow.commit()
    return aggregated


def _records_csv(scenario: ReductionScenario, records: list[Any]) -> bytes:
    """The month's counted records; residents appear by account number only (no name, no reference)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["record_id", "record_ref", "account", "started_at", "ended_at",
                     scenario.formula["activity_key"], "outcome", "grams"])
    for r in records:
        writer.writerow([r.id, r.record_ref, f"A{r.account_id}", r.started_at.isoformat(), r.ended_at.isoformat(),
                         r.activity.get(scenario.formula["activity_key"], ""), r.outcome, r.grams])
    return out.getvalue().encode()


def filings_of(uow: UnitOfWork, scenario_id: int) -> list[ScenarioFiling]:
    return repo.scenario_filings(uow.session, scenario_id)


def refusal_counts(uow: UnitOfWork, scenario_id: int) -> dict[tuple[str, str | None], int]:
    return repo.outcome_counts(uow.session, scenario_id)
