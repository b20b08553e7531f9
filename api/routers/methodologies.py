"""Methodologies: submit, review (Art. 10), public notice with objections, registration, calculation."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import Field, StringConstraints

from api.answers.methodologies import (
    CalculationOut,
    MethodologyOut,
    VersionOut,
    calculation_out,
    methodology_out,
    version_out,
)
from api.answers.objections import ObjectionOut, objection_out
from api.deps import PUBLIC, Services, allow, get_services
from api.schemas import (
    ORGANISATION_ROLES,
    REVIEWERS,
    BoundedDate,
    Code,
    DecimalString,
    Identifier,
    LongText,
    MethodologyField,
    ObjectionIn,
    OneLine,
    OwnerKind,
    PageOut,
    PathId,
    ReviewActionOut,
    ReviewIn,
    ShortText,
    Strict,
    page_params,
)
from registry.principals import Principal
from registry.services import methodologies as service
from registry.services import reviews

router = APIRouter(tags=["methodologies"])

SUBMITTERS = ORGANISATION_ROLES
Unit = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40), OneLine]


class InputSpec(Strict):
    name: Identifier
    unit: Unit
    label_zh: ShortText
    label_en: ShortText


class StepSpec(Strict):
    name: Identifier
    expression: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), OneLine]
    label_zh: ShortText
    label_en: ShortText
    unit: Unit


class MethodologyDefinition(Strict):
    description_zh: LongText = ""
    description_en: LongText = ""
    asset_identifier_kind: Identifier
    inclusive_owner_kinds: list[OwnerKind] = Field(min_length=1, max_length=8)
    inputs: list[InputSpec] = Field(min_length=1, max_length=50)
    parameters: list[Code] = Field(default_factory=list, max_length=50)
    calculation: list[StepSpec] = Field(min_length=1, max_length=50)


class MethodologyIn(Strict):
    title_zh: ShortText
    title_en: ShortText
    field: MethodologyField
    definition: MethodologyDefinition


class RevisionIn(Strict):
    definition: MethodologyDefinition


class CalculateIn(Strict):
    inputs: dict[Identifier, DecimalString] = Field(max_length=50)
    on: BoundedDate = Field(description="The date whose parameter versions apply (e.g. the period's start).")


@router.post("/methodologies", status_code=201, response_model=VersionOut)
def submit_methodology(body: MethodologyIn, principal: Principal = Depends(allow(*SUBMITTERS)),
                       services: Services = Depends(get_services)) -> VersionOut:
    """Propose a methodology (Art. 7, 9): it enters the certification center's review."""
    with services.registry.uow(principal) as uow:
        version = service.submit(uow, principal, title_zh=body.title_zh, title_en=body.title_en,
                                 field=body.field, definition=body.definition.model_dump())
        return version_out(service.methodology_of(uow, version), version, principal)


@router.post("/methodologies/{methodology_id}/versions", status_code=201, response_model=VersionOut)
def submit_revision(methodology_id: PathId, body: RevisionIn, principal: Principal = Depends(allow(*SUBMITTERS)),
                    services: Services = Depends(get_services)) -> VersionOut:
    """A new version of a methodology (its proposer or the bureau); reviewed like the first."""
    with services.registry.uow(principal) as uow:
        version = service.submit_revision(uow, principal, methodology_id, body.definition.model_dump())
        return version_out(service.methodology_of(uow, version), version, principal)


@router.get("/methodologies", response_model=PageOut[VersionOut])
def list_methodologies(
    status: Annotated[str | None, Query(max_length=20), OneLine] = None,
    field: MethodologyField | None = None,
    page: tuple[int, int] = Depends(page_params),
    viewer: Principal | None = Depends(PUBLIC),
    services: Services = Depends(get_services),
) -> PageOut[VersionOut]:
    """Methodology versions you may see: the public sees those in notice and registered."""
    with services.registry.uow(viewer) as uow:
        result = service.list_versions(uow, viewer, status=status, field=field, offset=page[0], limit=page[1])
        return PageOut(items=[version_out(m, v, viewer) for v, m in result.items], total=result.total,
                       offset=result.offset, limit=result.limit)


@router.get("/methodologies/{methodology_id}", response_model=MethodologyOut)
def get_methodology(methodology_id: PathId, viewer: Principal | None = Depends(PUBLIC),
                    services: Services = Depends(get_services)) -> MethodologyOut:
    """A methodology with the versions you may see."""
    with services.registry.uow(viewer) as uow:
        return methodology_out(*service.visible_versions(uow, viewer, methodology_id), viewer)


@router.get("/methodology-versions/{version_id}", response_model=VersionOut)
def get_version(version_id: PathId, viewer: Principal | None = Depends(PUBLIC),
                services: Services = Depends(get_services)) -> VersionOut:
    with services.registry.uow(viewer) as uow:
        return version_out(*service.get_version(uow, viewer, version_id), viewer)


@router.post("/methodology-versions/{version_id}/review", response_model=VersionOut)
def review_version(version_id: PathId, body: ReviewIn, principal: Principal = Depends(allow(*REVIEWERS)),
                   services: Services = Depends(get_services)) -> VersionOut:
    """One review step: center_approve/center_reject, convene_experts, expert_approve/expert_reject,
    bureau_approve (starts the public notice)/bureau_reject, register (after the notice)."""
    with services.registry.uow(principal) as uow:
        version = service.review(uow, principal, version_id, body.action, body.comment)
        return version_out(*service.get_version(uow, principal, version.id), principal)


@router.get("/methodology-versions/{version_id}/history", response_model=list[ReviewActionOut])
def version_history(version_id: PathId, viewer: Principal | None = Depends(PUBLIC),
                    services: Services = Depends(get_services)) -> list[ReviewActionOut]:
    """The review steps taken so far, with comments."""
    with services.registry.uow(viewer) as uow:
        service.get_version(uow, viewer, version_id)
        return [ReviewActionOut.of(a) for a in reviews.history(uow, "methodology_version", version_id)]


@router.post("/methodology-versions/{version_id}/objections", status_code=201, response_model=ObjectionOut)
def object_to_version(version_id: PathId, body: ObjectionIn, viewer: Principal | None = Depends(PUBLIC),
                      services: Services = Depends(get_services)) -> ObjectionOut:
    """Lodge an objection during the public notice (anyone; the contact is seen by the bureau only)."""
    with services.registry.uow(viewer) as uow:
        return objection_out(service.lodge_objection(uow, viewer, version_id, **body.model_dump()))


@router.post("/methodology-versions/{version_id}/calculate", response_model=CalculationOut)
def calculate(version_id: PathId, body: CalculateIn, viewer: Principal | None = Depends(PUBLIC),
              services: Services = Depends(get_services)) -> CalculationOut:
    """Run the calculation table (Art. 14) on your inputs with the parameters in force on `on`."""
    with services.registry.uow(viewer) as uow:
        _, version = service.get_version(uow, viewer, version_id)
        result = service.calculate(uow, version, {k: Decimal(v) for k, v in body.inputs.items()}, body.on)
        return calculation_out(result)
