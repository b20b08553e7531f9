"""Projects: drafted by an owner, checked against the Jiaxing eligibility rules (Art. 12–13), registered."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import Field, StrictBool, StringConstraints, model_validator

from api.answers.projects import EligibilityOut, ProjectOut, eligibility_out, project_out
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
    page_out,
    page_params,
)
from registry.principals import Principal
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


@router.post("", status_code=201, response_model=ProjectOut)
def create_project(body: ProjectIn, principal: Principal = Depends(allow("owner")),
                   services: Services = Depends(get_services)) -> ProjectOut:
    """Save a project draft (only you see it); check it with /eligibility, then /submit."""
    with services.registry.uow(principal) as uow:
        project = service.create_draft(uow, principal, body.model_dump())
        return project_out(uow, project, principal)


@router.get("/{project_id}/eligibility", response_model=EligibilityOut)
def project_eligibility(project_id: PathId, principal: Principal = Depends(allow("owner")),
                        services: Services = Depends(get_services)) -> EligibilityOut:
    """Every Art. 12–13 violation the project would be refused for today (nothing is saved)."""
    with services.registry.uow(principal) as uow:
        return eligibility_out(service.eligibility_today(uow, principal, project_id))


@router.post("/{project_id}/submit", response_model=ProjectOut)
def submit_project(project_id: PathId, principal: Principal = Depends(allow("owner")),
                   services: Services = Depends(get_services)) -> ProjectOut:
    """Register the draft if it passes every rule; otherwise 409 with all violations and their articles."""
    with services.registry.uow(principal) as uow:
        project = service.submit(uow, principal, project_id)
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
