"""Reduction scenarios, residents' carbon accounts and points, the reward shelf (减排场景 / 个人碳账户 /
碳积分 / 权益兑换). Operators (project owners) register scenarios and post behaviour records; residents open an
account, consent per scenario, see their own records, redeem, donate, export and close; the public sees
per-scenario totals only. Records are visible to the resident and to the scenario's operator, nobody else."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field, StringConstraints

from api.answers.points import (
    AccountOut,
    BatchOut,
    CauseOut,
    ClosedAccountOut,
    ConsentOut,
    OfferOut,
    OutcomeCountOut,
    PointsCheckOut,
    RecordOut,
    RedemptionOut,
    ResidentExportOut,
    ScenarioFilingOut,
    ScenarioOut,
    account_out,
    batch_out,
    causes_out,
    consent_out,
    offer_out,
    points_check_out,
    record_out,
    redemption_out,
    scenario_filing_out,
    scenario_out,
)
from api.deps import PUBLIC, Services, allow, get_services
from api.schemas import BoundedInstant, Code, Identifier, OneLine, PathId, ShortText, Strict
from registry.principals import Principal
from registry.services import points, rewards, scenarios

router = APIRouter(tags=["residents' points"])

RecordRef = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_\-.:]{1,64}$"), OneLine]
AccountRef = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9\-]{1,40}$"), OneLine]
DeviceHash = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16,64}$"), OneLine]
Month = Annotated[str, StringConstraints(pattern=r"^20[2-9][0-9]-(0[1-9]|1[0-2])$"), OneLine]
Grams = Annotated[int, Field(ge=0, le=10**9)]


class ScenarioIn(Strict):
    project_id: int = Field(ge=1, le=2**31 - 1)
    code: Code
    title_zh: ShortText
    title_en: ShortText
    behaviour: Identifier = Field(description="metro, shared_bike, bus, ev_charging, …")
    activity_key: Identifier = Field(description="The activity value the formula reads, e.g. distance_m.")
    baseline_g_per_km: int = Field(ge=1, le=10_000)
    mode_g_per_km: int = Field(ge=0, le=10_000)
    parameter_versions: dict[Code, int] = Field(default_factory=dict, max_length=20)
    max_grams_per_record: int = Field(ge=1, le=10**7)
    daily_grams: int = Field(ge=1, le=10**8)
    yearly_points: int = Field(ge=1, le=10**9)
    late_days: int = Field(ge=0, le=90)
    points_per_kg: int = Field(ge=1, le=10_000)
    duplicate_window_s: int = Field(ge=0, le=86_400)
    max_accounts_per_device: int = Field(ge=1, le=100)


class BehaviourIn(Strict):
    record_ref: RecordRef = Field(description="The operator's own record id (idempotency key).")
    account_ref: AccountRef = Field(description="The resident's account reference (JXR-…).")
    started_at: BoundedInstant
    ended_at: BoundedInstant
    activity: dict[Identifier, Grams] = Field(max_length=8)
    device_hash: DeviceHash | None = None


class BatchIn(Strict):
    records: list[BehaviourIn] = Field(min_length=1, max_length=points.MAX_BATCH)


class AccountIn(Strict):
    display_name: ShortText


class ConsentIn(Strict):
    scenario_id: int = Field(ge=1, le=2**31 - 1)


class MonthIn(Strict):
    month: Month


class OfferIn(Strict):
    title_zh: ShortText
    title_en: ShortText
    points_cost: int = Field(ge=1, le=10**9)
    stock: int = Field(ge=0, le=10**6)


class RedemptionIn(Strict):
    offer_id: int = Field(ge=1, le=2**31 - 1)


class DonationIn(Strict):
    cause: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9\-]{0,39}$"), OneLine]
    points: int = Field(ge=1, le=10**9)


class TransferIn(Strict):
    to_account_ref: AccountRef
    points: int = Field(ge=1, le=10**9)


class ExpiryOut(BaseModel):
    expired_points: int


BeforeId = Annotated[int | None, Query(ge=1, le=2**62)]
Limit = Annotated[int, Query(ge=1, le=500)]


# ---- scenarios (operators, public totals) ----------------------------------------------------------------

@router.post("/scenarios", status_code=201, response_model=ScenarioOut)
def register_scenario(body: ScenarioIn, principal: Principal = Depends(allow("owner")),
                      services: Services = Depends(get_services)) -> ScenarioOut:
    """The owner of a registered project registers it as a reduction scenario with its formula and limits."""
    terms = scenarios.ScenarioTerms(**body.model_dump(exclude={"project_id"}))
    with services.registry.uow(principal) as uow:
        return scenario_out(scenarios.register(uow, principal, body.project_id, terms))


@router.get("/scenarios", response_model=list[ScenarioOut])
def list_scenarios(viewer: Principal | None = Depends(PUBLIC),
                   services: Services = Depends(get_services)) -> list[ScenarioOut]:
    """Every scenario with its public totals: residents, tonnes, points issued."""
    with services.registry.uow(viewer) as uow:
        totals = scenarios.public_totals(uow)
        return [scenario_out(s, totals.get(s.id)) for s in scenarios.listed(uow)]


@router.get("/scenarios/{scenario_id}", response_model=ScenarioOut)
def get_scenario(scenario_id: PathId, viewer: Principal | None = Depends(PUBLIC),
                 services: Services = Depends(get_services)) -> ScenarioOut:
    with services.registry.uow(viewer) as uow:
        return scenario_out(scenarios.get(uow, scenario_id), scenarios.public_totals(uow).get(scenario_id))


@router.post("/scenarios/{scenario_id}/records", response_model=BatchOut)
def post_records(scenario_id: PathId, body: BatchIn, principal: Principal = Depends(allow("owner")),
                 services: Services = Depends(get_services)) -> BatchOut:
    """The operator posts up to 1,000 behaviour records; each is answered accepted / capped / refused / held
    with a code. Re-posting a record id creates nothing and answers the first judgement (`replayed`)."""
    incoming = [points.IncomingRecord(r.record_ref, r.account_ref, r.started_at, r.ended_at, dict(r.activity),
                                      r.device_hash) for r in body.records]
    with services.registry.uow(principal) as uow:
        return batch_out(points.ingest(uow, principal, scenario_id, incoming))


@router.get("/scenarios/{scenario_id}/records", response_model=list[RecordOut])
def scenario_records(scenario_id: PathId, before_id: BeforeId = None, limit: Limit = 100,
                     principal: Principal = Depends(allow("owner")),
                     services: Services = Depends(get_services)) -> list[RecordOut]:
    """The scenario's records, newest first: its operator only."""
    with services.registry.uow(principal) as uow:
        scenario = points.operated_scenario(uow, principal, scenario_id)
        return [record_out(r) for r in points.scenario_records(uow, scenario.id, limit, before_id)]


@router.get("/scenarios/{scenario_id}/outcomes", response_model=list[OutcomeCountOut])
def scenario_outcomes(scenario_id: PathId, principal: Principal = Depends(allow("owner")),
                      services: Services = Depends(get_services)) -> list[OutcomeCountOut]:
    """How many records ended in each outcome and code (refusals by code): its operator only."""
    with services.registry.uow(principal) as uow:
        scenario = points.operated_scenario(uow, principal, scenario_id)
        counts = scenarios.refusal_counts(uow, scenario.id)
        return [OutcomeCountOut(outcome=o, code=c, records=n) for (o, c), n in sorted(
            counts.items(), key=lambda item: (item[0][0], item[0][1] or ""))]


@router.post("/scenarios/{scenario_id}/filings", status_code=201, response_model=ScenarioFilingOut)
def file_scenario_month(scenario_id: PathId, body: MonthIn, principal: Principal = Depends(allow("owner")),
                        services: Services = Depends(get_services)) -> ScenarioFilingOut:
    """Aggregate a month of counted records into a draft filing of floor(Σ g / 10^6) t with the record file."""
    with services.registry.uow(principal) as uow:
        return scenario_filing_out(scenarios.file_month(uow, services.registry.documents, principal, scenario_id,
                                                        body.month))


@router.get("/scenarios/{scenario_id}/filings", response_model=list[ScenarioFilingOut])
def scenario_filings(scenario_id: PathId, principal: Principal = Depends(allow("owner")),
                     services: Services = Depends(get_services)) -> list[ScenarioFilingOut]:
    with services.registry.uow(principal) as uow:
        scenario = points.operated_scenario(uow, principal, scenario_id)
        return [scenario_filing_out(f) for f in scenarios.filings_of(uow, scenario.id)]


# ---- residents ---------------------------------------------------------------------------------------------

@router.post("/residents/me", response_model=AccountOut)
def open_my_account(body: AccountIn, principal: Principal = Depends(allow("resident")),
                    services: Services = Depends(get_services)) -> AccountOut:
    """Open the caller's personal carbon account (the existing one is answered again)."""
    with services.registry.uow(principal) as uow:
        account = points.open_account(uow, principal, body.display_name)
        return account_out(account, points.balances(uow, account.id), [])


@router.get("/residents/me", response_model=AccountOut)
def my_account(principal: Principal = Depends(allow("resident")),
               services: Services = Depends(get_services)) -> AccountOut:
    """The caller's account: reference, points per bucket, consents."""
    with services.registry.uow(principal) as uow:
        account = points.my_account(uow, principal)
        return account_out(account, points.balances(uow, account.id), points.consents(uow, account.id))


@router.post("/residents/me/consents", response_model=ConsentOut)
def grant_consent(body: ConsentIn, principal: Principal = Depends(allow("resident")),
                  services: Services = Depends(get_services)) -> ConsentOut:
    with services.registry.uow(principal) as uow:
        return consent_out(points.grant_consent(uow, principal, body.scenario_id))


@router.delete("/residents/me/consents/{scenario_id}", response_model=ConsentOut)
def revoke_consent(scenario_id: PathId, principal: Principal = Depends(allow("resident")),
                   services: Services = Depends(get_services)) -> ConsentOut:
    with services.registry.uow(principal) as uow:
        return consent_out(points.revoke_consent(uow, principal, scenario_id))


@router.get("/residents/me/records", response_model=list[RecordOut])
def my_records(before_id: BeforeId = None, limit: Limit = 100, principal: Principal = Depends(allow("resident")),
               services: Services = Depends(get_services)) -> list[RecordOut]:
    """The caller's own behaviour records, newest first."""
    with services.registry.uow(principal) as uow:
        return [record_out(r) for r in points.my_records(uow, principal, limit, before_id)]


@router.post("/residents/me/redemptions", status_code=201, response_model=RedemptionOut)
def redeem(body: RedemptionIn, principal: Principal = Depends(allow("resident")),
           services: Services = Depends(get_services)) -> RedemptionOut:
    with services.registry.uow(principal) as uow:
        return redemption_out(rewards.redeem(uow, principal, body.offer_id))


@router.post("/residents/me/donations", response_model=AccountOut)
def donate(body: DonationIn, principal: Principal = Depends(allow("resident")),
           services: Services = Depends(get_services)) -> AccountOut:
    with services.registry.uow(principal) as uow:
        points.donate(uow, principal, body.cause, body.points)
        account = points.my_account(uow, principal)
        return account_out(account, points.balances(uow, account.id), points.consents(uow, account.id))


@router.post("/residents/me/transfers", response_model=AccountOut)
def transfer(body: TransferIn, principal: Principal = Depends(allow("resident")),
             services: Services = Depends(get_services)) -> AccountOut:
    """Always refused (PTS-NO-TRANSFER): points never move between residents."""
    points.refuse_transfer()


@router.get("/residents/me/export", response_model=ResidentExportOut)
def export_mine(principal: Principal = Depends(allow("resident")),
                services: Services = Depends(get_services)) -> dict[str, Any]:
    """Everything held about the caller as a resident, as JSON."""
    with services.registry.uow(principal) as uow:
        return points.export(uow, principal)


@router.post("/residents/me/close", response_model=ClosedAccountOut)
def close_mine(principal: Principal = Depends(allow("resident")),
               services: Services = Depends(get_services)) -> dict[str, str]:
    """Close the caller's account: what the ledger must keep stays under a pseudonym."""
    with services.registry.uow(principal) as uow:
        return {"status": "closed", "pseudonym": points.close(uow, principal)}


# ---- the reward shelf, donations, the points ledger ---------------------------------------------------------

@router.get("/rewards", response_model=list[OfferOut])
def reward_shelf(viewer: Principal | None = Depends(PUBLIC),
                 services: Services = Depends(get_services)) -> list[OfferOut]:
    with services.registry.uow(viewer) as uow:
        return [offer_out(o) for o in rewards.shelf(uow)]


@router.post("/rewards", status_code=201, response_model=OfferOut)
def add_reward(body: OfferIn, principal: Principal = Depends(allow("owner", "bureau")),
               services: Services = Depends(get_services)) -> OfferOut:
    """An operator (a scenario's owner) or the bureau puts an offer with stock on the shelf."""
    with services.registry.uow(principal) as uow:
        return offer_out(rewards.add_offer(uow, principal, title_zh=body.title_zh, title_en=body.title_en,
                                           points_cost=body.points_cost, stock=body.stock))


@router.get("/donation-causes", response_model=list[CauseOut])
def donation_causes(_: Principal | None = Depends(PUBLIC)) -> list[CauseOut]:
    return causes_out()


@router.get("/points/check", response_model=PointsCheckOut)
def check_points(principal: Principal = Depends(allow("admin", "bureau")),
                 services: Services = Depends(get_services)) -> PointsCheckOut:
    """credited = available + redeemed + donated + expired; every entry balanced; caches equal to the sums."""
    with services.registry.uow(principal) as uow:
        return points_check_out(points.check_ledger(uow))


@router.post("/points/expiry", response_model=ExpiryOut)
def expire_points(principal: Principal = Depends(allow("bureau")),
                  services: Services = Depends(get_services)) -> ExpiryOut:
    """Expire the points earned before last year (they live to the end of the following year)."""
    with services.registry.uow(principal) as uow:
        return ExpiryOut(expired_points=points.expire(uow))

