"""Key parameters (Art. 11): versioned values with sources; updates go through public notice."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import Field, StringConstraints

from api.answers.objections import ObjectionOut, objection_out
from api.answers.parameters import ParameterOut, VersionOut, parameter_out, version_out
from api.deps import PUBLIC, Services, allow, get_services
from api.schemas import BoundedDate, Code, DecimalString, ObjectionIn, OneLine, PathId, ShortText, Strict
from registry.principals import Principal
from registry.services import parameters as service
from registry.unit_of_work import UnitOfWork

router = APIRouter(tags=["parameters"])

Source = Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=1000), OneLine]


class VersionIn(Strict):
    value: DecimalString
    source: Source = Field(description="The public document the value comes from (Art. 11).")
    effective_from: BoundedDate
    effective_to: BoundedDate | None = None


class ParameterIn(Strict):
    code: Code
    name_zh: ShortText
    name_en: ShortText
    unit: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40), OneLine]
    first_version: VersionIn


def _parameter_out(uow: UnitOfWork, code: str, include_unpublished: bool) -> ParameterOut:
    return parameter_out(service.get_parameter(uow, code), service.history(uow, code, include_unpublished))


@router.get("/parameters", response_model=list[ParameterOut])
def list_parameters(viewer: Principal | None = Depends(PUBLIC),
                    services: Services = Depends(get_services)) -> list[ParameterOut]:
    """Every parameter with its version history (published and in notice)."""
    with services.registry.uow(viewer) as uow:
        return [_parameter_out(uow, p.code, False) for p in service.list_parameters(uow)]


@router.get("/parameters/{code}", response_model=ParameterOut)
def get_parameter(code: Code, viewer: Principal | None = Depends(PUBLIC),
                  services: Services = Depends(get_services)) -> ParameterOut:
    with services.registry.uow(viewer) as uow:
        return _parameter_out(uow, code, viewer is not None and viewer.has("bureau"))


@router.post("/parameters", status_code=201, response_model=ParameterOut)
def create_parameter(body: ParameterIn, principal: Principal = Depends(allow("bureau")),
                     services: Services = Depends(get_services)) -> ParameterOut:
    """A new parameter; its first value goes to public notice like every later one."""
    v = body.first_version
    with services.registry.uow(principal) as uow:
        service.propose_parameter(uow, code=body.code, name_zh=body.name_zh, name_en=body.name_en, unit=body.unit,
                                  value=Decimal(v.value), source=v.source, effective_from=v.effective_from,
                                  effective_to=v.effective_to)
        return _parameter_out(uow, body.code, True)


@router.post("/parameters/{code}/versions", status_code=201, response_model=VersionOut)
def add_version(code: Code, body: VersionIn, principal: Principal = Depends(allow("bureau")),
                services: Services = Depends(get_services)) -> VersionOut:
    """Update a parameter (Art. 11): a new version, in public notice first; old calculations keep theirs."""
    with services.registry.uow(principal) as uow:
        version = service.propose_version(uow, code=code, value=Decimal(body.value), source=body.source,
                                          effective_from=body.effective_from, effective_to=body.effective_to)
        return version_out(version)


@router.post("/parameter-versions/{version_id}/publish", response_model=VersionOut)
def publish_version(version_id: PathId, principal: Principal = Depends(allow("bureau")),
                    services: Services = Depends(get_services)) -> VersionOut:
    """Publish after the notice ended with no open objection."""
    with services.registry.uow(principal) as uow:
        version = service.publish_version(uow, version_id)
        return version_out(version)


@router.post("/parameter-versions/{version_id}/objections", status_code=201, response_model=ObjectionOut)
def object_to_parameter(version_id: PathId, body: ObjectionIn, viewer: Principal | None = Depends(PUBLIC),
                        services: Services = Depends(get_services)) -> ObjectionOut:
    """Object to a parameter value during its public notice."""
    with services.registry.uow(viewer) as uow:
        return objection_out(service.lodge_objection(uow, version_id, **body.model_dump()))

