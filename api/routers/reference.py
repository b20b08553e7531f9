"""Reference data and rule sets: counties, covered industries, the rules in force."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends
from pydantic import Field

from api.answers.reference import (
    CountyOut,
    CoveredIndustryOut,
    RuleSetOut,
    VerifierOut,
    rule_set_out,
    verifier_out,
)
from api.deps import PUBLIC, Services, allow, get_services
from api.routers.projects import Mechanism
from api.schemas import BoundedDate, Code, CountyCode, Identifier, IndustryCode, ShortText, Strict
from registry.principals import Principal
from registry.services import participants
from registry.services import rule_sets as service
from rules import covered_industries, regions

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


@router.get("/reference/counties", response_model=list[CountyOut])
def counties(_: Principal | None = Depends(PUBLIC)) -> list[CountyOut]:
    """Jiaxing's seven county-level divisions (Art. 12)."""
    return [CountyOut.model_validate(c) for c in regions.as_list()]


@router.get("/reference/covered-industries", response_model=list[CoveredIndustryOut])
def industries(_: Principal | None = Depends(PUBLIC)) -> list[CoveredIndustryOut]:
    """GB/T 4754-2017 classes under national carbon-market allowance management (Art. 13(2))."""
    return [CoveredIndustryOut.model_validate(i) for i in covered_industries.as_list()]


@router.get("/reference/verifiers", response_model=list[VerifierOut])
def verifiers(principal: Principal = Depends(allow("owner")),
              services: Services = Depends(get_services)) -> list[VerifierOut]:
    """The verifier organisations an owner may commission for a filing (Art. 15)."""
    with services.registry.uow() as uow:
        return [verifier_out(principal, p) for p in participants.verifier_organisations(uow)]


@router.get("/rule-sets", response_model=list[RuleSetOut])
def list_rule_sets(_: Principal | None = Depends(PUBLIC),
                   services: Services = Depends(get_services)) -> list[RuleSetOut]:
    """Every registered rule set with its effective period."""
    with services.registry.uow() as uow:
        return [rule_set_out(r) for r in service.all_rule_sets(uow)]


@router.get("/rule-sets/in-force", response_model=RuleSetOut)
def rule_set_in_force(on: BoundedDate | None = None, _: Principal | None = Depends(PUBLIC),
                      services: Services = Depends(get_services)) -> RuleSetOut:
    """The rule set applied on a date (default today in Jiaxing)."""
    with services.registry.uow() as uow:
        day: date = on or uow.today()
        return rule_set_out(service.rule_set_in_force(uow, day))


@router.post("/rule-sets", status_code=201, response_model=RuleSetOut)
def register_rule_set(body: RuleSetIn, principal: Principal = Depends(allow("bureau")),
                      services: Services = Depends(get_services)) -> RuleSetOut:
    """Register a successor rule set as data; callers pick it up by date, with no code change."""
    with services.registry.uow(principal) as uow:
        return RuleSetOut.model_validate(service.register_successor(uow, body.model_dump(mode="json")))
