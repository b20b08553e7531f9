"""The emission-factor catalogue (Art. 11): public browse, a release as JSON or CSV, the factor a
calculation would pick; the bureau proposes and publishes releases, anyone objects during the notice."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import Field, StringConstraints, model_validator

from api.answers.emission_factors import (
    CSV_COLUMNS,
    FactorOut,
    ReleaseOut,
    SelectionOut,
    csv_row,
    factor_out,
    release_out,
    selection_out,
)
from api.answers.objections import ObjectionOut, objection_out
from api.deps import PUBLIC, Services, allow, get_services
from api.exports import csv_chunks
from api.schemas import (
    BoundedDate,
    DecimalString,
    Identifier,
    LongText,
    ObjectionIn,
    OneLine,
    ShortText,
    Strict,
)
from registry.principals import Principal
from registry.services import emission_factors as service
from registry.services.rule_sets import rule_set_in_force

router = APIRouter(tags=["emission factors"])

ReleaseNumber = Annotated[int, Field(ge=1, le=1_000_000)]
FactorCode = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9\-]{2,39}$"), OneLine]
ActivityId = Identifier
# CN, a province (CN-ZJ) or a six-digit county code (330402).
Region = Annotated[str, StringConstraints(pattern=r"^(CN(-[A-Z]{2})?|[0-9]{6})$"), OneLine]
Unit = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30), OneLine]
Gas = Literal["CO2", "CH4", "N2O", "HFCs", "PFCs", "SF6", "NF3"]
Link = Annotated[str, StringConstraints(pattern=r"^https?://[^\s]{3,490}$"), OneLine]
DocumentNumber = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=100), OneLine]
Flag = Identifier


class FactorIn(Strict):
    code: FactorCode
    activity: ActivityId
    sector: Identifier
    unit: Unit
    name_zh: ShortText
    name_en: ShortText
    region: Region
    data_year: Annotated[int, Field(ge=1990, le=2100)]
    value_kg: DecimalString = Field(description="kg CO2e per unit.")
    gases: dict[Gas, DecimalString] = Field(default_factory=dict, max_length=7)
    gwp_basis: Literal["AR4", "AR5", "AR6"]
    effective_from: BoundedDate
    effective_to: BoundedDate | None = None
    publisher: ShortText
    dataset: ShortText
    document_number: DocumentNumber | None = None
    link: Link | None = None
    uncertainty_pct: DecimalString | None = None
    quality_flags: list[Flag] = Field(default_factory=list, max_length=10)
    demo: bool = Field(description="A demo value, not an official one: every citation says so.")

    @model_validator(mode="after")
    def _official_values_cite_a_document(self) -> FactorIn:
        # The rule: an official value names its document; without one it must be marked demo.
        if not self.demo and not self.document_number:
            raise ValueError("an official (non-demo) factor names its document_number")
        return self

    def draft(self) -> service.FactorDraft:
        return service.FactorDraft(
            code=self.code, activity=self.activity, sector=self.sector, unit=self.unit, name_zh=self.name_zh,
            name_en=self.name_en, region=self.region, data_year=self.data_year, value_kg=Decimal(self.value_kg),
            gases={str(k): v for k, v in self.gases.items()}, gwp_basis=self.gwp_basis,
            effective_from=self.effective_from,
            effective_to=self.effective_to, publisher=self.publisher, dataset=self.dataset,
            document_number=self.document_number, link=self.link,
            uncertainty_pct=Decimal(self.uncertainty_pct) if self.uncertainty_pct is not None else None,
            quality_flags=tuple(self.quality_flags), demo=self.demo)


class ReleaseIn(Strict):
    title: ShortText
    note: LongText = ""
    factors: list[FactorIn] = Field(min_length=1, max_length=500)


@router.get("/factor-releases", response_model=list[ReleaseOut])
def list_releases(viewer: Principal | None = Depends(PUBLIC),
                  services: Services = Depends(get_services)) -> list[ReleaseOut]:
    """Every release, newest first, with its factors (published and in public notice)."""
    with services.registry.uow(viewer) as uow:
        return [release_out(r, service.factors_of(uow, r)) for r in service.releases(uow)]


@router.get("/factor-releases/{number}", response_model=ReleaseOut)
def get_release(number: ReleaseNumber, viewer: Principal | None = Depends(PUBLIC),
                services: Services = Depends(get_services)) -> ReleaseOut:
    """One release with its factors (the JSON download of the release)."""
    with services.registry.uow(viewer) as uow:
        found = service.release(uow, number)
        return release_out(found, service.factors_of(uow, found))


@router.get("/factor-releases/{number}/factors.csv", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}}, "description": "The release's factors as CSV."}})
def release_csv(number: ReleaseNumber, viewer: Principal | None = Depends(PUBLIC),
                services: Services = Depends(get_services)) -> StreamingResponse:
    """The release's factors as CSV, one row per factor version with its citation."""
    with services.registry.uow(viewer) as uow:
        found = service.release(uow, number)
        rows = [csv_row(f) for f in release_out(found, service.factors_of(uow, found)).factors]
    return StreamingResponse(csv_chunks(CSV_COLUMNS, [rows]), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f"attachment; filename=factor-release-{number}.csv"})


@router.get("/emission-factors", response_model=list[FactorOut])
def browse_factors(activity: Annotated[ActivityId | None, Query()] = None,
                   region: Annotated[Region | None, Query()] = None,
                   on: Annotated[date | None, Query(ge=date(2000, 1, 1), le=date(2100, 12, 31))] = None,
                   viewer: Principal | None = Depends(PUBLIC),
                   services: Services = Depends(get_services)) -> list[FactorOut]:
    """Published factor versions, by activity, region and the day they are in force on."""
    with services.registry.uow(viewer) as uow:
        return [factor_out(row, n) for row, n in service.browse(uow, activity=activity, region=region, on=on)]


@router.get("/emission-factors/selection", response_model=SelectionOut)
def select_factor(activity: Annotated[ActivityId, Query()], region: Annotated[Region, Query()],
                  on: Annotated[date, Query(ge=date(2000, 1, 1), le=date(2100, 12, 31))],
                  viewer: Principal | None = Depends(PUBLIC),
                  services: Services = Depends(get_services)) -> SelectionOut:
    """The factor a calculation picks for an activity, region and day, and why (region fallback, data year)."""
    with services.registry.uow(viewer) as uow:
        chosen, row = service.select(uow, activity, region, on)
        return selection_out(chosen, row)


@router.post("/factor-releases", status_code=201, response_model=ReleaseOut)
def propose_release(body: ReleaseIn, principal: Principal = Depends(allow("bureau")),
                    services: Services = Depends(get_services)) -> ReleaseOut:
    """A new release of factor versions, in public notice first (Art. 11)."""
    with services.registry.uow(principal) as uow:
        notice_days = rule_set_in_force(uow, uow.today()).notice_days
        found, factors = service.propose_release(uow, title=body.title, note=body.note,
                                                 drafts=[f.draft() for f in body.factors], notice_days=notice_days)
        return release_out(found, factors)


@router.post("/factor-releases/{number}/publish", response_model=ReleaseOut)
def publish_release(number: ReleaseNumber, principal: Principal = Depends(allow("bureau")),
                    services: Services = Depends(get_services)) -> ReleaseOut:
    """Publish after the notice ended with no open objection."""
    with services.registry.uow(principal) as uow:
        found = service.publish_release(uow, number)
        return release_out(found, service.factors_of(uow, found))


@router.post("/factor-releases/{number}/objections", status_code=201, response_model=ObjectionOut)
def object_to_release(number: ReleaseNumber, body: ObjectionIn, viewer: Principal | None = Depends(PUBLIC),
                      services: Services = Depends(get_services)) -> ObjectionOut:
    """Object to a release during its public notice."""
    with services.registry.uow(viewer) as uow:
        return objection_out(service.object_to_release(uow, number, **body.model_dump()))
