"""Trading days in Jiaxing: Monday to Friday, except the public holidays of the State Council's yearly notice.

Exchanges in China close on those holidays and do not trade on the weekend days the notice turns into working
days (调休), so only the weekday closures are listed, in `market_closures.csv` beside this file. The notice for a
year comes out in the November before it; the operator records a year the file lacks, or a closure announced
ahead for another reason, in the database (registry.services.market_calendar), which this calendar then
includes. A year in neither is traded as plain Monday-to-Friday; `TradingCalendar.years` lets the operator see
which years are covered.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path

CLOSURES_FILE = Path(__file__).with_name("market_closures.csv")


@dataclass(frozen=True, slots=True)
class Closure:
    day: date
    name_zh: str
    name_en: str
    source: str
    recorded: bool = False  # recorded by the operator (not shipped with the code): it may be withdrawn


@dataclass(frozen=True, slots=True)
class TradingCalendar:
    closures: dict[date, Closure]

    @classmethod
    def from_rows(cls, rows: list[Closure]) -> TradingCalendar:
        by_day: dict[date, Closure] = {}
        for row in rows:
            if row.day.weekday() >= 5:
                raise ValueError(f"{row.day} is a weekend day: only weekday closures belong in the calendar")
            if row.day in by_day:
                raise ValueError(f"{row.day} is listed twice")
            by_day[row.day] = row
        return cls(by_day)

    def including(self, recorded: list[Closure]) -> TradingCalendar:
        """This calendar with the operator's closures added. A day this calendar already closes counts once, as
        its own: a later release may ship the holidays the operator recorded from the same notice."""
        return TradingCalendar.from_rows([*self.closures.values(),
                                          *(row for row in recorded if row.day not in self.closures)])

    @property
    def years(self) -> list[int]:
        """The years whose holiday notice is in the calendar."""
        return sorted({d.year for d in self.closures})

    def is_trading_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.closures

    def next_trading_day(self, day: date) -> date:
        day += timedelta(days=1)
        while not self.is_trading_day(day):
            day += timedelta(days=1)
        return day

    def closures_between(self, first: date, last: date) -> list[Closure]:
        return [c for d, c in sorted(self.closures.items()) if first <= d <= last]


@cache
def official_calendar() -> TradingCalendar:
    """The calendar shipped with the code (read once)."""
    with CLOSURES_FILE.open(encoding="utf-8", newline="") as f:
        return TradingCalendar.from_rows([
            Closure(date.fromisoformat(r["date"]), r["name_zh"], r["name_en"], r["source"]) for r in csv.DictReader(f)])
