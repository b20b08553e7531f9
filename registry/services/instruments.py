"""Instruments the exchange trades (Art. 18): certified reductions of a vintage, optionally of one
methodology field, mapped to the registry's batches; and who may trade them (Art. 19)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, or_, select

from registry.errors import NotFound, RuleViolation, StateConflict
from registry.orm import Batch, BookOwner, Filing, Instrument, Methodology, MethodologyVersion, Participant
from registry.statements import FixedStatement
from registry.unit_of_work import UnitOfWork
from rules.violations import Violation


def define(uow: UnitOfWork, *, code: str, name_zh: str, name_en: str, vintage: int, methodology_field: str | None,
           config: dict[str, Any]) -> Instrument:
    """A new instrument (operator); `config` is the matching engine's settings, validated by the caller."""
    if uow.session.scalar(select(Instrument.id).where(Instrument.code == code)):
        raise StateConflict(f"Instrument {code} already exists.", f"交易品种 {code} 已存在。")
    # A batch belongs to one instrument only: a vintage-wide instrument overlaps every field of that vintage.
    query = select(Instrument.code).where(Instrument.vintage == vintage)
    if methodology_field is not None:
        query = query.where(or_(Instrument.methodology_field.is_(None),
                                Instrument.methodology_field == methodology_field))
    clash = uow.session.scalar(query)
    if clash:
        raise StateConflict(f"Instrument {clash} already covers these batches.", f"交易品种 {clash} 已覆盖这些批次。")
    instrument = Instrument(code=code, name_zh=name_zh, name_en=name_en, vintage=vintage,
                            methodology_field=methodology_field, config=config, status="active",
                            created_at=uow.now())
    uow.session.add(instrument)
    uow.session.flush()
    uow.audit("instrument.defined", "instrument", code,
              {"vintage": vintage, "methodology_field": methodology_field, "config": config})
    return instrument


def get(uow: UnitOfWork, code: str) -> Instrument:
    instrument = uow.session.scalar(select(Instrument).where(Instrument.code == code))
    if instrument is None:
        raise NotFound(f"Instrument {code} not found.", f"未找到交易品种 {code}。")
    return instrument


def code_of(uow: UnitOfWork, instrument_id: int) -> str | None:
    """An instrument's code (None when there is none with that id); a code never changes."""
    return uow.session.scalar(select(Instrument.code).where(Instrument.id == instrument_id))


def all_instruments(uow: UnitOfWork) -> list[Instrument]:
    return list(uow.session.scalars(select(Instrument).order_by(Instrument.code)))


def set_status(uow: UnitOfWork, code: str, status: str, reason: str) -> Instrument:
    instrument = get(uow, code)
    previous, instrument.status = instrument.status, status
    uow.audit("instrument.status_changed", "instrument", code, {"from": previous, "to": status, "reason": reason})
    return instrument


def batch_ids(uow: UnitOfWork, instrument: Instrument) -> list[int]:
    """The batches this instrument trades: its vintage and, when it names one, its methodology field."""
    if instrument.methodology_field is None:
        return [row[0] for row in uow.sql.fetch(_VINTAGE_BATCHES, {"vintage": instrument.vintage})]
    return [row[0] for row in uow.sql.fetch(_FIELD_BATCHES, {"vintage": instrument.vintage,
                                                          "field": instrument.methodology_field})]


# Read by an instrument's writer with every batch: fixed statements (see FixedStatement).
_VINTAGE_BATCHES = FixedStatement(lambda _: select(Batch.id).where(Batch.vintage == bindparam("vintage"))
                                  .order_by(Batch.id))
_FIELD_BATCHES = FixedStatement(lambda _: select(Batch.id).where(Batch.vintage == bindparam("vintage"))
                                .join(Filing, Filing.id == Batch.filing_id)
                                .join(MethodologyVersion, MethodologyVersion.id == Filing.methodology_version_id)
                                .join(Methodology, Methodology.id == MethodologyVersion.methodology_id)
                                .where(Methodology.field == bindparam("field")).order_by(Batch.id))


def set_trading_status(uow: UnitOfWork, participant_id: int, status: str, reason: str) -> Participant:
    """Admit a participant to trading, or suspend it (operator, Art. 19)."""
    participant = uow.session.get(Participant, participant_id, with_for_update=True)
    if participant is None:
        raise NotFound(f"Participant {participant_id} not found.", f"未找到主体 {participant_id}。")
    if status == "admitted" and participant.status == "disqualified":
        raise RuleViolation([Violation("JX-26", "Art. 26", None, "已被取消资格的主体不得准入交易。",
                                       "A disqualified participant cannot be admitted to trading.")])
    previous, participant.trading_status = participant.trading_status, status
    uow.audit("participant.trading_status_changed", "participant", participant_id,
              {"from": previous, "to": status, "reason": reason})
    return participant


def trading_violations(participant: Participant) -> list[Violation]:
    """Why a participant may not trade now (none when it may)."""
    problems = []
    if participant.status != "active":
        problems.append(Violation("JX-26", "Art. 26", None, "主体已被暂停或取消资格，不得交易。",
                                  "The participant is suspended or disqualified and may not trade."))
    if participant.trading_status != "admitted":
        problems.append(Violation("JX-19", "Art. 19", None, "主体尚未获准入交易或已被暂停交易。",
                                  "The participant is not admitted to trading, or its trading is suspended."))
    return problems


def book_epoch(uow: UnitOfWork, instrument_id: int) -> int | None:
    """The current owner epoch of an instrument's book, read FOR SHARE: until this transaction ends, no process
    can take the book (api/exchange/ownership.py increments the epoch when it does), so a writer that finds its
    own epoch here commits as the book's one owner."""
    return uow.session.scalar(select(BookOwner.epoch).where(BookOwner.instrument_id == instrument_id)
                              .with_for_update(read=True))
