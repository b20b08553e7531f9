"""Key parameters (Art. 11): versioned values with sources; updates go through public notice."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field, StringConstraints

from api.answers.objections import ObjectionOut, objection_out
from api.deps import PUBLIC, Services, allow, get_services
from api.schemas import BoundedDate, Code, DecimalString, ObjectionIn, OneLine, PathId, ShortText, Strict
from registry.errors import NotFound
from registry.orm import ParameterVersion
from registry.principals import Principal
from registry.services import parameters as service
from registry.services import reviews
from registry.services.rule_sets import rule_set_in_force

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


class VersionOut(BaseModel):
    id: int
    parameter_code: str
    version: int
    value: str
    source: str
    effective_from: str
    effective_to: str | None
    status: str
    notice_end: str | None


class ParameterOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    unit: str
    versions: list[VersionOut]


def version_out(v: ParameterVersion) -> VersionOut:
    return VersionOut(id=v.id, parameter_code=v.parameter_code, version=v.version, value=format(v.value, "f"),
                      source=v.source, effective_from=v.effective_from.isoformat(),
                      effective_to=v.effective_to.isoformat() if v.effective_to else None, status=v.status,
                      notice_end=v.notice_end.isoformat() if v.notice_end else None)


def _parameter_out(uow: service.UnitOfWork, code: str, include_unpublished: bool) -> ParameterOut:
    p = service.get_parameter(uow, code)
    return ParameterOut(code=p.code, name_zh=p.name_zh, name_en=p.name_en, unit=p.unit,
                        versions=[version_out(v) for v in service.history(uow, code, include_unpublished)])


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
    with services.registry.uow(principal) as uow:
        notice_days = rule_set_in_force(uow, uow.today()).notice_days
        service.create_parameter(uow, code=body.code, name_zh=body.name_zh, name_en=body.name_en, unit=body.unit)
        v = body.first_version
        service.add_version(uow, code=body.code, value=Decimal(v.value), source=v.source,
                            effective_from=v.effective_from, effective_to=v.effective_to, notice_days=notice_days)
        uow.commit()
        return _parameter_out(uow, body.code, True)


@router.post("/parameters/{code}/versions", status_code=201, response_model=VersionOut)
def add_version(code: Code, body: VersionIn, principal: Principal = Depends(allow("bureau")),
                services: Services = Depends(get_services)) -> VersionOut:
    """Update a parameter (Art. 11): a new version, in public notice first; old calculations keep theirs."""
    with services.registry.uow(principal) as uow:
        notice_days = rule_set_in_force(uow, uow.today()).notice_days
        version = service.add_version(uow, code=code, value=Decimal(body.value), source=body.source,
                                      effective_from=body.effective_from, effective_to=body.effective_to,
                                      notice_days=notice_days)
        uow.commit()
        return version_out(version)


@router.post("/parameter-versions/{version_id}/publish", response_model=VersionOut)
def publish_version(version_id: PathId, principal: Principal = Depends(allow("bureau")),
                    services: Services = Depends(get_services)) -> VersionOut:
    """Publish after the notice ended with no open objection."""
    with services.registry.uow(principal) as uow:
        version = service.publish_version(uow, version_id)
        uow.commit()
        return version_out(version)


@router.post("/parameter-versions/{version_id}/objections", status_code=201, response_model=ObjectionOut)
def object_to_parameter(version_id: PathId, body: ObjectionIn, viewer: Principal | None = Depends(PUBLIC),
                        services: Services = Depends(get_services)) -> ObjectionOut:
    """Object to a parameter value during its public notice."""
    with services.registry.uow(viewer) as uow:
        version = uow.session.get(ParameterVersion, version_id, with_for_update=True)
        if version is None or version.status == "rejected":
            raise NotFound(f"Parameter version {version_id} not found.", f"未找到参数版本 {version_id}。")
        objection = reviews.lodge_objection(uow, "parameter_version", version.id, version.status,
                                            version.notice_end, **body.model_dump())
        uow.commit()
        return objection_out(objection)

