"""Answers of event carbon neutrality: an event with its inventory and offsets, a computed inventory, and the
neutrality statement (碳中和声明) in Chinese and English, which the public page, the PDF and the disclosure
CSV are all made from."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from registry.services.events import EventView
from rules import event_inventory as rules
from rules.violations import Violation

SOURCE_NAMES = {key: (zh, en) for key, zh, en in rules.SOURCES}
EVENT_TYPE_NAMES = {"performance": ("演出", "Performance"), "match": ("赛事", "Match"),
                    "conference": ("会议", "Conference"), "forum": ("论坛", "Forum"),
                    "exhibition": ("展览", "Exhibition")}
STATUS_NAMES = {"planned": ("计划中", "Planned"), "held": ("已举办", "Held"),
                "inventoried": ("已编制清单", "Inventoried"), "neutral": ("已实现碳中和", "Carbon neutral"),
                "overdue": ("逾期未中和", "Overdue")}
REPLACEMENT_NEEDED = ("抵销量已被收回——需补充注销", "Offset revoked — replacement needed")
DISCLOSURE_COLUMNS = ("statement_code", "event_code", "name", "event_type", "venue", "venue_county", "starts_on",
                      "ends_on", "total_g", "total_t", "counted_t", "assessment_kind", "assessor", "declared_at",
                      "status", "replacement_needed", "retirements", "serial_blocks", "statement_url")


class LineOut(BaseModel):
    source: str
    source_zh: str
    source_en: str
    activity: str
    quantity: str
    unit: str
    factor: str
    value_kg: str
    emissions_g: int
    selection: dict[str, Any]
    note: str


class InventoryOut(BaseModel):
    version: int | None
    lines: list[LineOut]
    exclusions: dict[str, str]
    grams_by_source: dict[str, int]
    total_g: int
    total_t: int
    trace_hash: str
    preparer_id: int | None
    created_at: str | None


class OffsetOut(BaseModel):
    kind: str
    retirement_id: int | None
    retirement_code: str | None
    status: str | None
    quantity_t: int
    counted: bool
    revoked_batches: list[str]
    serial_blocks: list[str]
    external_registry: str | None
    external_serials: str | None
    proof_sha256: str | None


class ViolationOut(BaseModel):
    code: str
    article: str
    field: str | None
    message_zh: str
    message_en: str


class EventOut(BaseModel):
    id: int
    code: str
    name: str
    event_type: str
    organiser_id: int
    venue: str
    venue_county: str
    starts_on: str
    ends_on: str
    attendees: int
    deadline: str
    reduction_measures: str
    status: str
    status_zh: str
    status_en: str
    replacement_needed: bool
    inventory: InventoryOut | None
    offsets: list[OffsetOut]
    counted_t: int
    shortfall_t: int
    neutrality_violations: list[ViolationOut]
    assessment_kind: str | None
    assessor_id: int | None  # the commissioned verifier, or the organiser once it declared
    conclusion: str | None
    statement_code: str | None
    declared_at: str | None
    statement_url: str | None


class StatementOut(BaseModel):
    """The neutrality statement: what a reader needs to check the claim, in both languages."""

    statement_code: str
    title_zh: str
    title_en: str
    event: EventOut
    event_type_zh: str
    event_type_en: str
    tonnes_by_source: list[dict[str, Any]]
    factors: list[dict[str, Any]]
    retirements: list[str]
    serial_blocks: list[str]
    conclusion_zh: str
    conclusion_en: str
    assessor: str
    verification_url: str


def line_out(line: dict[str, Any]) -> LineOut:
    zh, en = SOURCE_NAMES.get(line["source"], (line["source"], line["source"]))
    return LineOut(source_zh=zh, source_en=en, **{k: line.get(k, "") for k in (
        "source", "activity", "quantity", "unit", "factor", "value_kg", "emissions_g", "selection", "note")})


def computed_out(result: rules.Inventory) -> InventoryOut:
    """A computed (not stored) inventory."""
    return InventoryOut(version=None, lines=[line_out(line.as_dict()) for line in result.lines],
                        exclusions=dict(result.exclusions), grams_by_source=result.grams_by_source(),
                        total_g=result.total_g, total_t=result.total_t, trace_hash=result.trace_hash,
                        preparer_id=None, created_at=None)


def _violation(v: Violation) -> ViolationOut:
    return ViolationOut(**v.as_dict())


def event_out(view: EventView, base_url: str) -> EventOut:
    """An event as its page shows it."""
    e, inv = view.event, view.inventory
    inventory = None
    if inv is not None:
        by_source: dict[str, int] = {}
        for line in inv.lines:
            by_source[line["source"]] = by_source.get(line["source"], 0) + int(line["emissions_g"])
        inventory = InventoryOut(version=inv.version, lines=[line_out(line) for line in inv.lines],
                                 exclusions=dict(inv.exclusions), grams_by_source=by_source, total_g=inv.total_g,
                                 total_t=inv.total_t, trace_hash=inv.trace_hash, preparer_id=inv.preparer_id,
                                 created_at=inv.created_at.isoformat())
    offsets = []
    for o in view.offsets:
        r = o.retirement
        offsets.append(OffsetOut(
            kind=o.offset.kind, retirement_id=r.id if r else None, retirement_code=r.code if r else None,
            status=r.status if r else None,
            quantity_t=r.quantity_t if r else int(o.offset.external_quantity_t or 0), counted=o.counted,
            revoked_batches=list(o.facts.revoked_batches) if o.facts else [], serial_blocks=o.serial_blocks,
            external_registry=o.offset.external_registry, external_serials=o.offset.external_serials,
            proof_sha256=o.offset.proof_sha256))
    zh, en = REPLACEMENT_NEEDED if view.replacement_needed else STATUS_NAMES[view.status]
    return EventOut(
        id=e.id, code=e.code, name=e.name, event_type=e.event_type, organiser_id=e.organiser_id, venue=e.venue,
        venue_county=e.venue_county, starts_on=e.starts_on.isoformat(), ends_on=e.ends_on.isoformat(),
        attendees=e.attendees, deadline=e.deadline.isoformat(), reduction_measures=e.reduction_measures,
        status=view.status, status_zh=zh, status_en=en, replacement_needed=view.replacement_needed,
        inventory=inventory, offsets=offsets, counted_t=view.counted_t, shortfall_t=view.shortfall_t,
        neutrality_violations=[_violation(v) for v in view.violations], assessment_kind=e.assessment_kind,
        assessor_id=e.assessor_id, conclusion=e.conclusion, statement_code=e.statement_code,
        declared_at=e.declared_at.isoformat() if e.declared_at else None,
        statement_url=f"{base_url}/portal/#/events/{e.id}/statement" if e.statement_code else None)


def statement_out(view: EventView, assessor_name: str, citations: dict[str, str], base_url: str) -> StatementOut:
    """The statement of a neutral event; its serials are the union of its counted retirements' blocks."""
    event = event_out(view, base_url)
    assert event.inventory is not None and event.statement_code is not None
    type_zh, type_en = EVENT_TYPE_NAMES[event.event_type]
    tonnes = [{"source": k, "source_zh": SOURCE_NAMES[k][0], "source_en": SOURCE_NAMES[k][1], "emissions_g": g,
               "tonnes": format(Decimal(g).scaleb(-6), "f")} for k, g in event.inventory.grams_by_source.items()]
    factors = [{"factor": label, "citation": citations.get(label, "")}
               for label in sorted({line.factor for line in event.inventory.lines})]
    counted = [o for o in event.offsets if o.counted]
    kind_zh = "组织方自我声明" if view.event.assessment_kind == rules.DECLARATION else "第三方评定"
    kind_en = "the organiser's declaration" if view.event.assessment_kind == rules.DECLARATION else \
        "a third-party assessment"
    return StatementOut(
        statement_code=event.statement_code, title_zh="大型活动碳中和声明",
        title_en="Event carbon neutrality statement",
        event=event, event_type_zh=type_zh, event_type_en=type_en, tonnes_by_source=tonnes, factors=factors,
        retirements=[o.retirement_code or "" for o in counted],
        serial_blocks=[block for o in counted for block in o.serial_blocks],
        conclusion_zh=(f"经{kind_zh}，{event.name}的排放 {event.inventory.total_t} 吨二氧化碳当量（向上取整）"
                       f"已由注销的 {event.counted_t} 吨碳普惠减排量抵销，实现碳中和。"),
        conclusion_en=(f"By {kind_en}, the {event.inventory.total_t} tCO2e (rounded up) emitted by {event.name} "
                       f"are offset by {event.counted_t} t of retired carbon-inclusive credits: carbon neutral."),
        assessor=assessor_name, verification_url=f"{base_url}/portal/#/events/{event.id}/statement")


def disclosure_row(statement: StatementOut) -> dict[str, Any]:
    """One CSV row of the public list of neutrality statements (Art. 24)."""
    e = statement.event
    assert e.inventory is not None
    return {"statement_code": statement.statement_code, "event_code": e.code, "name": e.name,
            "event_type": e.event_type, "venue": e.venue, "venue_county": e.venue_county, "starts_on": e.starts_on,
            "ends_on": e.ends_on, "total_g": e.inventory.total_g, "total_t": e.inventory.total_t,
            "counted_t": e.counted_t, "assessment_kind": e.assessment_kind, "assessor": statement.assessor,
            "declared_at": e.declared_at, "status": e.status, "replacement_needed": e.replacement_needed,
            "retirements": ";".join(statement.retirements), "serial_blocks": ";".join(statement.serial_blocks),
            "statement_url": statement.verification_url}


class DistanceOut(BaseModel):
    """The distance helper's answer (None when a city is unknown)."""

    distance_km: int | None
