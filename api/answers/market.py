"""Answers of the market's reference data: trading admission (Art. 19), the participants and counterparties a
trader or the operator sees, cash deposits and withdrawals with the balances, instruments, and the trading
calendar with its closures."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from api.exchange.market_hours import MarketHours
from registry.orm import CashMovement, Instrument, MarketClosure, Participant
from registry.services import instruments


class AdmissionOut(BaseModel):
    participant_id: int
    trading_status: str


class MarketParticipantOut(BaseModel):
    id: int
    name: str
    kind: str
    status: str
    trading_status: str


def market_participant_out(p: Participant) -> MarketParticipantOut:
    return MarketParticipantOut(id=p.id, name=p.name, kind=p.kind, status=p.status, trading_status=p.trading_status)


class CounterpartyOut(BaseModel):
    """Another admitted trader a negotiated transfer or a restricted listing may name (an individual's name
    masked)."""

    id: int
    name: str


class CashRecordedOut(BaseModel):
    """A deposit or withdrawal just recorded, with the participant's cash after it (fen by bucket)."""

    id: int
    kind: str
    participant_id: int
    amount_fen: int
    bank_reference: str
    balances_fen: dict[str, int]


def cash_recorded_out(movement: CashMovement, balances_fen: dict[str, int]) -> dict[str, Any]:
    return {"id": movement.id, "kind": movement.kind, "participant_id": movement.participant_id,
            "amount_fen": movement.amount_fen, "bank_reference": movement.bank_reference,
            "balances_fen": balances_fen}


class CashMovementOut(BaseModel):
    kind: str
    amount_fen: int
    bank_reference: str
    at: str


class CashOut(BaseModel):
    """Your cash in fen by bucket (available, held for orders) and your latest deposits and withdrawals."""

    balances_fen: dict[str, int]
    movements: list[CashMovementOut]


def cash_out(balances_fen: dict[str, int], movements: list[CashMovement]) -> dict[str, Any]:
    return {"balances_fen": balances_fen, "movements": [
        {"kind": m.kind, "amount_fen": m.amount_fen, "bank_reference": m.bank_reference,
         "at": m.created_at.isoformat()} for m in movements]}


class InstrumentOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    vintage: int
    methodology_field: str | None
    status: str
    settings: dict[str, Any]
    batch_ids: list[int]


def instrument_out(uow: Any, instrument: Instrument) -> InstrumentOut:
    return InstrumentOut(code=instrument.code, name_zh=instrument.name_zh, name_en=instrument.name_en,
                         vintage=instrument.vintage, methodology_field=instrument.methodology_field,
                         status=instrument.status, settings=instrument.config,
                         batch_ids=instruments.batch_ids(uow, instrument))


class ClosureOut(BaseModel):
    """A day the market is closed: a public holiday of the State Council's notice, or one the operator
    recorded (`recorded`)."""

    date: str
    name_zh: str
    name_en: str
    source: str
    recorded: bool


def recorded_closure_out(row: MarketClosure) -> ClosureOut:
    return ClosureOut(date=row.day.isoformat(), name_zh=row.name_zh, name_en=row.name_en, source=row.source,
                      recorded=True)


class CalendarOut(BaseModel):
    """The trading periods (交易时段, Asia/Shanghai, [start, end] as HH:MM; the field keeps its public name
    `sessions`), the market's state now, and the closures of the coming year; `years` names the years the
    calendar holds closures of."""

    timezone: str
    always_open: bool
    sessions: list[list[str]]
    opening_call: str | None
    state: str
    today: str
    today_is_trading_day: bool
    next_trading_day: str
    years: list[int]
    closures: list[ClosureOut]


def calendar_out(hours: MarketHours, now: datetime, today: date) -> dict[str, Any]:
    calendar = hours.calendar
    return {
        "timezone": "Asia/Shanghai",
        "always_open": hours.always_open,
        "sessions": [[start.isoformat("minutes"), end.isoformat("minutes")] for start, end in hours.periods],
        "opening_call": hours.opening_call.isoformat("minutes") if hours.opening_call else None,
        "state": hours.state_at(now),
        "today": today.isoformat(),
        "today_is_trading_day": calendar.is_trading_day(today),
        "next_trading_day": calendar.next_trading_day(today).isoformat(),
        "years": calendar.years,
        "closures": [{"date": c.day.isoformat(), "name_zh": c.name_zh, "name_en": c.name_en, "source": c.source,
                      "recorded": c.recorded}
                     for c in calendar.closures_between(today, today + timedelta(days=366))],
    }
