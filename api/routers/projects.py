"""Projects: drafted by an owner, checked against the Jiaxing eligibility rules (Art. 12–13), registered."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field, StrictBool, StringConstraints, model_validator

from api.deps import PUBLIC, Services, allow, get_services
from api.schemas import (
    BoundedDate,
    CountyCode,
    IndustryCode,
    LongText,
    OneLine,
    OwnerKind,
    PageOut,
    PathId,
    Sha256,
    ShortText,
    Strict,
    ViolationOut,
    page_out,
    page_params,
)
from registry.errors import NotFound
from registry.orm import Participant, Project
from registry.principals import Principal
from registry.services import participants
from registry.services import projects as service

router = APIRouter(prefix="/projects", tags=["projects"])

AssetIdentifier = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120), OneLine]
Mechanism = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]{1,19}$"), OneLine]
DocumentKind = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$"), OneLine]


class ProjectDocumentIn(Strict):
    sha256: Sha256
    kind: DocumentKind


class ProjectIn(Strict):
    methodology_version_id: int = Field(ge=1, le=2**31 - 1)
    title: ShortText
    description: LongText = ""
    county_code: CountyCode
    address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300), OneLine] = ""
    industry_code: IndustryCode = Field(description="GB/T 4754-2017 four-digit class code.")
    owner_kind: OwnerKind
    crediting_start: BoundedDate
    crediting_end: BoundedDate
    legal_reduction_obligation: StrictBool
    declared_other_mechanisms: list[Mechanism] = Field(default_factory=list, max_length=10)
    asset_identifiers: list[AssetIdentifier] = Field(min_length=1, max_length=1000)
    documents: list[ProjectDocumentIn] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _period_order(self) -> ProjectIn:
        if self.crediting_end < self.crediting_start:
            raise ValueError("crediting_end must not be before crediting_start")
        return self


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


def project_out(uow: Any, project: Project, viewer: Principal | None) -> ProjectOut:
    owner = uow.session.get(Participant, project.owner_participant_id)
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
        asset_identifiers=service.assets_of(uow, project.id) if insider or owner.kind != "individual" else [],
        rule_set_code=project.rule_set_code,
        registered_at=project.registered_at.isoformat() if project.registered_at else None,
    )


@router.post("", status_code=201, response_model=ProjectOut)
def create_project(body: ProjectIn, principal: Principal = Depends(allow("owner")),
                   services: Services = Depends(get_services)) -> ProjectOut:
    """Save a project draft (only you see it); check it with /eligibility, then /submit."""
    with services.registry.uow(principal) as uow:
        project = service.create_draft(uow, principal, body.model_dump())
        uow.commit()
        return project_out(uow, project, principal)


@router.get("/{project_id}/eligibility", response_model=EligibilityOut)
def project_eligibility(project_id: PathId, principal: Principal = Depends(allow("owner")),
                        services: Services = Depends(get_services)) -> EligibilityOut:
    """Every Art. 12–13 violation the project would be refused for today (nothing is saved)."""
    with services.registry.uow(principal) as uow:
        project = service.get_project(uow, principal, project_id)
        if project.owner_participant_id != principal.participant_id:
            raise NotFound(f"Project {project_id} not found.", f"未找到项目 {project_id}。")
        problems = service.check(uow, project, uow.today())
        return EligibilityOut(eligible=not problems, violations=[ViolationOut(**v.as_dict()) for v in problems])


@router.post("/{project_id}/submit", response_model=ProjectOut)
def submit_project(project_id: PathId, principal: Principal = Depends(allow("owner")),
                   services: Services = Depends(get_services)) -> ProjectOut:
    """Register the draft if it passes every rule; otherwise 409 with all violations and their articles."""
    with services.registry.uow(principal) as uow:
        project = service.submit(uow, principal, project_id)
        uow.commit()
        return project_out(uow, project, principal)


@router.get("", response_model=PageOut[ProjectOut])
def list_projects(
    mine: bool = False,
    county_code: CountyCode | None = None,
    status: Annotated[str | None, Query(max_length=20), OneLine] = None,
    page: tuple[int, int] = Depends(page_params),
    viewer: Principal | None = Depends(PUBLIC),
    services: Services = Depends(get_services),
) -> PageOut[ProjectOut]:
    """Registered projects (public fields); with mine=true, your own including drafts."""
    with services.registry.uow(viewer) as uow:
        result = service.list_projects(uow, viewer, mine=mine, county_code=county_code, status=status,
                                       offset=page[0], limit=page[1])
        return page_out(result, lambda p: project_out(uow, p, viewer))


@router.get("/{project_id}", response_model=ProjectOut)
def get_project(project_id: PathId, viewer: Principal | None = Depends(PUBLIC),
                services: Services = Depends(get_services)) -> ProjectOut:
    with services.registry.uow(viewer) as uow:
        return project_out(uow, service.get_project(uow, viewer, project_id), viewer)
