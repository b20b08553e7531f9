"""Instruments the exchange trades (Art. 18): certified reductions of a vintage, optionally of one
methodology field, mapped to the registry's batches; and who may trade them (Art. 19).

`define`, `set_status` and `set_trading_status` write in the caller's transaction (the demo data, the load
generator and tests set up several at once); `add_instrument`, `change_status` and `change_trading_status`
are the operator's use cases and commit."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select

from registry.errors import NotFound, RuleViolation, StateConflict
from registry.orm import Batch, Filing, Instrument, Methodology, MethodologyVersion, Participant
from registry.repositories import instruments as instrument_repo
from registry.repositories import participants as participant_repo
from registry.statements import FixedStatement
from registry.unit_of_work import UnitOfWork
from rules.violations import Violation


def define(uow: UnitOfWork, *, code: str, name_zh: str, name_en: str, vintage: int, methodology_field: str | None,
           config: dict[str, Any]) -> Instrument:
    """A new instrument (operator); `config` is the matching engine's settings, validated by the caller."""
    if instrument_repo.code_taken(uow.session, code):
        raise StateConflict(f"Instrument {code} already exists.", f"交易品种 {code} 已存在。")
    # A batch belongs to one instrument only: a vintage-wide instrument overlaps every field of that vintage.
    clash = instrument_repo.covering_code(uow.session, vintage, methodology_field)
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


def add_instrument(uow: UnitOfWork, *, code: str, name_zh: str, name_en: str, vintage: int,
                   methodology_field: str | None, config: dict[str, Any]) -> Instrument:
    """The operator defines an instrument (see `define`); commits."""
    instrument = define(uow, code=code, name_zh=name_zh, name_en=name_en, vintage=vintage,
                        methodology_field=methodology_field, config=config)
    uow.commit()
    return instrument


def get(uow: UnitOfWork, code: str) -> Instrument:
    instrument = instrument_repo.instrument_by_code(uow.session, code)
    if instrument is None:
        raise NotFound(f"Instrument {code} not found.", f"未找到交易品种 {code}。")
    return instrument


def code_of(uow: UnitOfWork, instrument_id: int) -> str | None:
    """An instrument's code (None when there is none with that id); a code never changes."""
    return instrument_repo.code_of(uow.session, instrument_id)


def all_instruments(uow: UnitOfWork) -> list[Instrument]:
    return instrument_repo.all_instruments(uow.session)


def set_status(uow: UnitOfWork, code: str, status: str, reason: str) -> Instrument:
    instrument = get(uow, code)
    previous, instrument.status = instrument.status, status
    uow.audit("instrument.status_changed", "instrument", code, {"from": previous, "to": status, "reason": reason})
    return instrument


def change_status(uow: UnitOfWork, code: str, status: str, reason: str) -> Instrument:
    """The operator halts or resumes an instrument (see `set_status`); commits."""
    instrument = set_status(uow, code, status, reason)
    uow.commit()
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
    participant = participant_repo.participant(uow.session, participant_id, for_update=True)
    if participant is None:
        raise NotFound(f"Participant {participant_id} not found.", f"未找到主体 {participant_id}。")
    if status == "admitted" and participant.status == "disqualified":
        raise RuleViolation([Violation("JX-26", "Art. 26", None, "已被取消资格的主体不得准入交易。",
                                       "A disqualified participant cannot be admitted to trading.")])
    previous, participant.trading_status = participant.trading_status, status
    uow.audit("participant.trading_status_changed", "participant", participant_id,
              {"from": previous, "to": status, "reason": reason})
    return participant


def change_trading_status(uow: UnitOfWork, participant_id: int, status: str, reason: str) -> Participant:
    """The operator admits a participant to trading or suspends it (see `set_trading_status`); commits."""
    participant = set_trading_status(uow, participant_id, status, reason)
    uow.commit()
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
    can take the book (api/exchange/cluster.py increments the epoch when it does), so a writer that finds its
    own epoch here commits as the book's one owner."""
    return instrument_repo.book_epoch(uow.session, instrument_id, for_share=True)
