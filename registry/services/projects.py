"""Projects (碳普惠项目): drafted by an owner, checked against Art. 12–13, registered with their assets.

An owner's use cases (`create_draft`, `submit`) commit their unit of work once, at their end; the other
functions are steps and never commit."""

from __future__ import annotations

from datetime import date
from typing import Any

from registry import numbering
from registry.errors import NotFound, RuleViolation, StateConflict
from registry.orm import Participant, Project, ProjectAsset, ProjectDocument
from registry.pagination import Page
from registry.principals import Principal
from registry.repositories import external_registrations as registration_repository
from registry.repositories import projects as repository
from registry.services import documents as document_service
from registry.services import participants
from registry.services.methodologies import registered_version
from registry.services.rule_sets import rule_set_in_force
from registry.unit_of_work import UnitOfWork
from rules import eligibility
from rules.violations import Violation


def create_draft(uow: UnitOfWork, principal: Principal, data: dict[str, Any]) -> Project:
    """Save an owner's project as a draft; nothing is checked against the rules until it is submitted."""
    participants.require_active(uow, principal.participant_id, "file projects", "申报项目")
    registered_version(uow, data["methodology_version_id"])
    assets = data.pop("asset_identifiers")
    documents = data.pop("documents")
    project = Project(owner_participant_id=principal.participant_id, status="draft", created_at=uow.now(), **data)
    uow.session.add(project)
    uow.session.flush()
    _replace_assets(uow, project, assets)
    _attach_documents(uow, principal, project, documents)
    uow.audit("project.drafted", "project", project.id, {**data, "asset_identifiers": assets})
    uow.commit()
    return project


def _replace_assets(uow: UnitOfWork, project: Project, identifiers: list[str]) -> None:
    for existing in repository.project_assets(uow.session, project.id):
        uow.session.delete(existing)
    uow.session.flush()
    seen: set[str] = set()
    for raw in identifiers:
        normal = eligibility.normalise_asset_identifier(raw)
        if normal in seen:
            continue  # duplicates are reported by the eligibility check from the raw list
        seen.add(normal)
        uow.session.add(ProjectAsset(project_id=project.id, asset_identifier=normal,
                                     crediting_start=project.crediting_start,
                                     crediting_end=project.crediting_end, live=False))


def _attach_documents(uow: UnitOfWork, principal: Principal, project: Project,
                      documents: list[dict[str, str]]) -> None:
    for index, item in enumerate(documents):
        doc = document_service.require_usable(uow, principal, item["sha256"], f"documents[{index}].sha256",
                                              article="JX-14")
        uow.session.merge(ProjectDocument(project_id=project.id, sha256=doc.sha256, kind=item["kind"]))


def can_see(viewer: Principal | None, project: Project) -> bool:
    """Drafts only to their owner; registered projects to everyone (public fields)."""
    if project.status != "draft":
        return True
    return viewer is not None and viewer.participant_id == project.owner_participant_id


def get_project(uow: UnitOfWork, viewer: Principal | None, project_id: int, for_update: bool = False) -> Project:
    project = repository.project(uow.session, project_id, for_update=for_update)
    if project is None or not can_see(viewer, project):
        raise NotFound(f"Project {project_id} not found.", f"未找到项目 {project_id}。")
    return project


def assets_of(uow: UnitOfWork, project_id: int) -> list[str]:
    return repository.asset_identifiers(uow.session, project_id)


def documents_of(uow: UnitOfWork, project_id: int) -> list[ProjectDocument]:
    return repository.documents_of(uow.session, project_id)


def owner_of(uow: UnitOfWork, project: Project) -> Participant:
    """The participant that owns the project."""
    return participants.get_participant(uow, project.owner_participant_id)


def check(uow: UnitOfWork, project: Project, application_date: date,
          raw_identifiers: list[str] | None = None) -> list[Violation]:
    """Every Art. 12–13 violation of this project, against the live projects and the imported
    registrations of other mechanisms."""
    version = registered_version(uow, project.methodology_version_id)
    rule_set = rule_set_in_force(uow, application_date)
    identifiers = raw_identifiers if raw_identifiers is not None else assets_of(uow, project.id)
    normal = [eligibility.normalise_asset_identifier(i) for i in identifiers]
    owner = owner_of(uow, project)
    facts = eligibility.ProjectFacts(
        county_code=project.county_code,
        industry_code=project.industry_code,
        owner_kind=project.owner_kind,
        owner_credit_code=owner.credit_code,
        crediting_start=project.crediting_start,
        crediting_end=project.crediting_end,
        application_date=application_date,
        asset_identifiers=tuple(identifiers),
        declared_other_mechanisms=tuple(project.declared_other_mechanisms),
        legal_reduction_obligation=project.legal_reduction_obligation,
        methodology_inclusive_owner_kinds=frozenset(version.definition["inclusive_owner_kinds"]),
    )
    live_projects = [
        eligibility.LiveProject(row.project_id, (row.asset_identifier,), row.crediting_start, row.crediting_end)
        for row in repository.live_assets_elsewhere(uow.session, normal, project.id)
    ]
    externals = _external_registrations(uow, normal, facts.owner_credit_code)
    return eligibility.check_project(facts, rule_set, live_projects, externals)


def _external_registrations(uow: UnitOfWork, normal_identifiers: list[str],
                            owner_credit_code: str | None) -> list[eligibility.ExternalRegistration]:
    """The imported registrations of other mechanisms naming one of these assets or the owner."""
    return [eligibility.ExternalRegistration(r.mechanism, r.external_id, r.asset_identifier, r.credit_code)
            for r in registration_repository.registrations_naming(uow.session, normal_identifiers,
                                                                  owner_credit_code)]


def other_mechanism_violations(uow: UnitOfWork, project_id: int) -> list[Violation]:
    """Art. 13(3) again for a registered project: a registration in another mechanism imported since it was
    registered stops its filings from being verified, approved or issued."""
    project = repository.project(uow.session, project_id)
    if project is None:
        raise NotFound(f"Project {project_id} not found.", f"未找到项目 {project_id}。")
    credit_code = owner_of(uow, project).credit_code
    assets = assets_of(uow, project.id)
    return eligibility.check_other_registrations(assets, credit_code,
                                                 _external_registrations(uow, assets, credit_code))


def submit(uow: UnitOfWork, principal: Principal, project_id: int) -> Project:
    """Register a draft that passes every eligibility rule; refuse it with all violations otherwise."""
    participants.require_active(uow, principal.participant_id, "file projects", "申报项目")
    project = get_project(uow, principal, project_id, for_update=True)
    if project.owner_participant_id != principal.participant_id:
        raise NotFound(f"Project {project_id} not found.", f"未找到项目 {project_id}。")
    if project.status != "draft":
        raise StateConflict(f"Project is {project.status}; only a draft can be submitted.",
                            f"项目状态为 {project.status}，只有草稿可以提交。")
    problems = check(uow, project, uow.today())
    if problems:
        raise RuleViolation(problems)
    rule_set = rule_set_in_force(uow, uow.today())
    project.code = f"JXP-{project.county_code}-{uow.today().year}-{numbering.take(uow, 'project'):05d}"
    project.status = "registered"
    project.rule_set_code = rule_set.code
    project.registered_at = uow.now()
    for asset in repository.project_assets(uow.session, project.id):
        asset.live = True
    uow.audit("project.registered", "project", project.id,
              {"code": project.code, "rule_set": rule_set.code, "asset_identifiers": assets_of(uow, project.id)})
    uow.commit()
    return project


def eligibility_today(uow: UnitOfWork, principal: Principal, project_id: int) -> list[Violation]:
    """Every Art. 12–13 violation the owner's project would be refused for today (nothing is saved)."""
    project = get_project(uow, principal, project_id)
    if project.owner_participant_id != principal.participant_id:
        raise NotFound(f"Project {project_id} not found.", f"未找到项目 {project_id}。")
    return check(uow, project, uow.today())


def list_projects(uow: UnitOfWork, viewer: Principal | None, *, mine: bool, county_code: str | None,
                  status: str | None, offset: int, limit: int) -> Page[Project]:
    owner = viewer.participant_id if mine and viewer is not None else None
    return repository.project_page(uow.session, owner_participant_id=owner, county_code=county_code,
                                   status=status, offset=offset, limit=limit)

