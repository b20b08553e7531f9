"""Trading days: weekends and the State Council's public holidays are closed; 调休 weekend working days are not
trading days (exchanges never trade on a weekend)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from api.exchange.market_hours import MarketHours
from registry.clock import SHANGHAI
from registry.trading_calendar import Closure, TradingCalendar, official_calendar

CALENDAR = official_calendar()


@pytest.mark.parametrize("day,trading", [
    (date(2026, 2, 13), True),   # Friday before the Spring Festival
    (date(2026, 2, 14), False),  # Saturday worked by offices (调休) but not a trading day
    (date(2026, 2, 16), False),  # Spring Festival
    (date(2026, 2, 23), False),  # its last day, a Monday
    (date(2026, 2, 24), True),
    (date(2026, 10, 7), False),  # National Day
    (date(2026, 10, 8), True),
    (date(2026, 10, 10), False),  # Saturday worked by offices
    (date(2025, 10, 8), False),  # 2025: National Day and Mid-Autumn together until the 8th
    (date(2025, 10, 9), True),
])
def test_trading_days(day: date, trading: bool) -> None:
    assert CALENDAR.is_trading_day(day) is trading


def test_the_resale_lock_lasts_over_a_holiday() -> None:
    assert CALENDAR.next_trading_day(date(2026, 11, 23)) == date(2026, 11, 24)
    assert CALENDAR.next_trading_day(date(2026, 11, 27)) == date(2026, 11, 30)  # Friday → Monday
    assert CALENDAR.next_trading_day(date(2026, 2, 13)) == date(2026, 2, 24)  # over the Spring Festival
    assert CALENDAR.next_trading_day(date(2026, 9, 30)) == date(2026, 10, 8)  # over National Day


def test_the_market_is_closed_on_a_holiday_during_trading_hours() -> None:
    hours = MarketHours.parse("09:30-11:30,13:00-15:00", always_open=False)
    assert hours.state_at(datetime(2026, 10, 2, 10, 0, tzinfo=SHANGHAI)) == "closed"
    assert hours.state_at(datetime(2026, 10, 8, 10, 0, tzinfo=SHANGHAI)) == "open"


def test_the_calendar_file_lists_weekday_closures_of_known_years_only() -> None:
    assert CALENDAR.years == [2025, 2026]
    assert all(d.weekday() < 5 for d in CALENDAR.closures)
    with pytest.raises(ValueError, match="weekend"):
        TradingCalendar.from_rows([Closure(date(2026, 2, 14), "春节", "Spring Festival", "test")])
    with pytest.raises(ValueError, match="twice"):
        TradingCalendar.from_rows([Closure(date(2026, 2, 16), "春节", "Spring Festival", "t")] * 2)


def test_closures_between_two_days() -> None:
    names = [(c.day.isoformat(), c.name_en) for c in CALENDAR.closures_between(date(2026, 9, 20), date(2026, 10, 5))]
    assert names == [("2026-09-25", "Mid-Autumn Festival"), ("2026-10-01", "National Day"),
                     ("2026-10-02", "National Day"), ("2026-10-05", "National Day")]


def test_recorded_closures_join_the_calendar_and_one_it_already_has_counts_once() -> None:
    new_year = Closure(date(2027, 1, 1), "元旦", "New Year's Day", "2027 notice", recorded=True)
    national_day = Closure(date(2026, 10, 1), "国庆节", "National Day", "recorded too", recorded=True)
    calendar = CALENDAR.including([new_year, national_day])
    assert not calendar.is_trading_day(date(2027, 1, 1)) and CALENDAR.is_trading_day(date(2027, 1, 1))
    assert calendar.next_trading_day(date(2026, 12, 31)) == date(2027, 1, 4)
    assert calendar.closures[date(2026, 10, 1)].recorded is False  # the shipped notice's own
    assert calendar.years == [2025, 2026, 2027]
    hours = MarketHours.parse("09:30-11:30,13:00-15:00", always_open=False, opening_call="09:15")
    at_ten = datetime(2027, 1, 1, 10, 0, tzinfo=SHANGHAI)
    assert hours.state_at(at_ten) == "open"
    assert MarketHours(hours.periods, False, hours.opening_call, calendar).state_at(at_ten) == "closed"
