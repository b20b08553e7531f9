"""Rules of order entry that need no database: whether a book takes orders, whether an instant a command gives
lies where the exchange can keep it, and what a market buy holds cash against. Each returns what is wrong (or
the value the rule decides); registry/services/trading.py raises the refusals over the facts it has loaded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rules.violations import Violation

HALTED = Violation("HALTED", "Art. 20", "instrument", "该交易品种已暂停交易。", "Trading in this instrument is halted.")


def halted(instrument_status: str) -> list[Violation]:
    """An instrument whose status is not active takes no new orders, listings, proposals, auctions or bids
    (Art. 20); cancels and withdrawals still go through."""
    return [] if instrument_status == "active" else [HALTED]


@dataclass(frozen=True, slots=True)
class InstantProblem:
    """Why an instant a command gives cannot be kept, in both languages, with its violation."""

    message_en: str
    message_zh: str
    violation: Violation


def instant_problem(field: str, at: datetime, now: datetime, horizon_days: int) -> InstantProblem | None:
    """An expiry or an auction's end must carry a time zone, lie after now and no further ahead than the
    exchange's horizon (CARBONX_MAX_HORIZON_DAYS). The API bounds every instant already; this also guards a
    command that came another way (routed from a process of another version, say)."""
    try:
        utc = at.astimezone(UTC) if at.tzinfo is not None else None
    except (TypeError, ValueError, OverflowError):
        utc = None
    if utc is None:
        return InstantProblem(f"{field} is not an instant with a time zone the exchange can keep.",
                              f"{field} 不是带时区且可保存的时间。",
                              Violation("INVALID_INSTANT", "Art. 20", field, "时间无效。", "Not a valid instant."))
    if utc <= now:
        return InstantProblem(f"{field} must lie after now ({now.isoformat()}).",
                              f"{field} 必须晚于当前时间（{now.isoformat()}）。",
                              Violation("INSTANT_PASSED", "Art. 20", field, "该时间已过。", "That instant has passed."))
    if utc > now + timedelta(days=horizon_days):
        return InstantProblem(f"{field} must lie within {horizon_days} days of now.",
                              f"{field} 不得晚于当前时间之后 {horizon_days} 天。",
                              Violation("BEYOND_HORIZON", "Art. 20", field, f"该时间超出 {horizon_days} 天的期限。",
                                        f"That instant lies beyond the {horizon_days}-day horizon."))
    return None


def in_utc(at: datetime) -> datetime:
    """An instant `instant_problem` accepted, in UTC."""
    return at.astimezone(UTC)


def hold_price_fen(order_type: str, side: str, price_fen: int | None, protection_price_fen: int | None,
                   band: tuple[int, int] | None) -> int | None:
    """The price an order holds cash (and fee) against: a limit order's own price; a market buy's
    protection price, or else the top of the instrument's price band. None for a market buy with neither
    (refused: it could cost anything) and for a market sell (it holds credits, not cash)."""
    if order_type == "MARKET" and side == "buy":
        return protection_price_fen or (band[1] if band else None)
    return price_fen


def time_in_force(order_type: str, tif: str | None) -> str:
    """A market order lives immediately-or-cancel, a limit order good-till-cancelled, unless it says."""
    return tif or ("IOC" if order_type == "MARKET" else "GTC")
