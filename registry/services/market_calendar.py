"""The market's closures: the public holidays shipped with the code (registry/market_closures.csv) and those the
operator records when a year's State Council notice comes out, or announces ahead for another reason.

Every process reads the recorded ones at most every REFRESH_S seconds (a closure is recorded a day ahead at
the latest, so no process can still be trading on it); the process that records or withdraws one sees it at
once.
"""

from __future__ import annotations

import threading
import time
import weakref
from datetime import date, timedelta

from sqlalchemy import Engine

from registry.errors import InvalidInput, NotFound, StateConflict
from registry.orm import MarketClosure
from registry.repositories import market_calendar as calendar_repo
from registry.trading_calendar import Closure, TradingCalendar, official_calendar
from registry.unit_of_work import UnitOfWork

SUBJECT_TYPE = "market_closure"
REFRESH_S = 60.0
HORIZON_DAYS = 731  # a closure is recorded at most this far ahead: a year's notice comes out the November before

_read: weakref.WeakKeyDictionary[Engine, tuple[float, TradingCalendar]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _engine(uow: UnitOfWork) -> Engine:
    bind = uow.session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def current(uow: UnitOfWork) -> TradingCalendar:
    """The calendar as it stands: the shipped closures and the recorded ones (read again after REFRESH_S)."""
    engine = _engine(uow)
    with _lock:
        found = _read.get(engine)
    if found is not None and time.monotonic() - found[0] < REFRESH_S:
        return found[1]
    calendar = official_calendar().including([_closure(row) for row in recorded(uow)])
    with _lock:
        _read[engine] = (time.monotonic(), calendar)
    return calendar


def forget(uow: UnitOfWork) -> None:
    """After a closure is recorded or withdrawn (and committed): read the calendar again next time."""
    with _lock:
        _read.pop(_engine(uow), None)


def recorded(uow: UnitOfWork) -> list[MarketClosure]:
    return calendar_repo.recorded_closures(uow.session)


def _closure(row: MarketClosure) -> Closure:
    return Closure(row.day, row.name_zh, row.name_en, row.source, recorded=True)


def _not_begun(uow: UnitOfWork, day: date, doing_en: str, doing_zh: str) -> None:
    if day <= uow.today():
        raise InvalidInput(f"Only a day not yet begun can be {doing_en}: {day} is not after today ({uow.today()}).",
                           f"只能{doing_zh}尚未开始的日期：{day} 不晚于今天（{uow.today()}）。")


def record(uow: UnitOfWork, day: date, name_zh: str, name_en: str, source: str) -> MarketClosure:
    """Close the market on a weekday not yet begun (the operator)."""
    _not_begun(uow, day, "closed", "休市")
    if day > uow.today() + timedelta(days=HORIZON_DAYS):
        raise InvalidInput(
            f"{day} is more than {HORIZON_DAYS} days ahead: a holiday notice covers the next year (a mistyped year?).",
            f"{day} 超出 {HORIZON_DAYS} 天以后：节假日通知只涉及次年（年份是否有误？）。")
    if day.weekday() >= 5:
        raise InvalidInput(f"{day} is a weekend day: the market is closed on it anyway.",
                           f"{day} 是周末，本就休市。")
    if day in official_calendar().closures or calendar_repo.closure(uow.session, day) is not None:
        raise StateConflict(f"The market is already closed on {day}.", f"{day} 已是休市日。")
    assert uow.actor is not None
    row = MarketClosure(day=day, name_zh=name_zh, name_en=name_en, source=source,
                        recorded_by=uow.actor.user_id, recorded_at=uow.now())
    uow.session.add(row)
    uow.audit("market_closure.recorded", SUBJECT_TYPE, day.isoformat(),
              {"day": day.isoformat(), "name_zh": name_zh, "name_en": name_en, "source": source})
    return row


def withdraw(uow: UnitOfWork, day: date) -> None:
    """Take back a recorded closure of a day not yet begun (the shipped holidays are the notice's, not ours)."""
    row = calendar_repo.closure(uow.session, day)
    if row is None:
        if day in official_calendar().closures:
            raise StateConflict(f"{day} is a public holiday of the State Council's notice; it cannot be withdrawn.",
                                f"{day} 是国务院办公厅通知的法定节假日，不能撤销。")
        raise NotFound(f"No closure recorded on {day}.", f"{day} 没有登记的休市安排。")
    _not_begun(uow, day, "withdrawn", "撤销")
    uow.session.delete(row)
    uow.audit("market_closure.withdrawn", SUBJECT_TYPE, day.isoformat(), {"day": day.isoformat()})


def record_closure(uow: UnitOfWork, day: date, name_zh: str, name_en: str, source: str) -> MarketClosure:
    """The operator closes the market on a day (see `record`); commits, and this process reads the calendar
    again at once."""
    row = record(uow, day, name_zh, name_en, source)
    uow.commit()
    forget(uow)
    return row


def withdraw_closure(uow: UnitOfWork, day: date) -> None:
    """The operator withdraws a closure it recorded (see `withdraw`); commits, and this process reads the
    calendar again at once."""
    withdraw(uow, day)
    uow.commit()
    forget(uow)
