"""The trading calendar: trading periods 09:30–11:30 and 13:00–15:00 in Jiaxing, Monday to Friday."""

from __future__ import annotations

from datetime import datetime

import pytest

from api.exchange.market_hours import MarketHours, transitions
from matching_engine import CloseDay, OpenDay, Phase, SetPhase
from registry.clock import SHANGHAI

HOURS = MarketHours.parse("09:30-11:30,13:00-15:00", always_open=False)


def at(hhmm: str, day: int = 23) -> datetime:  # 2026-11-23 is a Monday
    return datetime(2026, 11, day, int(hhmm[:2]), int(hhmm[3:]), tzinfo=SHANGHAI)


@pytest.mark.parametrize("hhmm,state", [("09:29", "closed"), ("09:30", "open"), ("11:29", "open"),
                                        ("11:30", "break"), ("12:59", "break"), ("13:00", "open"),
                                        ("14:59", "open"), ("15:00", "closed")])
def test_trading_period_boundaries(hhmm: str, state: str) -> None:
    assert HOURS.state_at(at(hhmm)) == state


def test_weekends_are_closed_and_the_demo_is_always_open() -> None:
    assert HOURS.state_at(at("10:00", day=28)) == "closed"  # Saturday
    assert MarketHours.parse("09:30-11:30", always_open=True).state_at(at("03:00", day=28)) == "open"


def test_transitions_through_a_day() -> None:
    opening = transitions(HOURS, at("09:30"), Phase.CLOSED, "2026-11-20", 1)
    assert opening == [OpenDay(1, "2026-11-23", Phase.CONTINUOUS)]
    assert transitions(HOURS, at("11:30"), Phase.CONTINUOUS, "2026-11-23", 2) == [SetPhase(2, Phase.HALTED)]
    assert transitions(HOURS, at("13:00"), Phase.HALTED, "2026-11-23", 3) == [SetPhase(3, Phase.CONTINUOUS)]
    assert transitions(HOURS, at("15:00"), Phase.CONTINUOUS, "2026-11-23", 4) == [CloseDay(4)]
    assert transitions(HOURS, at("10:00", day=24), Phase.CONTINUOUS, "2026-11-23", 5) == [
        CloseDay(5), OpenDay(5, "2026-11-24", Phase.CONTINUOUS)]
    assert transitions(HOURS, at("12:00"), Phase.CLOSED, "2026-11-20", 6) == [
        OpenDay(6, "2026-11-23", Phase.CONTINUOUS), SetPhase(6, Phase.HALTED)]
    assert transitions(HOURS, at("10:00"), Phase.CONTINUOUS, "2026-11-23", 7) == []


def test_a_trading_period_must_end_after_it_starts() -> None:
    with pytest.raises(ValueError):
        MarketHours.parse("11:30-09:30", always_open=False)


def test_the_opening_call_auction() -> None:
    hours = MarketHours.parse("09:30-11:30,13:00-15:00", always_open=False, opening_call="09:15")
    assert [hours.state_at(at(t)) for t in ("09:14", "09:15", "09:29", "09:30")] == ["closed", "call", "call", "open"]
    assert transitions(hours, at("09:20"), Phase.CLOSED, "2026-11-20", 1) == [OpenDay(1, "2026-11-23", Phase.CALL)]
    assert transitions(hours, at("09:30"), Phase.CALL, "2026-11-23", 2) == [SetPhase(2, Phase.CONTINUOUS)]
    with pytest.raises(ValueError):
        MarketHours.parse("09:30-11:30", always_open=False, opening_call="09:45")
