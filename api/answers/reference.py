"""Reference data and rule sets as the API answers them: counties, covered industries, the verifiers an owner
may commission, and a rule set as data."""

from __future__ import annotations

from pydantic import BaseModel

from registry.orm import Participant
from registry.principals import Principal
from registry.services import participants
from rules.rule_sets import RuleSet, rule_set_to_dict


class CountyOut(BaseModel):
    code: str
    name_zh: str
    name_en: str


class CoveredIndustryOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    sector_zh: str
    sector_en: str
    note_zh: str
    note_en: str


class VerifierOut(BaseModel):
    participant_id: int
    name: str


class RuleSetOut(BaseModel):
    """A rule set as data (`rules.rule_sets.rule_set_to_dict`): ISO dates, sorted code lists."""

    code: str
    title_zh: str
    title_en: str
    effective_from: str
    effective_to: str | None
    earliest_reduction_date: str
    county_codes: list[str]
    covered_industry_codes: list[str]
    other_mechanisms: list[str]
    owner_kinds: list[str]
    required_filing_documents: list[str]
    notice_days: int


def verifier_out(viewer: Principal, participant: Participant) -> VerifierOut:
    return VerifierOut(participant_id=participant.id, name=participants.name_for(viewer, participant))


def rule_set_out(rule_set: RuleSet) -> RuleSetOut:
    return RuleSetOut.model_validate(rule_set_to_dict(rule_set))
