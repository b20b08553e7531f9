"""Event carbon neutrality (大型活动碳中和, Art. 21, 24, 28): an event's emission inventory, the offsets that
may count, who may assess it, and when it is neutral or overdue.

The boundary is the one of the national guideline for large events (大型活动碳中和实施指南（试行）, MEE
announcement 2019 No. 19): venue fuel, purchased electricity and heat, service vehicles, attendees' travel,
accommodation, catering, purchased materials and waste. Every source is either counted or excluded with a
reason (complete and transparent, Art. 28).

Arithmetic: a line is quantity × factor in exact decimals, turned into whole grams rounding UP; the total is
the sum of the lines' grams, and the tonnes to offset are that total rounded UP to whole tonnes, so a
neutrality claim never falls short (conservative, Art. 28). 12.3 t of emissions needs 13 t of retirements.

Codes: JX-28 an incomplete inventory (a source neither counted nor excluded with a reason, a bad quantity);
JX-21 an offset that cannot count or a shortfall; JX-15 an assessor who prepared the inventory (the reading
of Art. 15 the registry applies to every judgement); JX-24 a statement asked for before the event ended.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal

from rules.emission_factors import Factor, Selection, select_factor, trace_hash
from rules.violations import Violation

GRAMS_PER_TONNE = 1_000_000
GRAMS_PER_KG = 1_000

# The guideline's emission sources, in the order a statement lists them: (key, Chinese, English).
SOURCES: tuple[tuple[str, str, str], ...] = (
    ("venue_fuel", "场馆化石燃料燃烧", "Venue fuel combustion"),
    ("purchased_electricity", "外购电力", "Purchased electricity"),
    ("purchased_heat", "外购热力", "Purchased heat"),
    ("service_vehicles", "活动保障车辆", "Service vehicles"),
    ("attendee_travel", "参会人员交通", "Attendees' travel"),
    ("accommodation", "住宿", "Accommodation"),
    ("catering", "餐饮", "Catering"),
    ("materials", "物料", "Purchased materials"),
    ("waste", "废弃物处理", "Waste"),
)
SOURCE_KEYS = tuple(key for key, _, _ in SOURCES)

EVENT_TYPES = ("performance", "match", "conference", "forum", "exhibition")

# Stored states and the two a reader derives from the calendar.
PLANNED, HELD, INVENTORIED, NEUTRAL, OVERDUE = "planned", "held", "inventoried", "neutral", "overdue"
DEFAULT_DEADLINE_DAYS = 365  # neutrality declared within one year after the event's end (configurable)

DECLARATION, THIRD_PARTY = "declaration", "third_party"


@dataclass(frozen=True, slots=True)
class Activity:
    """One counted activity: how much of what, under which source."""

    source: str
    activity: str
    quantity: Decimal
    note: str = ""


def travel(source: str, mode_activity: str, distance_km: Decimal, persons: int, *, round_trip: bool = True,
           note: str = "") -> Activity:
    """Attendees' travel as passenger-kilometres: mode × distance × persons, twice for a round trip."""
    legs = 2 if round_trip else 1
    return Activity(source, mode_activity, distance_km * persons * legs, note)


@dataclass(frozen=True, slots=True)
class Line:
    """One inventory line: activity × factor@version = grams CO2e (rounded up), with the choice's trace."""

    source: str
    activity: str
    quantity: Decimal
    unit: str
    factor: str  # code@version
    value_kg: Decimal
    emissions_g: int
    selection: dict[str, object]
    note: str = ""

    def as_dict(self) -> dict[str, object]:
        """JSON-safe (decimals as strings)."""
        return {"source": self.source, "activity": self.activity, "quantity": format(self.quantity, "f"),
                "unit": self.unit, "factor": self.factor, "value_kg": format(self.value_kg, "f"),
                "emissions_g": self.emissions_g, "selection": self.selection, "note": self.note}


@dataclass(frozen=True, slots=True)
class Inventory:
    """A computed inventory: lines, exclusions with reasons, the total in grams and in tonnes to offset."""

    lines: tuple[Line, ...]
    exclusions: Mapping[str, str]
    total_g: int
    total_t: int
    trace_hash: str

    def grams_by_source(self) -> dict[str, int]:
        """Grams per source, in the guideline's order, counted sources only."""
        totals = {key: 0 for key in SOURCE_KEYS}
        for line in self.lines:
            totals[line.source] += line.emissions_g
        return {k: v for k, v in totals.items() if v or any(line.source == k for line in self.lines)}


def line_grams(quantity: Decimal, value_kg: Decimal) -> int:
    """quantity × kg-per-unit in grams, rounded up to the whole gram (never under-counted)."""
    return int((quantity * value_kg * GRAMS_PER_KG).to_integral_value(rounding=ROUND_CEILING))


def tonnes_to_offset(total_g: int) -> int:
    """Whole tonnes that cover `total_g`, rounded up: 12.3 t needs 13 t."""
    return -(-total_g // GRAMS_PER_TONNE)


def _v(code: str, article: str, field: str | None, zh: str, en: str) -> Violation:
    return Violation(code, article, field, zh, en)


def compute(activities: Sequence[Activity], exclusions: Mapping[str, str], factors: Iterable[Factor],
            region: str, day: date) -> Inventory | list[Violation]:
    """The inventory of an event held in `region` with factors in force on `day` (the event's first day):
    every line's factor chosen by rules.emission_factors, every violation found returned at once."""
    factors = list(factors)
    problems: list[Violation] = []
    lines: list[Line] = []
    for i, item in enumerate(activities):
        where = f"activities[{i}]"
        if item.source not in SOURCE_KEYS:
            problems.append(_v("JX-28", "Art. 28", f"{where}.source", f"未知的排放源 {item.source}。",
                               f"Unknown emission source {item.source}."))
            continue
        if not item.quantity.is_finite() or item.quantity < 0:
            problems.append(_v("JX-28", "Art. 28", f"{where}.quantity", "活动水平须为非负的有限数。",
                               "An activity quantity is a finite, non-negative number."))
            continue
        chosen = select_factor(factors, item.activity, region, day)
        if isinstance(chosen, Violation):
            problems.append(Violation(chosen.code, chosen.article, f"{where}.activity", chosen.message_zh,
                                      chosen.message_en))
            continue
        lines.append(_line(item, chosen))
    # A source with an activity is counted even when that activity failed (its own violation says why).
    counted = {item.source for item in activities}
    for key, zh, en in SOURCES:
        reason = exclusions.get(key, "").strip()
        if key in counted and key in exclusions:
            problems.append(_v("JX-28", "Art. 28", f"exclusions.{key}", f"排放源“{zh}”已计入，不能同时排除。",
                               f"{en} is counted and cannot also be excluded."))
        elif key not in counted and len(reason) < 2:
            problems.append(_v("JX-28", "Art. 28", f"exclusions.{key}",
                               f"排放源“{zh}”未计入，须说明排除理由。",
                               f"{en} is not counted: give the reason for excluding it."))
    for key in exclusions:
        if key not in SOURCE_KEYS:
            problems.append(_v("JX-28", "Art. 28", f"exclusions.{key}", f"未知的排放源 {key}。",
                               f"Unknown emission source {key}."))
    if problems:
        return problems
    total_g = sum(line.emissions_g for line in lines)
    return Inventory(tuple(lines), dict(exclusions), total_g, tonnes_to_offset(total_g),
                     trace_hash([line.as_dict() for line in lines]))


def _line(item: Activity, chosen: Selection) -> Line:
    factor = chosen.factor
    return Line(item.source, item.activity, item.quantity, factor.unit, factor.label, factor.value_kg,
                line_grams(item.quantity, factor.value_kg), chosen.trace(), item.note)


# --- offsets ------------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Offset:
    """A retirement offered to back an event, as the registry loaded it."""

    retirement_code: str
    purpose: str
    status: str
    quantity_t: int
    backs_event_id: int | None  # the event this retirement already backs, if any
    revoked_batches: tuple[str, ...] = ()


def check_offset(offset: Offset, event_id: int, *, pending_ok: bool = False) -> list[Violation]:
    """A retirement counts for an event only when executed, retired for event neutrality and backing no
    other event (one retirement backs one event only; the database enforces it too). With `pending_ok` a
    request not yet executed may be named now (it counts once executed); a withdrawn one never."""
    code = offset.retirement_code
    problems: list[Violation] = []
    if offset.purpose != "event_neutrality":
        problems.append(_v("JX-21", "Art. 21", "retirement_id",
                           f"注销 {code} 的用途不是大型活动碳中和（{offset.purpose}），不能计入。",
                           f"Retirement {code} was made for {offset.purpose}, not event neutrality; it "
                           "cannot be counted."))
    if offset.status != "executed" and not (pending_ok and offset.status == "requested"):
        problems.append(_v("JX-21", "Art. 21", "retirement_id", f"注销 {code} 尚未执行或已撤回，不能计入。",
                           f"Retirement {code} is not executed (or was withdrawn) and cannot be counted."))
    if offset.backs_event_id is not None and offset.backs_event_id != event_id:
        problems.append(_v("JX-21", "Art. 21", "retirement_id",
                           f"注销 {code} 已用于另一活动的碳中和，一笔注销只能用于一个活动。",
                           f"Retirement {code} already backs another event; one retirement backs one event "
                           "only."))
    return problems


def counted_t(offsets: Iterable[Offset]) -> int:
    """Tonnes that count: executed event-neutrality retirements none of whose batches was revoked (Art. 26:
    a revoked batch's offset needs a replacement)."""
    return sum(o.quantity_t for o in offsets
               if o.purpose == "event_neutrality" and o.status == "executed" and not o.revoked_batches)


def check_neutrality(total_t: int, offset_t: int) -> list[Violation]:
    """Neutral when the counted retirements cover the inventory's whole tonnes; otherwise a JX-21 shortfall."""
    if offset_t >= total_t:
        return []
    short = total_t - offset_t
    return [_v("JX-21", "Art. 21", "offsets",
               f"抵销不足：排放 {total_t} 吨（向上取整），已注销 {offset_t} 吨，尚缺 {short} 吨。",
               f"Offsets fall short: {total_t} t to offset (rounded up), {offset_t} t retired, {short} t "
               "missing.")]


# --- assessment and the calendar -----------------------------------------------------------------------------

def check_assessor(kind: str, assessor_org_id: int | None, organiser_org_id: int,
                   preparer_org_id: int, assessor_is_verifier: bool) -> list[Violation]:
    """The organiser declares, or a third-party verifier assesses who neither organises the event nor
    prepared its inventory (JX-15: nobody checks what they prepared)."""
    if kind == DECLARATION:
        return []
    problems: list[Violation] = []
    if assessor_org_id is None or not assessor_is_verifier:
        problems.append(_v("JX-15", "Art. 15", "assessor", "第三方评定须由核查机构作出。",
                           "A third-party assessment is made by a verifier."))
    if assessor_org_id is not None and assessor_org_id in (preparer_org_id, organiser_org_id):
        problems.append(_v("JX-15", "Art. 15", "assessor",
                           "评定机构编制了该活动的排放清单或是活动组织方，不能评定。",
                           "The assessor prepared this event's inventory or organises the event, and cannot "
                           "assess it."))
    return problems


def check_statement_day(today: date, ends_on: date) -> list[Violation]:
    """Neutrality is declared after the event (the guideline): not before its last day has passed."""
    if today > ends_on:
        return []
    return [_v("JX-24", "Art. 24", None, f"活动于 {ends_on} 结束，结束后方可发布碳中和声明。",
               f"The event ends on {ends_on}; its neutrality is declared after it ends.")]


def deadline_of(ends_on: date, days: int = DEFAULT_DEADLINE_DAYS) -> date:
    """The last day to become neutral: `days` after the event's end."""
    return ends_on + timedelta(days=days)


def status(stored: str, ends_on: date, deadline: date, today: date) -> str:
    """What the public sees: neutral stays neutral; otherwise overdue after the deadline day, held after
    the event's last day while still planned."""
    if stored == NEUTRAL:
        return NEUTRAL
    if today > deadline:
        return OVERDUE
    if stored == PLANNED and today > ends_on:
        return HELD
    return stored


def great_circle_km(a: tuple[float, float], b: tuple[float, float]) -> int:
    """Great-circle distance between two (latitude, longitude) points in whole km, rounded up. Float is fine
    here: it only proposes a distance the organiser confirms; the inventory takes the Decimal typed in."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return math.ceil(2 * 6371.0 * math.asin(math.sqrt(h)))


# City centres (latitude, longitude), for the distance helper: a starting point for the organiser's figure.
CITIES: dict[str, tuple[str, str, tuple[float, float]]] = {
    "jiaxing": ("嘉兴", "Jiaxing", (30.746, 120.756)),
    "shanghai": ("上海", "Shanghai", (31.230, 121.474)),
    "hangzhou": ("杭州", "Hangzhou", (30.274, 120.155)),
    "suzhou": ("苏州", "Suzhou", (31.299, 120.585)),
    "ningbo": ("宁波", "Ningbo", (29.868, 121.544)),
    "nanjing": ("南京", "Nanjing", (32.060, 118.797)),
    "hefei": ("合肥", "Hefei", (31.821, 117.227)),
    "beijing": ("北京", "Beijing", (39.904, 116.407)),
    "guangzhou": ("广州", "Guangzhou", (23.129, 113.264)),
}


def city_distance_km(a: str, b: str) -> int | None:
    """The great-circle distance between two known cities, or None when one is unknown."""
    if a not in CITIES or b not in CITIES:
        return None
    return great_circle_km(CITIES[a][2], CITIES[b][2])
