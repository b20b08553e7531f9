"""What the API answers about scenarios, residents' accounts, behaviour records, points and the reward shelf."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from registry.orm import (
    BehaviourRecord,
    Redemption,
    ReductionScenario,
    ResidentAccount,
    ResidentConsent,
    RewardOffer,
    ScenarioFiling,
)
from registry.services.points import LedgerCheck, RecordAnswer
from rules import points as rules


class ScenarioOut(BaseModel):
    id: int
    code: str
    project_id: int
    operator_participant_id: int
    methodology_version_id: int
    title_zh: str
    title_en: str
    behaviour: str
    formula: dict[str, Any]
    max_grams_per_record: int
    daily_grams: int
    yearly_points: int
    late_days: int
    points_per_kg: int
    duplicate_window_s: int
    max_accounts_per_device: int
    status: str
    # Public totals (no one's records): residents who earned, whole tonnes counted, points issued.
    residents: int = 0
    tonnes: int = 0
    points_issued: int = 0


def scenario_out(scenario: ReductionScenario, totals: dict[str, int] | None = None) -> ScenarioOut:
    return ScenarioOut(
        id=scenario.id, code=scenario.code, project_id=scenario.project_id,
        operator_participant_id=scenario.operator_participant_id,
        methodology_version_id=scenario.methodology_version_id, title_zh=scenario.title_zh,
        title_en=scenario.title_en, behaviour=scenario.behaviour, formula=scenario.formula,
        max_grams_per_record=scenario.max_grams_per_record, daily_grams=scenario.daily_grams,
        yearly_points=scenario.yearly_points, late_days=scenario.late_days, points_per_kg=scenario.points_per_kg,
        duplicate_window_s=scenario.duplicate_window_s, max_accounts_per_device=scenario.max_accounts_per_device,
        status=scenario.status, **(totals or {}))


class RecordAnswerOut(BaseModel):
    record_ref: str
    outcome: str
    code: str | None
    message_zh: str | None
    message_en: str | None
    grams: int
    points: int
    replayed: bool


def record_answer_out(answer: RecordAnswer) -> RecordAnswerOut:
    zh = en = None
    if answer.code is not None:
        _, zh, en = rules.MESSAGES[answer.code]
    return RecordAnswerOut(record_ref=answer.record_ref, outcome=answer.outcome, code=answer.code,
                           message_zh=zh, message_en=en, grams=answer.grams, points=answer.points,
                           replayed=answer.replayed)


class BatchOut(BaseModel):
    accepted: int
    capped: int
    refused: int
    held: int
    replayed: int
    records: list[RecordAnswerOut]


def batch_out(answers: list[RecordAnswer]) -> BatchOut:
    counts = dict.fromkeys(("accepted", "capped", "refused", "held", "replayed"), 0)
    for answer in answers:
        counts["replayed" if answer.replayed else answer.outcome] += 1
    return BatchOut(**counts, records=[record_answer_out(a) for a in answers])


class ConsentOut(BaseModel):
    scenario_id: int
    granted_at: str
    revoked_at: str | None


def consent_out(consent: ResidentConsent) -> ConsentOut:
    return ConsentOut(scenario_id=consent.scenario_id, granted_at=consent.granted_at.isoformat(),
                      revoked_at=consent.revoked_at.isoformat() if consent.revoked_at else None)


class BalancesOut(BaseModel):
    available: int
    redeemed: int
    donated: int
    expired: int


class AccountOut(BaseModel):
    reference: str
    display_name: str
    status: str
    balances: BalancesOut
    consents: list[ConsentOut]


def account_out(account: ResidentAccount, balances: dict[str, int], consents: list[ResidentConsent]) -> AccountOut:
    return AccountOut(reference=account.reference, display_name=account.display_name, status=account.status,
                      balances=BalancesOut(**balances), consents=[consent_out(c) for c in consents])


class RecordOut(BaseModel):
    id: int
    scenario_id: int
    record_ref: str
    started_at: str
    ended_at: str
    activity: dict[str, int]
    outcome: str
    code: str | None
    grams: int
    points: int


def record_out(record: BehaviourRecord) -> RecordOut:
    return RecordOut(id=record.id, scenario_id=record.scenario_id, record_ref=record.record_ref,
                     started_at=record.started_at.isoformat(), ended_at=record.ended_at.isoformat(),
                     activity=dict(record.activity), outcome=record.outcome, code=record.code, grams=record.grams,
                     points=record.points)


class OutcomeCountOut(BaseModel):
    outcome: str
    code: str | None
    records: int


class ScenarioFilingOut(BaseModel):
    scenario_id: int
    month: str
    filing_id: int
    record_count: int
    grams: int
    tonnes: int
    records_sha256: str


def scenario_filing_out(filed: ScenarioFiling) -> ScenarioFilingOut:
    return ScenarioFilingOut(scenario_id=filed.scenario_id, month=filed.month, filing_id=filed.filing_id,
                             record_count=filed.record_count, grams=filed.grams, tonnes=rules.tonnes_of(filed.grams),
                             records_sha256=filed.records_sha256)


class OfferOut(BaseModel):
    id: int
    title_zh: str
    title_en: str
    points_cost: int
    stock: int


def offer_out(offer: RewardOffer) -> OfferOut:
    return OfferOut(id=offer.id, title_zh=offer.title_zh, title_en=offer.title_en, points_cost=offer.points_cost,
                    stock=offer.stock)


class RedemptionOut(BaseModel):
    id: int
    offer_id: int
    points: int
    created_at: str


def redemption_out(redemption: Redemption) -> RedemptionOut:
    return RedemptionOut(id=redemption.id, offer_id=redemption.offer_id, points=redemption.points,
                         created_at=redemption.created_at.isoformat())


class PointsCheckOut(BaseModel):
    ok: bool
    credited: int
    buckets: dict[str, int]
    cached: dict[str, int]
    unbalanced_entries: int


def points_check_out(check: LedgerCheck) -> PointsCheckOut:
    return PointsCheckOut(ok=check.ok, credited=check.credited, buckets=check.buckets, cached=check.cached,
                          unbalanced_entries=check.unbalanced_entries)


class CauseOut(BaseModel):
    code: str
    name_zh: str
    name_en: str


def causes_out() -> list[CauseOut]:
    return [CauseOut(code=c, name_zh=zh, name_en=en) for c, (zh, en) in rules.DONATION_CAUSES.items()]


class ExportedAccountOut(BaseModel):
    reference: str
    display_name: str
    created_at: str


class ExportedRecordOut(BaseModel):
    scenario_id: int
    record_ref: str
    started_at: str
    ended_at: str
    activity: dict[str, Any]
    outcome: str
    code: str | None
    grams: int
    points: int


class ExportedRedemptionOut(BaseModel):
    offer_id: int
    points: int
    at: str


class ResidentExportOut(BaseModel):
    """Everything the registry holds about a resident, as the resident downloads it."""

    account: ExportedAccountOut
    consents: list[ConsentOut]
    balances: BalancesOut
    records: list[ExportedRecordOut]
    redemptions: list[ExportedRedemptionOut]


class ClosedAccountOut(BaseModel):
    status: str
    pseudonym: str
