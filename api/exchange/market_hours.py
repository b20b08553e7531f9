"""Trading periods (交易时段) and calendar: when the books are open (Asia/Shanghai), and the engine commands that
move a book from one phase to the next as time passes. A trading period is one stretch of continuous trading on a
trading day (09:30–11:30, 13:00–15:00); "session" in this code base means the database session only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time

from matching_engine import CloseDay, Command, OpenDay, Phase, SetPhase
from registry.clock import SHANGHAI
from registry.trading_calendar import TradingCalendar, official_calendar


@dataclass(frozen=True, slots=True)
class MarketHours:
    """Trading periods on trading days (Monday to Friday except public holidays, see registry.trading_calendar)."""

    periods: tuple[tuple[time, time], ...]
    always_open: bool = False
    opening_call: time | None = None  # the opening call auction (集合竞价) runs from here to the first period
    calendar: TradingCalendar = field(default_factory=official_calendar)

    @classmethod
    def parse(cls, text: str, always_open: bool, opening_call: str = "") -> MarketHours:
        """'09:30-11:30,13:00-15:00' → two trading periods; `opening_call` '09:15' starts the call auction."""
        periods = []
        for part in text.split(","):
            start, end = (time.fromisoformat(p.strip()) for p in part.split("-"))
            if end <= start:
                raise ValueError(f"a trading period must end after it starts: {part}")
            periods.append((start, end))
        ordered = tuple(sorted(periods))
        call = time.fromisoformat(opening_call) if opening_call else None
        if call is not None and ordered and call >= ordered[0][0]:
            raise ValueError("the opening call must start before the first trading period")
        return cls(ordered, always_open, call)

    def state_at(self, instant: datetime) -> str:
        """'open' inside a trading period, 'call' in the opening call auction, 'break' between two trading periods of a
        working day, 'closed' otherwise."""
        if self.always_open:
            return "open"
        local = instant.astimezone(SHANGHAI)
        if not self.calendar.is_trading_day(local.date()) or not self.periods:
            return "closed"
        now = local.time()
        if any(start <= now < end for start, end in self.periods):
            return "open"
        if self.opening_call is not None and self.opening_call <= now < self.periods[0][0]:
            return "call"
        if self.periods[0][0] <= now < self.periods[-1][1]:
            return "break"
        return "closed"


def phase_for(hours: MarketHours, instant: datetime) -> Phase:
    """The phase a book rebuilt at `instant` starts in."""
    return {"open": Phase.CONTINUOUS, "break": Phase.HALTED, "call": Phase.CALL}.get(hours.state_at(instant),
                                                                                       Phase.CLOSED)


def transitions(hours: MarketHours, instant: datetime, phase: Phase, trading_day: str,
                ts_ms: int) -> list[Command]:
    """The engine commands that bring a book in `phase` on `trading_day` to where the calendar says it is."""
    state = hours.state_at(instant)
    today = instant.astimezone(SHANGHAI).date().isoformat()
    commands: list[Command] = []
    if phase != Phase.CLOSED and (trading_day != today or state == "closed"):
        commands.append(CloseDay(ts_ms))
        phase = Phase.CLOSED
    if state == "closed":
        return commands
    if phase == Phase.CLOSED:
        commands.append(OpenDay(ts_ms, today, Phase.CALL if state == "call" else Phase.CONTINUOUS))
        if state == "break":
            commands.append(SetPhase(ts_ms, Phase.HALTED))
    elif state == "open" and phase in (Phase.HALTED, Phase.CALL):
        # Leaving the call auction uncrosses it: every crossing order trades at the one clearing price.
        commands.append(SetPhase(ts_ms, Phase.CONTINUOUS))
    elif state == "break" and phase == Phase.CONTINUOUS:
        commands.append(SetPhase(ts_ms, Phase.HALTED))
    return commands
