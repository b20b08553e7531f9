"""Trading sessions and calendar: when the books are open (Asia/Shanghai), and the engine commands that
move a book from one phase to the next as time passes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from matching_engine import CloseDay, Command, OpenDay, Phase, SetPhase
from registry.clock import SHANGHAI


@dataclass(frozen=True, slots=True)
class MarketHours:
    """Sessions on working days (Monday to Friday; public holidays are not in the calendar yet)."""

    sessions: tuple[tuple[time, time], ...]
    always_open: bool = False

    @classmethod
    def parse(cls, text: str, always_open: bool) -> MarketHours:
        """'09:30-11:30,13:00-15:00' → two sessions."""
        sessions = []
        for part in text.split(","):
            start, end = (time.fromisoformat(p.strip()) for p in part.split("-"))
            if end <= start:
                raise ValueError(f"a session must end after it starts: {part}")
            sessions.append((start, end))
        return cls(tuple(sorted(sessions)), always_open)

    def state_at(self, instant: datetime) -> str:
        """'open' inside a session, 'break' between two sessions of a working day, 'closed' otherwise."""
        if self.always_open:
            return "open"
        local = instant.astimezone(SHANGHAI)
        if local.weekday() >= 5 or not self.sessions:
            return "closed"
        now = local.time()
        if any(start <= now < end for start, end in self.sessions):
            return "open"
        if self.sessions[0][0] <= now < self.sessions[-1][1]:
            return "break"
        return "closed"


def phase_for(hours: MarketHours, instant: datetime) -> Phase:
    """The phase a book rebuilt at `instant` starts in."""
    return {"open": Phase.CONTINUOUS, "break": Phase.HALTED}.get(hours.state_at(instant), Phase.CLOSED)


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
        commands.append(OpenDay(ts_ms, today, Phase.CONTINUOUS))
        if state == "break":
            commands.append(SetPhase(ts_ms, Phase.HALTED))
    elif state == "open" and phase == Phase.HALTED:
        commands.append(SetPhase(ts_ms, Phase.CONTINUOUS))
    elif state == "break" and phase == Phase.CONTINUOUS:
        commands.append(SetPhase(ts_ms, Phase.HALTED))
    return commands
