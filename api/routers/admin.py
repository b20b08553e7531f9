"""Administration: participants, users, external registrations, audit chain, health, demo clock."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, HTTPException
from pydantic import Field, StringConstraints

from api.answers.admin import (
    AuditEntryOut,
    ChainReportOut,
    ClockOut,
    ExternalRegistrationOut,
    HealthOut,
    ImportOut,
    ParticipantOut,
    UnlockOut,
    UserOut,
    audit_entry_out,
    external_registration_out,
    participant_out,
    unlock_out,
    user_out,
)
from api.deps import PUBLIC, Services, allow, get_services
from api.exchange.routing import withdraw_from_market
from api.schemas import (
    CreditCode,
    NoControl,
    OneLine,
    PageOut,
    ParticipantKind,
    PathId,
    Role,
    ShortText,
    Strict,
    page_out,
    page_params,
)
from registry.principals import Principal
from registry.services import audit_log, external_registrations, participants, sign_in, trading
from registry.services import health as health_service

router = APIRouter(tags=["administration"])


class ParticipantIn(Strict):
    name: ShortText
    kind: ParticipantKind
    credit_code: CreditCode | None = None


class UserIn(Strict):
    participant_id: int = Field(ge=1, le=2**31 - 1)
    username: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_.\-]{3,64}$"), OneLine]
    password: Annotated[str, StringConstraints(min_length=10, max_length=200), OneLine]
    display_name: ShortText
    roles: list[Role] = Field(min_length=1, max_length=8)


class StatusIn(Strict):
    status: Literal["active", "suspended", "disqualified"]
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=2000), NoControl]


class ClockAdvanceIn(Strict):
    days: int = Field(ge=0, le=3650)
    hours: int = Field(default=0, ge=0, le=24 * 365)


@router.post("/admin/participants", status_code=201, response_model=ParticipantOut)
def create_participant(body: ParticipantIn, principal: Principal = Depends(allow("admin")),
                       services: Services = Depends(get_services)) -> ParticipantOut:
    with services.registry.uow(principal) as uow:
        return participant_out(participants.admit_participant(uow, name=body.name, kind=body.kind,
                                                              credit_code=body.credit_code))


@router.get("/admin/participants", response_model=PageOut[ParticipantOut])
def list_participants(page: tuple[int, int] = Depends(page_params),
                      principal: Principal = Depends(allow("admin", "bureau", "operator")),
                      services: Services = Depends(get_services)) -> PageOut[ParticipantOut]:
    with services.registry.uow(principal) as uow:
        result = participants.list_participants(uow, *page)
        return page_out(result, participant_out)


@router.post("/admin/participants/{participant_id}/status", response_model=ParticipantOut)
def set_participant_status(participant_id: PathId, body: StatusIn,
                           principal: Principal = Depends(allow("admin", "bureau")),
                           services: Services = Depends(get_services)) -> ParticipantOut:
    """Suspend, disqualify (Art. 26) or reinstate a participant, with the reason. A participant that may no
    longer trade then leaves the exchange: everything it has there is withdrawn, its holds released."""
    with services.registry.uow(principal) as uow:
        p = participants.change_status(uow, principal, participant_id, body.status, body.reason)
        answer, barred = participant_out(p), trading.withdrawal_reason(p.status, p.trading_status) is not None
    if barred:
        withdraw_from_market(services.exchange, principal, participant_id)
    return answer


@router.post("/admin/users", status_code=201, response_model=UserOut)
def create_user(body: UserIn, principal: Principal = Depends(allow("admin")),
                services: Services = Depends(get_services)) -> UserOut:
    with services.registry.uow(principal) as uow:
        user = participants.add_user(uow, participant_id=body.participant_id, username=body.username,
                                     password=body.password, display_name=body.display_name, roles=body.roles)
        return user_out(user, body.roles)


@router.post("/admin/users/{user_id}/unlock", response_model=UnlockOut)
def unlock_user(user_id: PathId, principal: Principal = Depends(allow("admin")),
                services: Services = Depends(get_services)) -> UnlockOut:
    """Lift a user's lockout after repeated failed logins and clear the count (audited as user.unlocked)."""
    with services.registry.uow(principal) as uow:
        done = sign_in.unlock(uow, user_id)
    return unlock_out(done)


@router.post("/external-registrations/import", response_model=ImportOut)
def import_external_registrations(
    csv_text: Annotated[str, Body(media_type="text/csv", max_length=900_000), NoControl],
    principal: Principal = Depends(allow("bureau", "admin")),
    services: Services = Depends(get_services),
) -> ImportOut:
    """Import projects registered in other mechanisms (columns: mechanism, external_id, asset_identifier,
    credit_code, project_name); a file with any bad row changes nothing."""
    with services.registry.uow(principal) as uow:
        result = external_registrations.import_file(uow, csv_text)
        return ImportOut(inserted=result.inserted, updated=result.updated)


@router.get("/external-registrations", response_model=PageOut[ExternalRegistrationOut])
def list_external_registrations(page: tuple[int, int] = Depends(page_params),
                                principal: Principal = Depends(allow("bureau", "center", "admin")),
                                services: Services = Depends(get_services)) -> PageOut[ExternalRegistrationOut]:
    with services.registry.uow(principal) as uow:
        return page_out(external_registrations.list_registrations(uow, *page), external_registration_out)


@router.get("/audit/verify", response_model=ChainReportOut)
def verify_audit_chain(principal: Principal = Depends(allow("admin", "bureau", "operator")),
                       services: Services = Depends(get_services)) -> ChainReportOut:
    """Recompute the hash chain; names the first broken entry if any."""
    with services.registry.uow(principal) as uow:
        return ChainReportOut(**audit_log.verify(uow).as_dict())


@router.get("/audit/entries", response_model=PageOut[AuditEntryOut])
def audit_entries(subject_type: Annotated[str | None, StringConstraints(max_length=40), OneLine] = None,
                  subject_id: Annotated[str | None, StringConstraints(max_length=64), OneLine] = None,
                  page: tuple[int, int] = Depends(page_params),
                  principal: Principal = Depends(allow("admin", "bureau")),
                  services: Services = Depends(get_services)) -> PageOut[AuditEntryOut]:
    with services.registry.uow(principal) as uow:
        return page_out(audit_log.entries(uow, subject_type, subject_id, *page), audit_entry_out)


@router.post("/admin/clock/advance", response_model=ClockOut)
def advance_clock(body: ClockAdvanceIn, principal: Principal = Depends(allow("admin")),
                  services: Services = Depends(get_services)) -> ClockOut:
    """Demo only (CARBONX_ALLOW_CLOCK_TRAVEL=true): move the clock forward past a notice or an expiry."""
    clock = services.registry.clock
    if not services.settings.allow_clock_travel or not hasattr(clock, "advance"):
        raise HTTPException(403, "Clock travel is disabled on this server.")
    clock.advance(timedelta(days=body.days, hours=body.hours))
    return ClockOut(now=clock.now().isoformat())


@router.get("/health", response_model=HealthOut)
def health(_: Principal | None = Depends(PUBLIC), services: Services = Depends(get_services)) -> HealthOut:
    """Database and key-value store reachability."""
    with services.registry.uow() as uow:
        health_service.database_reachable(uow)
    return HealthOut(database=services.registry.engine.dialect.name, kv=services.kv.ping(),
                     now=services.registry.clock.now().isoformat())
