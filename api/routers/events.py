"""Event carbon neutrality (Art. 21, 24, 26, 28): the organiser's event, its inventory on the published
factors, the retirements that back it, the declaration or third-party assessment, and the public statement
(JSON, PDF with a QR code) and its disclosure list and CSV."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import StreamingResponse
from pydantic import Field, StringConstraints, model_validator

from api.answers.events import (
    DISCLOSURE_COLUMNS,
    DistanceOut,
    EventOut,
    InventoryOut,
    StatementOut,
    computed_out,
    disclosure_row,
    event_out,
    statement_out,
)
from api.deps import PUBLIC, Services, allow, get_services
from api.exports import csv_chunks
from api.neutrality_statements import render_statement
from api.schemas import (
    BoundedDate,
    CountyCode,
    DecimalString,
    Identifier,
    LongText,
    OneLine,
    PathId,
    Sha256,
    ShortText,
    Strict,
)
from registry.principals import Principal
from registry.services import events as service
from rules import event_inventory as rules

router = APIRouter(tags=["event carbon neutrality"])

Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
Source = Literal["venue_fuel", "purchased_electricity", "purchased_heat", "service_vehicles", "attendee_travel",
                 "accommodation", "catering", "materials", "waste"]
ActivityId = Identifier
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=500), OneLine]
City = Identifier
ORGANISERS = ("owner", "trader")


class EventIn(Strict):
    name: ShortText
    event_type: Literal["performance", "match", "conference", "forum", "exhibition"]
    venue: ShortText
    venue_county: CountyCode
    starts_on: BoundedDate
    ends_on: BoundedDate
    attendees: Annotated[int, Field(ge=0, le=10_000_000)]
    reduction_measures: LongText = ""
    deadline_days: Annotated[int, Field(ge=1, le=3 * 365)] = rules.DEFAULT_DEADLINE_DAYS

    @model_validator(mode="after")
    def _dates(self) -> EventIn:
        if self.ends_on < self.starts_on:
            raise ValueError("ends_on must not be before starts_on")
        return self


class QuantityIn(Strict):
    """A quantity of an activity in the factor's unit (kWh, room-nights, meals, kg ...)."""

    kind: Literal["quantity"]
    source: Source
    activity: ActivityId
    quantity: DecimalString
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), OneLine] = ""

    def activity_of(self) -> rules.Activity:
        return rules.Activity(self.source, self.activity, Decimal(self.quantity), self.note)


class TravelIn(Strict):
    """Travel as mode × distance × persons, twice for a round trip (passenger-km)."""

    kind: Literal["travel"]
    source: Source
    activity: ActivityId
    distance_km: DecimalString
    persons: Annotated[int, Field(ge=1, le=10_000_000)]
    round_trip: bool = True
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), OneLine] = ""

    def activity_of(self) -> rules.Activity:
        return rules.travel(self.source, self.activity, Decimal(self.distance_km), self.persons,
                            round_trip=self.round_trip, note=self.note)


ActivityIn = Annotated[QuantityIn | TravelIn, Field(discriminator="kind")]


class InventoryIn(Strict):
    activities: list[ActivityIn] = Field(max_length=200)
    exclusions: dict[Source, Reason] = Field(default_factory=dict)
    preparer_id: Id | None = Field(default=None, description="The organisation that prepared the inventory "
                                   "(the organiser when left out); it may not assess the event (JX-15).")
    assessor_id: Id | None = Field(default=None, description="The verifier commissioned to assess the event "
                                   "(left out: the organiser declares).")

    def parts(self) -> tuple[list[rules.Activity], dict[str, str]]:
        return [a.activity_of() for a in self.activities], {str(k): v for k, v in self.exclusions.items()}


class CalculationIn(InventoryIn):
    venue_county: CountyCode
    on: BoundedDate


class OffsetIn(Strict):
    retirement_id: Id


class ExternalOffsetIn(Strict):
    registry_name: ShortText
    serials: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), OneLine]
    quantity_t: Annotated[int, Field(ge=1, le=10**9)]
    proof_sha256: Sha256 | None = None


class AssessmentIn(Strict):
    conclusion: LongText = ""


@router.post("/events", status_code=201, response_model=EventOut)
def create_event(body: EventIn, principal: Principal = Depends(allow(*ORGANISERS)),
                 services: Services = Depends(get_services)) -> EventOut:
    """Register an event your organisation organises (planned until it is held)."""
    with services.registry.uow(principal) as uow:
        event = service.create(uow, principal, service.EventDraft(**body.model_dump()))
        return event_out(service.view(uow, event), services.settings.public_base_url)


@router.get("/events", response_model=list[EventOut])
def list_events(mine: bool = False, viewer: Principal | None = Depends(PUBLIC),
                services: Services = Depends(get_services)) -> list[EventOut]:
    """Events declared neutral (public, Art. 24); your organisation's events with mine=true."""
    with services.registry.uow(viewer) as uow:
        own = viewer.participant_id if mine and viewer is not None else None
        found = service.list_events(uow, neutral_only=own is None, organiser_id=own)
        return [event_out(service.view(uow, e), services.settings.public_base_url) for e in found]


@router.get("/events/{event_id}", response_model=EventOut)
def get_event(event_id: PathId, viewer: Principal | None = Depends(PUBLIC),
              services: Services = Depends(get_services)) -> EventOut:
    """An event with its inventory, offsets, shortfall and status on the day (held, overdue are read off the
    calendar)."""
    with services.registry.uow(viewer) as uow:
        return event_out(service.view(uow, service.get(uow, event_id)), services.settings.public_base_url)


@router.post("/event-inventories/calculation", response_model=InventoryOut)
def calculate(body: CalculationIn, _: Principal | None = Depends(PUBLIC),
              services: Services = Depends(get_services)) -> InventoryOut:
    """The live calculation: lines, factors chosen (with their trace) and totals, nothing stored."""
    activities, exclusions = body.parts()
    with services.registry.uow() as uow:
        return computed_out(service.calculate(uow, body.venue_county, body.on, activities, exclusions))


@router.get("/event-inventories/distance", response_model=DistanceOut)
def city_distance(origin: Annotated[City, Query(alias="from")], destination: Annotated[City, Query(alias="to")],
                  _: Principal | None = Depends(PUBLIC)) -> DistanceOut:
    """The great-circle distance between two known cities, rounded up: a starting figure the organiser checks."""
    return DistanceOut(distance_km=rules.city_distance_km(origin, destination))


@router.post("/events/{event_id}/inventory", status_code=201, response_model=EventOut)
def record_inventory(event_id: PathId, body: InventoryIn, principal: Principal = Depends(allow(*ORGANISERS)),
                     services: Services = Depends(get_services)) -> EventOut:
    """Record a new inventory version on the factors in force on the event's first day."""
    activities, exclusions = body.parts()
    with services.registry.uow(principal) as uow:
        service.record_inventory(uow, principal, event_id, activities, exclusions, body.preparer_id,
                                 body.assessor_id)
        return event_out(service.view(uow, service.get(uow, event_id)), services.settings.public_base_url)


@router.post("/events/{event_id}/offsets", status_code=201, response_model=EventOut)
def name_retirement(event_id: PathId, body: OffsetIn, principal: Principal = Depends(allow(*ORGANISERS)),
                    services: Services = Depends(get_services)) -> EventOut:
    """Name one of your event-neutrality retirements as backing this event (one retirement, one event)."""
    with services.registry.uow(principal) as uow:
        service.name_retirement(uow, principal, event_id, body.retirement_id)
        return event_out(service.view(uow, service.get(uow, event_id)), services.settings.public_base_url)


@router.post("/events/{event_id}/external-offsets", status_code=201, response_model=EventOut)
def add_external_offset(event_id: PathId, body: ExternalOffsetIn, principal: Principal = Depends(allow(*ORGANISERS)),
                        services: Services = Depends(get_services)) -> EventOut:
    """Record an offset retired in another registry: shown as external, not counted here."""
    with services.registry.uow(principal) as uow:
        service.add_external(uow, principal, event_id, registry_name=body.registry_name, serials_text=body.serials,
                             quantity_t=body.quantity_t, proof_sha256=body.proof_sha256)
        return event_out(service.view(uow, service.get(uow, event_id)), services.settings.public_base_url)


@router.post("/events/{event_id}/shortfall-retirement", status_code=201, response_model=EventOut)
def retire_shortfall(event_id: PathId, principal: Principal = Depends(allow(*ORGANISERS)),
                     services: Services = Depends(get_services)) -> EventOut:
    """Retire what is missing in one step: a retirement request for the shortfall, naming this event."""
    with services.registry.uow(principal) as uow:
        service.shortfall_retirement(uow, principal, event_id, auto_execute=services.settings.auto_execute_retirements)
        return event_out(service.view(uow, service.get(uow, event_id)), services.settings.public_base_url)


@router.post("/events/{event_id}/assessment", response_model=EventOut)
def assess(event_id: PathId, body: AssessmentIn, principal: Principal = Depends(allow(*ORGANISERS, "verifier")),
           services: Services = Depends(get_services)) -> EventOut:
    """Declare the event neutral: the organiser's declaration, or a verifier's assessment (not one that
    prepared the inventory, JX-15); after the event, with retirements covering its whole tonnes (JX-21)."""
    with services.registry.uow(principal) as uow:
        event = service.assess(uow, principal, event_id, body.conclusion)
        return event_out(service.view(uow, event), services.settings.public_base_url)


def _statement(services: Services, event_id: int) -> StatementOut:
    with services.registry.uow() as uow:
        current, assessor, citations = service.statement(uow, event_id)
        return statement_out(current, assessor, citations, services.settings.public_base_url)


@router.get("/events/{event_id}/statement", response_model=StatementOut)
def get_statement(event_id: PathId, _: Principal | None = Depends(PUBLIC),
                  services: Services = Depends(get_services)) -> StatementOut:
    """The neutrality statement (JSON), the proof behind the public page its QR code opens."""
    return _statement(services, event_id)


@router.get("/events/{event_id}/statement.pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}, "description": "The statement as a PDF."}})
def statement_pdf(event_id: PathId, _: Principal | None = Depends(PUBLIC),
                  services: Services = Depends(get_services)) -> Response:
    """The neutrality statement as a PDF, in Chinese and English, with a QR code of its public page."""
    statement = _statement(services, event_id)
    pdf = render_statement(statement, services.settings.certificate_font)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f"attachment; filename={statement.statement_code}.pdf"})


def _statements(services: Services) -> list[StatementOut]:
    with services.registry.uow() as uow:
        found = service.list_events(uow, neutral_only=True, organiser_id=None)
        answers = []
        for event in found:
            current, assessor, citations = service.statement(uow, event.id)
            answers.append(statement_out(current, assessor, citations, services.settings.public_base_url))
        return answers


@router.get("/disclosure/event-neutrality", response_model=list[StatementOut])
def list_statements(_: Principal | None = Depends(PUBLIC),
                    services: Services = Depends(get_services)) -> list[StatementOut]:
    """Every neutrality statement, newest first, with any offset revoked since (Art. 24, 26)."""
    return _statements(services)


@router.get("/disclosure/event-neutrality.csv", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}}, "description": "The statements as CSV."}})
def statements_csv(_: Principal | None = Depends(PUBLIC),
                   services: Services = Depends(get_services)) -> StreamingResponse:
    """The neutrality statements as CSV."""
    rows = [disclosure_row(s) for s in _statements(services)]
    return StreamingResponse(csv_chunks(DISCLOSURE_COLUMNS, [rows]), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": "attachment; filename=event-neutrality.csv"})
