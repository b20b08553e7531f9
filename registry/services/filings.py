"""Reduction filings (Art. 14–17): the owner files a monitoring period, commissions a verifier, applies
for filing with the documents of Art. 16; the review flow of Art. 17 ends in issuance.

The use cases a request makes (`create`, `commission`, `verify`, `apply`, `review`, `lodge_objection`) commit
their unit of work once, at their end; the other functions are steps and never commit."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from registry import numbering
from registry.errors import NotFound, RuleViolation, StateConflict
from registry.orm import Filing, FilingAsset, FilingDocument, Objection, Project
from registry.pagination import Page
from registry.principals import Principal
from registry.repositories import filings as repository
from registry.repositories import methodologies as methodology_repository
from registry.repositories import projects as project_repository
from registry.services import documents, methodologies, participants, projects, reviews
from registry.services.reviews import Subject, apply_action
from registry.services.rule_sets import rule_set_in_force
from registry.unit_of_work import UnitOfWork
from rules import duties, review_flow
from rules import filing as filing_rules
from rules.violations import Violation

PUBLIC_STATES = ("public_notice", "registered", "issued")
# The review steps that move a filing towards issuance: each re-checks uniqueness (Art. 13(3)).
APPROVING_ACTIONS = ("center_approve", "expert_approve", "bureau_approve", "register")
LIVE_STATES = ("submitted", "center_approved", "expert_review", "expert_approved", "public_notice", "registered",
               "issued")


def subject(filing: Filing) -> Subject:
    return Subject("filing", review_flow.FILING_FLOW, filing)


def can_see(viewer: Principal | None, filing: Filing) -> bool:
    """The owner, its commissioned verifier and the reviewers see a filing; the public once it is in notice."""
    if filing.status in PUBLIC_STATES:
        return True
    if viewer is None:
        return False
    return (viewer.participant_id in (filing.owner_participant_id, filing.verifier_participant_id)
            or viewer.is_reviewer)


def get_filing(uow: UnitOfWork, viewer: Principal | None, filing_id: int, for_update: bool = False) -> Filing:
    filing = repository.filing(uow.session, filing_id, for_update=for_update)
    if filing is None or not can_see(viewer, filing):
        raise NotFound(f"Filing {filing_id} not found.", f"未找到备案 {filing_id}。")
    return filing


def _own(filing: Filing, principal: Principal) -> None:
    if filing.owner_participant_id != principal.participant_id:
        raise NotFound(f"Filing {filing.id} not found.", f"未找到备案 {filing.id}。")


def _require_status(filing: Filing, *allowed: str) -> None:
    if filing.status not in allowed:
        raise StateConflict(f"The filing is {filing.status}; this needs {' or '.join(allowed)}.",
                            f"备案状态为 {filing.status}，此操作需要 {' 或 '.join(allowed)}。")


def _other_filings(uow: UnitOfWork, project_id: int, assets: list[str], exclude: int | None) -> list[
        filing_rules.FiledPeriod]:
    result = []
    for row in repository.periods_filed_for(uow.session, project_id, assets, LIVE_STATES):
        if row.id == exclude:
            continue
        their_assets = repository.claimed_assets(uow.session, row.id)
        result.append(filing_rules.FiledPeriod(row.id, row.project_id, their_assets, row.monitoring_start,
                                               row.monitoring_end))
    return result


def _period_and_counting(uow: UnitOfWork, filing: Filing, project: Project, application_date: date) -> list[Violation]:
    rule_set = rule_set_in_force(uow, application_date)
    assets = projects.assets_of(uow, project.id)
    problems = filing_rules.check_monitoring_period(filing.monitoring_start, filing.monitoring_end,
                                                    project.crediting_start, project.crediting_end,
                                                    application_date, rule_set)
    problems += filing_rules.check_double_counting(project.id, assets, filing.monitoring_start,
                                                   filing.monitoring_end,
                                                   _other_filings(uow, project.id, assets, filing.id),
                                                   filing_id=filing.id)
    return problems


def create(uow: UnitOfWork, principal: Principal, *, project_id: int, monitoring_start: date, monitoring_end: date,
           inputs: dict[str, Decimal], report_sha256: str, report_preparer_participant_id: int) -> Filing:
    """File a monitoring period: the reductions are computed now with the methodology version of the project
    and the parameter versions in force at the period's start, and the full trace is kept (Art. 14)."""
    participants.require_active(uow, principal.participant_id, "file reductions", "申报减排量")
    project = projects.get_project(uow, principal, project_id)
    if project.owner_participant_id != principal.participant_id:
        raise NotFound(f"Project {project_id} not found.", f"未找到项目 {project_id}。")
    if project.status != "registered":
        raise StateConflict("Only a registered project can file reductions.", "只有已登记的项目可以申报减排量。")
    try:
        participants.get_participant(uow, report_preparer_participant_id)
    except NotFound:
        raise NotFound("The organisation that prepared the report is unknown.", "未找到编制核算报告的机构。") from None
    documents.require_usable(uow, principal, report_sha256, "report_sha256")
    version = methodology_repository.version(uow.session, project.methodology_version_id)
    assert version is not None
    result = methodologies.calculate(uow, version, inputs, monitoring_start)
    filing = Filing(
        project_id=project.id, owner_participant_id=principal.participant_id, methodology_version_id=version.id,
        monitoring_start=monitoring_start, monitoring_end=monitoring_end,
        inputs={k: format(v, "f") for k, v in inputs.items()},
        calculation={"trace": [
            {"name": t.name, "label_zh": t.label_zh, "label_en": t.label_en, "unit": t.unit,
             "expression": t.expression, "substituted": t.substituted, "value": format(t.value, "f")}
            for t in result.calculation.trace],
            "parameters": {c: {"version": v.version, "value": format(v.value, "f"), "source": v.source}
                           for c, v in result.parameter_versions.items()},
            "on": result.on.isoformat()},
        calculated_tco2e=result.calculation.result, report_sha256=report_sha256,
        report_preparer_participant_id=report_preparer_participant_id, status="draft", created_at=uow.now(),
    )
    problems = _period_and_counting(uow, filing, project, uow.today())
    if result.calculation.result <= 0:
        problems.append(Violation("JX-28", "Art. 28", "inputs", "计算的减排量不大于零，无可申报的减排量。",
                                  "The calculated reduction is not above zero; there is nothing to file."))
    if problems:
        raise RuleViolation(problems)
    uow.session.add(filing)
    uow.session.flush()
    uow.session.add(FilingDocument(filing_id=filing.id, kind="accounting_report", sha256=report_sha256))
    uow.audit("filing.created", "filing", filing.id,
              {"project_id": project.id, "monitoring_start": monitoring_start, "monitoring_end": monitoring_end,
               "calculated_tco2e": filing.calculated_tco2e, "parameters": filing.calculation["parameters"]})
    uow.commit()
    return filing


def commission(uow: UnitOfWork, principal: Principal, filing_id: int, verifier_participant_id: int) -> Filing:
    """The owner commissions a verifier (Art. 15); one that prepared the report, or the owner itself, may not."""
    filing = get_filing(uow, principal, filing_id, for_update=True)
    _own(filing, principal)
    _require_status(filing, "draft", "commissioned")
    if "verifier" not in participants.organisation_roles(uow, verifier_participant_id):
        raise NotFound("No verifier organisation with that id.", "未找到该核查机构。")
    participants.require_active(uow, verifier_participant_id, "verify reductions", "核查减排量")
    problems = filing_rules.check_verifier_independence(verifier_participant_id,
                                                        filing.report_preparer_participant_id,
                                                        filing.owner_participant_id)
    if problems:
        raise RuleViolation(problems)
    filing.verifier_participant_id = verifier_participant_id
    filing.status = "commissioned"
    # The verifier must read what it verifies: the accounting report and the filing's other documents.
    for attached in documents_of(uow, filing.id):
        documents.grant_to(uow, attached.sha256, verifier_participant_id, f"{filing.id}-{attached.kind}")
    uow.audit("filing.commissioned", "filing", filing.id, {"verifier_participant_id": verifier_participant_id})
    uow.commit()
    return filing


def verify(uow: UnitOfWork, principal: Principal, filing_id: int, *, verified_tco2e: Decimal,
           statement_sha256: str, reason: str | None) -> Filing:
    """The commissioned verifier's statement (核证表): a quantity never above the claim, with reasons if lower."""
    filing = get_filing(uow, principal, filing_id, for_update=True)
    if filing.verifier_participant_id != principal.participant_id:
        raise NotFound(f"Filing {filing_id} not found.", f"未找到备案 {filing_id}。")
    _require_status(filing, "commissioned")
    participants.require_active(uow, principal.participant_id, "verify reductions", "核查减排量")
    documents.require_usable(uow, principal, statement_sha256, "statement_sha256")
    problems = duties.check_own_interest(duties.VERIFY, principal.participant_id, {filing.owner_participant_id})
    problems += projects.other_mechanism_violations(uow, filing.project_id)
    problems += filing_rules.check_verified_quantity(filing.calculated_tco2e, verified_tco2e, reason)
    if problems:
        raise RuleViolation(problems)
    filing.verified_tco2e = verified_tco2e
    filing.verification_statement_sha256 = statement_sha256
    filing.verification_reason = reason
    filing.verified_at = uow.now()
    filing.status = "verified"
    uow.session.merge(FilingDocument(filing_id=filing.id, kind="verification_statement", sha256=statement_sha256))
    uow.audit("filing.verified", "filing", filing.id, {"verified_tco2e": verified_tco2e, "reason": reason})
    uow.commit()
    return filing


def apply(uow: UnitOfWork, principal: Principal, filing_id: int, attachments: list[dict[str, str]]) -> Filing:
    """Apply for filing (Art. 16): every required document present, the period and uniqueness re-checked on
    the application date; the claimed assets become live so no other filing can count them again."""
    participants.require_active(uow, principal.participant_id, "file reductions", "申报减排量")
    filing = get_filing(uow, principal, filing_id, for_update=True)
    _own(filing, principal)
    _require_status(filing, "verified")
    today = uow.today()
    rule_set = rule_set_in_force(uow, today)
    # The report came with the filing and the statement from the verifier: the owner adds only the rest.
    owner_kinds = set(rule_set.required_filing_documents) - {"accounting_report", "verification_statement"}
    problems = [Violation("JX-16", "Art. 16", f"documents[{index}].kind",
                          f"申请时只能附 {', '.join(sorted(owner_kinds))}。",
                          f"At application only {', '.join(sorted(owner_kinds))} may be attached.")
                for index, item in enumerate(attachments) if item["kind"] not in owner_kinds]
    if problems:
        raise RuleViolation(problems)
    for index, item in enumerate(attachments):
        documents.require_usable(uow, principal, item["sha256"], f"documents[{index}].sha256")
        uow.session.merge(FilingDocument(filing_id=filing.id, kind=item["kind"], sha256=item["sha256"]))
    uow.session.flush()
    project = project_repository.project(uow.session, filing.project_id)
    assert project is not None
    present = repository.document_kinds(uow.session, filing.id)
    problems = filing_rules.check_filing_documents(present, rule_set)
    problems += _period_and_counting(uow, filing, project, today)
    if problems:
        raise RuleViolation(problems)
    filing.code = f"JXF-{today.year}-{numbering.take(uow, 'filing'):05d}"
    filing.status = "submitted"
    filing.application_date = today
    filing.submitted_at = uow.now()
    for asset in projects.assets_of(uow, project.id):
        uow.session.add(FilingAsset(filing_id=filing.id, asset_identifier=asset,
                                    monitoring_start=filing.monitoring_start, monitoring_end=filing.monitoring_end,
                                    live=True))
    uow.audit("filing.applied", "filing", filing.id, {"code": filing.code, "documents": sorted(present)})
    uow.commit()
    return filing


def review(uow: UnitOfWork, principal: Principal, filing_id: int, action: str, comment: str) -> Filing:
    """One Art. 17 review step; a rejection frees the claimed assets for a corrected filing."""
    if action == "issue":
        raise StateConflict("Issue through POST /filings/{id}/issue.", "请通过签发接口签发。")
    filing = get_filing(uow, principal, filing_id, for_update=True)
    apply_action(uow, principal, subject(filing), action, comment, rule_set_in_force(uow, uow.today()).notice_days)
    if action in APPROVING_ACTIONS:
        require_unique(uow, filing)  # after the step's own checks; a refusal here rolls the step back
    if filing.status == "rejected":
        release_assets(uow, filing.id)
    uow.commit()
    return filing


def require_unique(uow: UnitOfWork, filing: Filing) -> None:
    """Art. 13(3) again before a filing moves on: refused when its project turned out to be registered in
    another mechanism after it was registered here (the violation names the registration)."""
    problems = projects.other_mechanism_violations(uow, filing.project_id)
    if problems:
        raise RuleViolation(problems)


def release_assets(uow: UnitOfWork, filing_id: int) -> None:
    for asset in repository.filing_assets(uow.session, filing_id):
        asset.live = False


def list_filings(uow: UnitOfWork, viewer: Principal | None, *, mine: bool, status: str | None,
                 project_id: int | None, offset: int, limit: int) -> Page[Filing]:
    if viewer is None or not (viewer.is_reviewer or mine):
        states: tuple[str, ...] | None = PUBLIC_STATES
        of_participant = None
    else:
        states = None
        of_participant = viewer.participant_id if mine else None
    return repository.filing_page(uow.session, states=states, of_participant=of_participant, status=status,
                                  project_id=project_id, offset=offset, limit=limit)


def documents_of(uow: UnitOfWork, filing_id: int) -> list[FilingDocument]:
    return repository.documents_of(uow.session, filing_id)


def lodge_objection(uow: UnitOfWork, viewer: Principal | None, filing_id: int, *, objector_name: str,
                    objector_contact: str, text: str) -> Objection:
    """Anyone objects to a filing in public notice."""
    filing = get_filing(uow, viewer, filing_id, for_update=True)
    objection = reviews.lodge_objection(uow, "filing", filing.id, filing.status, filing.notice_end,
                                        objector_name=objector_name, objector_contact=objector_contact, text=text)
    uow.commit()
    return objection
