"""Projects as the API answers them, with what an individual owner's privacy keeps from outsiders, and an
eligibility check's verdict."""

from __future__ import annotations

from pydantic import BaseModel

from api.schemas import ViolationOut
from registry.orm import Project
from registry.principals import Principal
from registry.services import participants
from registry.services import projects as project_service
from registry.unit_of_work import UnitOfWork
from rules.violations import Violation


class ProjectOut(BaseModel):
    id: int
    code: str | None
    status: str
    title: str
    description: str
    owner_participant_id: int
    owner_name: str
    methodology_version_id: int
    county_code: str
    address: str
    industry_code: str
    owner_kind: str
    crediting_start: str
    crediting_end: str
    legal_reduction_obligation: bool
    declared_other_mechanisms: list[str]
    asset_identifiers: list[str]
    rule_set_code: str | None
    registered_at: str | None


class EligibilityOut(BaseModel):
    eligible: bool
    violations: list[ViolationOut]


def project_out(uow: UnitOfWork, project: Project, viewer: Principal | None) -> ProjectOut:
    owner = project_service.owner_of(uow, project)
    insider = viewer is not None and (viewer.participant_id == project.owner_participant_id or viewer.is_reviewer)
    return ProjectOut(
        id=project.id, code=project.code, status=project.status, title=project.title,
        description=project.description, owner_participant_id=project.owner_participant_id,
        owner_name=participants.name_for(viewer, owner),
        methodology_version_id=project.methodology_version_id, county_code=project.county_code,
        # An individual's street address and meter numbers are personal data: shown to insiders only.
        address=project.address if insider or owner.kind != "individual" else "",
        industry_code=project.industry_code, owner_kind=project.owner_kind,
        crediting_start=project.crediting_start.isoformat(), crediting_end=project.crediting_end.isoformat(),
        legal_reduction_obligation=project.legal_reduction_obligation,
        declared_other_mechanisms=list(project.declared_other_mechanisms),
        asset_identifiers=project_service.assets_of(uow, project.id) if insider or owner.kind != "individual" else [],
        rule_set_code=project.rule_set_code,
        registered_at=project.registered_at.isoformat() if project.registered_at else None,
    )


def eligibility_out(problems: list[Violation]) -> EligibilityOut:
    return EligibilityOut(eligible=not problems, violations=[ViolationOut(**v.as_dict()) for v in problems])
