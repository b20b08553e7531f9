"""Methodologies (方法学): submission by anyone, the Art. 10 review, registration, and calculation.

The use cases a request makes (`submit`, `submit_revision`, `review`, `lodge_objection`) commit their unit of
work once, at their end; the other functions are steps of a larger use case and never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from registry import numbering
from registry.errors import NotFound, RuleViolation
from registry.orm import Methodology, MethodologyVersion, Objection, ParameterVersion
from registry.pagination import Page
from registry.principals import Principal
from registry.repositories import methodologies as repository
from registry.repositories import parameters as parameter_repository
from registry.services import parameters as parameter_service
from registry.services import reviews
from registry.services.reviews import Subject, apply_action
from registry.services.rule_sets import rule_set_in_force
from registry.unit_of_work import UnitOfWork
from rules import formula, review_flow
from rules.violations import Violation

PUBLIC_STATES = ("public_notice", "registered")


def calculation_steps(definition: dict[str, Any]) -> list[formula.CalculationStep]:
    return [
        formula.CalculationStep(s["name"], s["expression"], s["label_zh"], s["label_en"], s["unit"])
        for s in definition["calculation"]
    ]


def check_definition(uow: UnitOfWork, definition: dict[str, Any]) -> list[Violation]:
    """Every step evaluates over known inputs, parameters and earlier steps; every parameter exists."""
    problems = formula.check_calculation(
        calculation_steps(definition),
        {i["name"] for i in definition["inputs"]},
        set(definition["parameters"]),
    )
    known = parameter_repository.registered_codes(uow.session, definition["parameters"])
    for index, code in enumerate(definition["parameters"]):
        if code not in known:
            problems.append(Violation("JX-11", "Art. 11", f"definition.parameters[{index}]",
                                      f"参数 {code} 未登记；请先由市生态环境局发布该参数。",
                                      f"Parameter {code} is not registered; the bureau must publish it first."))
    return problems


def _next_code(uow: UnitOfWork) -> str:
    year = uow.today().year
    return f"JXM-{year}-{numbering.take(uow, 'methodology'):03d}"


def submit(uow: UnitOfWork, principal: Principal, *, title_zh: str, title_en: str, field: str,
           definition: dict[str, Any]) -> MethodologyVersion:
    """Anyone with an account may propose a methodology (Art. 7, 9); it starts the Art. 10 review."""
    problems = check_definition(uow, definition)
    if problems:
        raise RuleViolation(problems)
    methodology = Methodology(code=_next_code(uow), title_zh=title_zh, title_en=title_en, field=field,
                              proposer_participant_id=principal.participant_id, created_at=uow.now())
    uow.session.add(methodology)
    uow.session.flush()
    version = _add_version(uow, principal, methodology, definition)
    uow.commit()
    return version


def submit_revision(uow: UnitOfWork, principal: Principal, methodology_id: int,
                    definition: dict[str, Any]) -> MethodologyVersion:
    """A new version of an existing methodology, by its proposer or the bureau; reviewed afresh."""
    methodology = get_methodology(uow, principal, methodology_id)
    if methodology.proposer_participant_id != principal.participant_id and not principal.has("bureau"):
        raise NotFound(f"Methodology {methodology_id} not found.", f"未找到方法学 {methodology_id}。")
    problems = check_definition(uow, definition)
    if problems:
        raise RuleViolation(problems)
    version = _add_version(uow, principal, methodology, definition)
    uow.commit()
    return version


def _add_version(uow: UnitOfWork, principal: Principal, methodology: Methodology,
                 definition: dict[str, Any]) -> MethodologyVersion:
    last = repository.last_version_number(uow.session, methodology.id)
    version = MethodologyVersion(methodology_id=methodology.id, version=last + 1, status="submitted",
                                 definition=definition, submitted_by=principal.user_id, submitted_at=uow.now())
    uow.session.add(version)
    uow.session.flush()
    uow.audit("methodology_version.submitted", "methodology_version", version.id,
              {"methodology": methodology.code, "version": version.version, "definition": definition})
    return version


def can_see(viewer: Principal | None, methodology: Methodology, version: MethodologyVersion) -> bool:
    """The public sees what is in notice or registered; the proposer and the reviewers see the rest."""
    if version.status in PUBLIC_STATES:
        return True
    if viewer is None:
        return False
    return viewer.is_reviewer or viewer.participant_id == methodology.proposer_participant_id


def get_methodology(uow: UnitOfWork, viewer: Principal | None, methodology_id: int) -> Methodology:
    """The methodology, if the viewer may see one of its versions."""
    methodology = repository.methodology(uow.session, methodology_id)
    if methodology is None or not any(can_see(viewer, methodology, v) for v in versions_of(uow, methodology.id)):
        raise NotFound(f"Methodology {methodology_id} not found.", f"未找到方法学 {methodology_id}。")
    return methodology


def versions_of(uow: UnitOfWork, methodology_id: int) -> list[MethodologyVersion]:
    return repository.versions_of(uow.session, methodology_id)


def visible_versions(uow: UnitOfWork, viewer: Principal | None,
                     methodology_id: int) -> tuple[Methodology, list[MethodologyVersion]]:
    """The methodology with the versions the viewer may see, oldest first."""
    methodology = get_methodology(uow, viewer, methodology_id)
    return methodology, [v for v in versions_of(uow, methodology.id) if can_see(viewer, methodology, v)]


def methodology_of(uow: UnitOfWork, version: MethodologyVersion) -> Methodology:
    """The methodology a version belongs to."""
    methodology = repository.methodology(uow.session, version.methodology_id)
    assert methodology is not None
    return methodology


def get_version(uow: UnitOfWork, viewer: Principal | None, version_id: int,
                for_update: bool = False) -> tuple[Methodology, MethodologyVersion]:
    version = repository.version(uow.session, version_id, for_update=for_update)
    methodology = repository.methodology(uow.session, version.methodology_id) if version else None
    if version is None or methodology is None or not can_see(viewer, methodology, version):
        raise NotFound(f"Methodology version {version_id} not found.", f"未找到方法学版本 {version_id}。")
    return methodology, version


def list_versions(uow: UnitOfWork, viewer: Principal | None, *, status: str | None, field: str | None,
                  offset: int, limit: int) -> Page[Any]:
    """Versions the viewer may see, newest first, with their methodology."""
    if viewer is None:
        return repository.version_page(uow.session, states=PUBLIC_STATES, or_proposer=None, status=status,
                                       field=field, offset=offset, limit=limit)
    return repository.version_page(uow.session, states=None if viewer.is_reviewer else PUBLIC_STATES,
                                   or_proposer=viewer.participant_id, status=status, field=field, offset=offset,
                                   limit=limit)


def review(uow: UnitOfWork, principal: Principal, version_id: int, action: str, comment: str) -> MethodologyVersion:
    """One Art. 10 review step by the role it belongs to."""
    _, version = get_version(uow, principal, version_id, for_update=True)
    notice_days = rule_set_in_force(uow, uow.today()).notice_days
    apply_action(uow, principal, subject(version), action, comment, notice_days)
    if version.status == "registered":
        version.registered_at = uow.now()
    uow.commit()
    return version


def lodge_objection(uow: UnitOfWork, viewer: Principal | None, version_id: int, *, objector_name: str,
                    objector_contact: str, text: str) -> Objection:
    """Anyone objects to a methodology version in public notice."""
    _, version = get_version(uow, viewer, version_id, for_update=True)
    objection = reviews.lodge_objection(uow, "methodology_version", version.id, version.status, version.notice_end,
                                        objector_name=objector_name, objector_contact=objector_contact, text=text)
    uow.commit()
    return objection


def subject(version: MethodologyVersion) -> Subject:
    return Subject("methodology_version", review_flow.METHODOLOGY_FLOW, version)


@dataclass(frozen=True, slots=True)
class CalculationResult:
    calculation: formula.Calculation
    parameter_versions: dict[str, ParameterVersion]
    on: date


def calculate(uow: UnitOfWork, version: MethodologyVersion, inputs: dict[str, Decimal],
              on: date) -> CalculationResult:
    """Evaluate the methodology's calculation table with the parameter versions in force on `on`."""
    codes = version.definition["parameters"]
    chosen = parameter_service.versions_in_force(uow, codes, on)
    try:
        calculation = formula.evaluate(
            calculation_steps(version.definition), inputs, {c: v.value for c, v in chosen.items()},
            input_names={i["name"] for i in version.definition["inputs"]},
        )
    except formula.FormulaError as exc:
        raise RuleViolation(exc.violations) from exc
    return CalculationResult(calculation, chosen, on)


def registered_version(uow: UnitOfWork, version_id: int) -> MethodologyVersion:
    """A methodology version a project may be registered under (Art. 10: only registered ones)."""
    version = repository.version(uow.session, version_id)
    if version is None or version.status != "registered":
        raise RuleViolation([Violation("JX-10", "Art. 10", "methodology_version_id",
                                       "项目须采用已登记发布的方法学版本。",
                                       "A project must use a registered and published methodology version.")])
    return version
