"""Reference data and rule sets: counties, covered industries, the rules in force."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import Field

from api.deps import PUBLIC, Services, allow, get_services
from api.routers.projects import Mechanism
from api.schemas import BoundedDate, Code, CountyCode, Identifier, IndustryCode, ShortText, Strict
from registry.principals import Principal
from registry.services import participants
from registry.services import rule_sets as service
from rules import covered_industries, regions
from rules.rule_sets import rule_set_to_dict

router = APIRouter(tags=["reference"])


class RuleSetIn(Strict):
    code: Code
    title_zh: ShortText
    title_en: ShortText
    effective_from: BoundedDate
    effective_to: BoundedDate | None = None
    earliest_reduction_date: BoundedDate
    county_codes: list[CountyCode] = Field(min_length=1, max_length=50)
    covered_industry_codes: list[IndustryCode] = Field(max_length=500)
    other_mechanisms: list[Mechanism] = Field(max_length=50)
    owner_kinds: list[Identifier] = Field(min_length=1, max_length=20)
    required_filing_documents: list[Identifier] = Field(min_length=1, max_length=20)
    notice_days: int = Field(ge=1, le=90)


@router.get("/reference/counties")
def counties(_: Principal | None = Depends(PUBLIC)) -> list[dict[str, str]]:
    """Jiaxing's seven county-level divisions (Art. 12)."""
    return regions.as_list()


@router.get("/reference/covered-industries")
def industries(_: Principal | None = Depends(PUBLIC)) -> list[dict[str, str]]:
    """GB/T 4754-2017 classes under national carbon-market allowance management (Art. 13(2))."""
    return covered_industries.as_list()


@router.get("/reference/verifiers")
def verifiers(principal: Principal = Depends(allow("owner")),
              services: Services = Depends(get_services)) -> list[dict[str, Any]]:
    """The verifier organisations an owner may commission for a filing (Art. 15)."""
    with services.registry.uow() as uow:
        return [{"participant_id": p.id, "name": participants.name_for(principal, p)}
                for p in participants.verifier_organisations(uow)]


@router.get("/rule-sets")
def list_rule_sets(_: Principal | None = Depends(PUBLIC),
                   services: Services = Depends(get_services)) -> list[dict[str, Any]]:
    """Every registered rule set with its effective period."""
    with services.registry.uow() as uow:
        return [rule_set_to_dict(r) for r in service.all_rule_sets(uow)]


@router.get("/rule-sets/in-force")
def rule_set_in_force(on: BoundedDate | None = None, _: Principal | None = Depends(PUBLIC),
                      services: Services = Depends(get_services)) -> dict[str, Any]:
    """The rule set applied on a date (default today in Jiaxing)."""
    with services.registry.uow() as uow:
        day: date = on or uow.today()
        return rule_set_to_dict(service.rule_set_in_force(uow, day))


@router.post("/rule-sets", status_code=201)
def register_rule_set(body: RuleSetIn, principal: Principal = Depends(allow("bureau")),
                      services: Services = Depends(get_services)) -> dict[str, Any]:
    """Register a successor rule set as data; callers pick it up by date, with no code change."""
    with services.registry.uow(principal) as uow:
        record = service.register_rule_set(uow, body.model_dump(mode="json"))
        uow.commit()
        return record.definition
