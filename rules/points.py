"""Green-behaviour points (碳积分) from reduction scenarios (减排场景): how one behaviour record of a resident
is judged, in integer grams and points, over facts the service loaded first (Art. 4, 22, 28; JX-13-3).

A record is answered with an outcome and, unless plainly accepted, a code with a message in Chinese and
English. The checks run in a fixed order, the first that refuses wins (as a ledger's result codes do):
consent → ends before it starts / future / late → month already filed → the same trip counted in another
scenario (JX-13-3) → duplicate → a device on too many accounts (held for review) → per-record maximum → daily
cap → yearly cap.
Grams are integers rounded down (Art. 28: never over-count); points = grams × points per kg ÷ 1,000, down.
A batch is judged in order and each accepted record counts against the next (`BatchFacts` is updated), so two
records of one batch never slip past a cap together. Days are Asia/Shanghai days: the daily cap resets at
midnight in Jiaxing, not in UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

JIAXING = ZoneInfo("Asia/Shanghai")

ACCEPTED, CAPPED, REFUSED, HELD = "accepted", "capped", "refused", "held"
OUTCOMES = (ACCEPTED, CAPPED, REFUSED, HELD)
COUNTED = (ACCEPTED, CAPPED)  # outcomes whose grams are counted (points to the resident, tonnes to the operator)

CONSENT, LATE, FUTURE, FILED, OVERLAP, DUPLICATE, DEVICE = (
    "PTS-CONSENT", "PTS-LATE", "PTS-FUTURE", "PTS-FILED", "JX-13-3", "PTS-DUPLICATE", "PTS-DEVICE")
RECORD_MAX, DAILY_CAP, YEARLY_CAP, ACTIVITY, PERIOD = (
    "PTS-RECORD-MAX", "PTS-DAILY-CAP", "PTS-YEARLY-CAP", "PTS-ACTIVITY", "PTS-PERIOD")
NO_TRANSFER, CLOSED, MONTH_OPEN, SOLD_OUT, SHORT = (
    "PTS-NO-TRANSFER", "PTS-CLOSED", "PTS-MONTH-OPEN", "PTS-SOLD-OUT", "PTS-SHORT")

# code → (article, Chinese, English)
MESSAGES: dict[str, tuple[str, str, str]] = {
    CONSENT: ("Art. 4", "该居民未授权此场景，或授权已撤回：不计减排量。",
              "The resident has not consented to this scenario at that time (or revoked it): not counted."),
    LATE: ("Art. 14", "记录超过报送时限。", "The record arrived after the scenario's late window."),
    FUTURE: ("Art. 14", "记录时间晚于接收时间。", "The record is dated after it was received."),
    FILED: ("Art. 13", "该月减排量已申报备案，不再接收。", "That month was already filed; the record comes too late."),
    OVERLAP: ("Art. 13", "同一出行已在其他场景计入（不得重复计算）。",
              "The same trip was already counted in another scenario (no double counting)."),
    DUPLICATE: ("Art. 13", "同一居民在重复时间窗内的重复记录。",
                "A duplicate of the resident's record within the duplicate window."),
    DEVICE: ("Art. 27", "同一设备当日关联账户过多，待人工审核。",
             "One device on too many accounts that day: held for review."),
    RECORD_MAX: ("Art. 28", "单条记录超过上限，按上限计。", "Above the per-record maximum: counted at the maximum."),
    DAILY_CAP: ("Art. 28", "超过每日上限，超出部分不计。",
                "Above the resident's daily cap: the excess is not counted."),
    YEARLY_CAP: ("Art. 22", "超过年度积分上限，超出部分不计积分。",
                 "Above the yearly points cap: the excess earns no points."),
    ACTIVITY: ("Art. 14", "缺少方法学所需的活动数据。", "The activity value the methodology needs is missing."),
    PERIOD: ("Art. 14", "记录的结束时间早于开始时间。", "The record ends before it starts."),
    NO_TRANSFER: ("Art. 22", "碳积分不得在居民之间转让。", "Carbon points cannot be transferred between residents."),
    CLOSED: ("Art. 4", "账户已注销。", "The account is closed."),
    MONTH_OPEN: ("Art. 14", "该月尚未结束或仍在报送时限内，不能汇总申报。",
                 "The month has not ended, or records may still arrive within the late window: not yet filed."),
    SOLD_OUT: ("Art. 22", "该权益已兑完。", "The offer is out of stock."),
    SHORT: ("Art. 22", "可用碳积分不足。", "Not enough available points."),
}


def message(code: str) -> dict[str, str]:
    """The code with its article and its Chinese and English messages."""
    article, zh, en = MESSAGES[code]
    return {"code": code, "article": article, "message_zh": zh, "message_en": en}


@dataclass(frozen=True, slots=True)
class Terms:
    """A scenario's formula and limits, as registered. The formula is one line of its methodology version:
    grams = (baseline − mode) g/km × activity[activity_key] m ÷ 1,000, rounded down."""

    activity_key: str
    baseline_g_per_km: int
    mode_g_per_km: int
    max_grams_per_record: int
    daily_grams: int
    yearly_points: int
    late_days: int
    points_per_kg: int
    duplicate_window_s: int
    max_accounts_per_device: int


@dataclass(frozen=True, slots=True)
class Behaviour:
    """One record as the operator posted it; `account_id` None when its reference names no open account."""

    record_ref: str
    account_id: int | None
    started_at: datetime
    ended_at: datetime
    activity: Mapping[str, int]
    device_hash: str | None


@dataclass(frozen=True, slots=True)
class Judgement:
    outcome: str
    code: str | None
    grams: int
    points: int


@dataclass
class BatchFacts:
    """What the judgement of a batch needs, loaded by the service before it (and kept current by `judge`)."""

    consents: dict[int, list[tuple[datetime, datetime | None]]]  # account → (granted, revoked) periods
    day_grams: dict[tuple[int, date], int]  # (account, Jiaxing day) → grams counted so far
    year_points: dict[tuple[int, int], int]  # (account, year) → points earned so far
    other_legs: dict[int, list[tuple[datetime, datetime]]]  # account → trips counted in other scenarios
    own_starts: dict[int, list[datetime]]  # account → starts of trips counted in this scenario
    device_accounts: dict[tuple[str, date], set[int]]  # (device, day) → accounts seen with it
    filed_months: set[str]  # "YYYY-MM" already filed for this scenario
    seen_devices: list[tuple[str, date, int]] = field(default_factory=list)  # new (device, day, account)


def jiaxing_day(instant: datetime) -> date:
    """The day in Jiaxing (Asia/Shanghai) of an instant."""
    return instant.astimezone(JIAXING).date()


def month_of(instant: datetime) -> str:
    """'YYYY-MM' of the instant in Jiaxing."""
    return jiaxing_day(instant).strftime("%Y-%m")


def grams_of(terms: Terms, activity: Mapping[str, int]) -> int | None:
    """The record's grams by the scenario's formula, rounded down (Art. 28); None without the activity value."""
    quantity = activity.get(terms.activity_key)
    if quantity is None or quantity < 0:
        return None
    return max(0, (terms.baseline_g_per_km - terms.mode_g_per_km) * quantity // 1000)


def points_of(terms: Terms, grams: int) -> int:
    """Points for grams, rounded down."""
    return grams * terms.points_per_kg // 1000


def _consented(periods: list[tuple[datetime, datetime | None]], at: datetime) -> bool:
    return any(granted <= at and (revoked is None or at < revoked) for granted, revoked in periods)


def _overlaps(legs: list[tuple[datetime, datetime]], start: datetime, end: datetime) -> bool:
    # Half-open intervals: a bike leg that ends the second the metro leg starts is two trips, not one.
    return any(start < other_end and other_start < end for other_start, other_end in legs)


LATEST_AHEAD = timedelta(minutes=5)  # clocks of phones and gates drift; further ahead is refused


def judge(terms: Terms, record: Behaviour, facts: BatchFacts, received_at: datetime) -> Judgement:
    """Judge one record over the facts, and count it in them when it is counted."""
    def refused(code: str) -> Judgement:
        return Judgement(REFUSED, code, 0, 0)

    account = record.account_id
    if account is None or not _consented(facts.consents.get(account, []), record.started_at):
        return refused(CONSENT)
    if record.ended_at < record.started_at:
        return refused(PERIOD)
    if record.started_at > received_at + LATEST_AHEAD:
        return refused(FUTURE)
    if received_at - record.started_at > timedelta(days=terms.late_days):
        return refused(LATE)
    if month_of(record.started_at) in facts.filed_months:
        return refused(FILED)
    if _overlaps(facts.other_legs.get(account, []), record.started_at, record.ended_at):
        return refused(OVERLAP)
    window = timedelta(seconds=terms.duplicate_window_s)
    if any(abs(record.started_at - other) < window for other in facts.own_starts.get(account, [])):
        return refused(DUPLICATE)
    day = jiaxing_day(record.started_at)
    if record.device_hash is not None:
        accounts = facts.device_accounts.setdefault((record.device_hash, day), set())
        if account not in accounts:
            accounts.add(account)
            facts.seen_devices.append((record.device_hash, day, account))
        if len(accounts) > terms.max_accounts_per_device:
            return Judgement(HELD, DEVICE, 0, 0)
    grams = grams_of(terms, record.activity)
    if grams is None:
        return refused(ACTIVITY)
    code: str | None = None
    if grams > terms.max_grams_per_record:
        grams, code = terms.max_grams_per_record, RECORD_MAX
    used = facts.day_grams.get((account, day), 0)
    if grams > terms.daily_grams - used:
        grams, code = max(0, terms.daily_grams - used), DAILY_CAP
    points = points_of(terms, grams)
    year_used = facts.year_points.get((account, day.year), 0)
    if points > terms.yearly_points - year_used:
        points, code = max(0, terms.yearly_points - year_used), YEARLY_CAP
    facts.day_grams[(account, day)] = used + grams
    facts.year_points[(account, day.year)] = year_used + points
    facts.own_starts.setdefault(account, []).append(record.started_at)
    return Judgement(CAPPED if code else ACCEPTED, code, grams, points)


def expiry_day(earned_year: int) -> date:
    """Points earned in a year expire after the end of the following year."""
    return date(earned_year + 1, 12, 31)


def expired_years(today: date, earned_years: list[int]) -> list[int]:
    """The earning years whose points have expired by `today` (Jiaxing)."""
    return [year for year in earned_years if today > expiry_day(year)]


# The listed causes a resident may donate points to (name in Chinese and English).
DONATION_CAUSES: dict[str, tuple[str, str]] = {
    "tree-planting": ("嘉兴城市植树", "Tree planting in Jiaxing"),
    "wetland": ("南湖湿地保护", "South Lake wetland protection"),
    "school-solar": ("乡村学校光伏", "Solar panels for village schools"),
}


def tonnes_of(grams: int) -> int:
    """Whole tonnes of a month's grams, rounded down (Art. 28): 2,345,678 g → 2 t."""
    return grams // 1_000_000
