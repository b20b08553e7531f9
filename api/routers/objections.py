"""Objections lodged during public notices, as the bureau sees and rules on them."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends

from api.answers.objections import ObjectionDetailOut, detail_out
from api.deps import Services, allow, get_services
from api.schemas import PageOut, PathId, RulingIn, page_out, page_params
from registry.principals import Principal
from registry.services import objections as service

router = APIRouter(prefix="/objections", tags=["public notice"])


@router.get("", response_model=PageOut[ObjectionDetailOut])
def list_objections(status: Literal["open", "upheld", "dismissed"] | None = None,
                    page: tuple[int, int] = Depends(page_params), principal: Principal = Depends(allow("bureau")),
                    services: Services = Depends(get_services)) -> PageOut[ObjectionDetailOut]:
    """Objections with the objector's contact (the bureau only)."""
    with services.registry.uow(principal) as uow:
        result = service.list_objections(uow, status, *page)
        return page_out(result, detail_out)


@router.post("/{objection_id}/ruling", response_model=ObjectionDetailOut)
def rule_on_objection(objection_id: PathId, body: RulingIn, principal: Principal = Depends(allow("bureau")),
                      services: Services = Depends(get_services)) -> ObjectionDetailOut:
    """Uphold (the subject is rejected) or dismiss an objection, with the ruling's reasons."""
    with services.registry.uow(principal) as uow:
        objection = service.rule(uow, principal, objection_id, uphold=body.uphold, ruling=body.ruling)
        return detail_out(objection)
