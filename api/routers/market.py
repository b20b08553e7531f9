"""The market's reference data: trading admission (Art. 19), cash deposits and withdrawals, instruments."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import Field, StringConstraints

from api.answers.market import (
    AdmissionOut,
    CalendarOut,
    CashOut,
    CashRecordedOut,
    ClosureOut,
    CounterpartyOut,
    InstrumentOut,
    MarketParticipantOut,
    calendar_out,
    cash_out,
    cash_recorded_out,
    instrument_out,
    market_participant_out,
    recorded_closure_out,
)
from api.deps import PUBLIC, Services, allow, get_services
from api.exchange.routing import withdraw_from_market
from api.schemas import (
    BoundedDate,
    BoundedPathDate,
    MethodologyField,
    NoControl,
    OneLine,
    PageOut,
    PathId,
    ShortText,
    Strict,
    page_out,
    page_params,
)
from matching_engine import InstrumentConfig
from registry.errors import InvalidInput
from registry.principals import Principal
from registry.services import cash, instruments, market_calendar, participants, trading

router = APIRouter(tags=["market"])

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=500), NoControl]
InstrumentCode = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9\-]{2,39}$"), OneLine]


class AdmissionIn(Strict):
    trading_status: Literal["admitted", "suspended", "not_admitted"]
    reason: Reason


class CashIn(Strict):
    participant_id: int = Field(ge=1, le=2**31 - 1)
    amount_fen: int = Field(ge=1, le=10**15, description="Whole fen (分); ¥1 = 100 fen.")
    bank_reference: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9\-_/]{4,64}$"), OneLine]


class EngineSettings(Strict):
    """The matching engine's settings for this instrument (prices in fen per tonne, quantities in tonnes)."""

    tick_fen: int = Field(1, ge=1, le=10**6)
    lot_t: int = Field(1, ge=1, le=10**6)
    min_order_t: int = Field(1, ge=1, le=10**9)
    max_order_t: int = Field(1_000_000, ge=1, le=10**9)
    reference_price_fen: int | None = Field(None, ge=1, le=10**9)
    price_band_bp: int | None = Field(1000, ge=1, le=10_000, description="Basis points around the reference.")
    listing_band_bp: int | None = Field(1000, ge=1, le=10_000)
    negotiated_band_bp: int | None = Field(1000, ge=1, le=10_000)
    block_threshold_t: int | None = Field(100_000, ge=1, le=10**9)
    block_band_bp: int | None = Field(3000, ge=1, le=10_000)


class InstrumentIn(Strict):
    code: InstrumentCode
    name_zh: ShortText
    name_en: ShortText
    vintage: int = Field(ge=2020, le=2100)
    methodology_field: MethodologyField | None = None
    settings: EngineSettings = Field(default_factory=EngineSettings)


class InstrumentStatusIn(Strict):
    status: Literal["active", "halted"]
    reason: Reason


@router.post("/market/participants/{participant_id}/admission", response_model=AdmissionOut)
def set_admission(participant_id: PathId, body: AdmissionIn, principal: Principal = Depends(allow("operator")),
                  services: Services = Depends(get_services)) -> AdmissionOut:
    """Admit a participant to trading, or suspend it (the operations center). A participant that may no longer
    trade then leaves the exchange: everything it has there is withdrawn, its holds released."""
    with services.registry.uow(principal) as uow:
        participant = instruments.change_trading_status(uow, participant_id, body.trading_status, body.reason)
        answer = AdmissionOut(participant_id=participant.id, trading_status=participant.trading_status)
        barred = trading.withdrawal_reason(participant.status, participant.trading_status) is not None
    if barred:
        withdraw_from_market(services.exchange, principal, participant_id)
    return answer


@router.get("/market/participants", response_model=PageOut[MarketParticipantOut])
def market_participants(page: tuple[int, int] = Depends(page_params),
                        principal: Principal = Depends(allow("operator")),
                        services: Services = Depends(get_services)) -> PageOut[MarketParticipantOut]:
    """Every participant with its registry status and trading admission (the operations center's desk)."""
    with services.registry.uow(principal) as uow:
        return page_out(participants.list_participants(uow, *page), market_participant_out)


@router.get("/market/counterparties", response_model=list[CounterpartyOut])
def counterparties(principal: Principal = Depends(allow("trader")),
                   services: Services = Depends(get_services)) -> list[CounterpartyOut]:
    """The other active, admitted traders (id and name; an individual's masked): whom a negotiated transfer
    or a restricted listing may name."""
    with services.registry.uow(principal) as uow:
        return [CounterpartyOut(id=pid, name=name) for pid, name in participants.counterparties(uow, principal)]


@router.post("/cash/deposits", status_code=201, response_model=CashRecordedOut)
def record_deposit(body: CashIn, principal: Principal = Depends(allow("operator")),
                   services: Services = Depends(get_services)) -> dict[str, Any]:
    """Record a bank-confirmed deposit; a bank reference is accepted once."""
    return _record(services, principal, "deposit", body)


@router.post("/cash/withdrawals", status_code=201, response_model=CashRecordedOut)
def record_withdrawal(body: CashIn, principal: Principal = Depends(allow("operator")),
                      services: Services = Depends(get_services)) -> dict[str, Any]:
    """Record a withdrawal paid by the bank, out of the participant's available cash."""
    return _record(services, principal, "withdrawal", body)


def _record(services: Services, principal: Principal, kind: str, body: CashIn) -> dict[str, Any]:
    with services.registry.uow(principal) as uow:
        movement, balances = cash.record_confirmed(uow, principal, participant_id=body.participant_id, kind=kind,
                                                   amount_fen=body.amount_fen, bank_reference=body.bank_reference)
        return cash_recorded_out(movement, balances)


@router.get("/cash", response_model=CashOut)
def my_cash(principal: Principal = Depends(allow("owner", "trader")),
            services: Services = Depends(get_services)) -> dict[str, Any]:
    """Your cash in fen (available and held for orders) and your recent deposits and withdrawals."""
    with services.registry.uow(principal) as uow:
        return cash_out(*cash.statement(uow, principal.participant_id))


@router.post("/instruments", status_code=201, response_model=InstrumentOut)
def define_instrument(body: InstrumentIn, principal: Principal = Depends(allow("operator")),
                      services: Services = Depends(get_services)) -> InstrumentOut:
    """Define an instrument: a vintage (and optionally a methodology field) with its engine settings."""
    settings = body.settings.model_dump()
    try:
        InstrumentConfig(instrument_id=body.code, **settings)
    except ValueError as exc:
        raise InvalidInput(f"Inconsistent engine settings: {exc}", f"撮合参数不一致：{exc}") from exc
    with services.registry.uow(principal) as uow:
        instrument = instruments.add_instrument(uow, code=body.code, name_zh=body.name_zh, name_en=body.name_en,
                                                vintage=body.vintage, methodology_field=body.methodology_field,
                                                config=settings)
        return instrument_out(uow, instrument)


@router.post("/instruments/{code}/status", response_model=InstrumentOut)
def set_instrument_status(code: InstrumentCode, body: InstrumentStatusIn,
                          principal: Principal = Depends(allow("operator")),
                          services: Services = Depends(get_services)) -> InstrumentOut:
    """Halt or resume an instrument."""
    with services.registry.uow(principal) as uow:
        instrument = instruments.change_status(uow, code, body.status, body.reason)
        return instrument_out(uow, instrument)


@router.get("/instruments", response_model=list[InstrumentOut])
def list_instruments(_: Principal | None = Depends(PUBLIC),
                     services: Services = Depends(get_services)) -> list[InstrumentOut]:
    with services.registry.uow() as uow:
        return [instrument_out(uow, i) for i in instruments.all_instruments(uow)]


@router.get("/instruments/{code}", response_model=InstrumentOut)
def get_instrument(code: InstrumentCode, _: Principal | None = Depends(PUBLIC),
                   services: Services = Depends(get_services)) -> InstrumentOut:
    with services.registry.uow() as uow:
        return instrument_out(uow, instruments.get(uow, code))


@router.get("/market/calendar", response_model=CalendarOut)
def trading_calendar(_: Principal | None = Depends(PUBLIC),
                     services: Services = Depends(get_services)) -> dict[str, Any]:
    """The trading periods (Asia/Shanghai; the answer keeps the name `sessions`, which clients read), whether
    the market is open now, and the closures of the coming year (public holidays, and what the operator
    recorded: `recorded`); `years` names the years the calendar holds closures of."""
    with services.registry.uow() as uow:
        now, today = uow.now(), uow.today()
        hours = services.exchange.market_hours(uow)
    return calendar_out(hours, now, today)


ClosureName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), OneLine]


class ClosureIn(Strict):
    day: BoundedDate
    name_zh: ClosureName
    name_en: ClosureName
    source: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=300), OneLine] = Field(
        description="Where the closure comes from, e.g. the State Council notice and its date.")


@router.post("/market/closures", status_code=201, response_model=ClosureOut)
def record_closure(body: ClosureIn, principal: Principal = Depends(allow("operator")),
                   services: Services = Depends(get_services)) -> ClosureOut:
    """Close the market on a weekday not yet begun: a year's public holidays when the State Council's notice
    comes out, or a closure announced ahead. Books do not open on it; the resale lock runs over it."""
    with services.registry.uow(principal) as uow:
        return recorded_closure_out(
            market_calendar.record_closure(uow, body.day, body.name_zh, body.name_en, body.source))


@router.delete("/market/closures/{day}", status_code=204)
def withdraw_closure(day: BoundedPathDate, principal: Principal = Depends(allow("operator")),
                     services: Services = Depends(get_services)) -> None:
    """Withdraw a closure the operator recorded, of a day not yet begun."""
    with services.registry.uow(principal) as uow:
        market_calendar.withdraw_closure(uow, day)
