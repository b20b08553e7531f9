"""Event carbon neutrality (大型活动碳中和, Art. 21, 24, 26, 28): the organiser registers an event, records its
inventory on the published emission factors, backs it with retirements made for it, and the organiser
(declaration) or an independent verifier (third party) declares it neutral; the bureau publishes the
statement (Art. 24). A revoked batch behind a statement marks it "replacement needed" until a replacement
retirement backs it (Art. 26). Decisions are rules/event_inventory.py's; this module loads, calls, writes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from registry import numbering, serials
from registry.errors import NotFound, RuleViolation, StateConflict
from registry.orm import Event, EventInventory, EventOffset, Retirement
from registry.principals import Principal
from registry.repositories import events as repo
from registry.services import emission_factors, participants, retirements
from registry.unit_of_work import UnitOfWork
from rules import event_inventory as rules
from rules.regions import JIAXING_COUNTY_CODES
from rules.violations import Violation


@dataclass(frozen=True)
class EventDraft:
    """What an organiser types in to register an event."""

    name: str
    event_type: str
    venue: str
    venue_county: str
    starts_on: date
    ends_on: date
    attendees: int
    reduction_measures: str
    deadline_days: int = rules.DEFAULT_DEADLINE_DAYS


def _refuse(code: str, article: str, field_name: str | None, zh: str, en: str) -> RuleViolation:
    return RuleViolation([Violation(code, article, field_name, zh, en)])


def create(uow: UnitOfWork, principal: Principal, draft: EventDraft) -> Event:
    """Register an event organised by the caller's organisation (a trader participant)."""
    participants.require_active(uow, principal.participant_id, "register an event", "登记活动")
    if draft.venue_county not in JIAXING_COUNTY_CODES:
        raise _refuse("JX-21", "Art. 21", "venue_county", "场馆须位于嘉兴市行政区域内的县（市、区）。",
                      "The venue is in one of Jiaxing's county-level divisions.")
    if draft.ends_on < draft.starts_on:
        raise _refuse("JX-21", "Art. 21", "ends_on", "结束日期早于开始日期。", "The event ends before it starts.")
    event = Event(code=f"JXE-{draft.starts_on.year}-{numbering.take(uow, 'event'):06d}", name=draft.name,
                  event_type=draft.event_type, organiser_id=principal.participant_id, venue=draft.venue,
                  venue_county=draft.venue_county, starts_on=draft.starts_on, ends_on=draft.ends_on,
                  attendees=draft.attendees, deadline=rules.deadline_of(draft.ends_on, draft.deadline_days),
                  reduction_measures=draft.reduction_measures, status=rules.PLANNED,
                  created_by=principal.user_id, created_at=uow.now())
    uow.session.add(event)
    uow.session.flush()
    uow.audit("event.created", "event", event.id, {"code": event.code, "name": event.name,
                                                   "deadline": event.deadline})
    uow.commit()
    return event


def get(uow: UnitOfWork, event_id: int, *, for_update: bool = False) -> Event:
    """An event (events are public: a large event's neutrality is a public claim, Art. 24)."""
    found = repo.event(uow.session, event_id, for_update=for_update)
    if found is None:
        raise NotFound(f"Event {event_id} not found.", f"未找到活动 {event_id}。")
    return found


def _own(uow: UnitOfWork, principal: Principal, event_id: int) -> Event:
    """The caller's own event, locked; another organiser's is not found (it may not act on it)."""
    found = get(uow, event_id, for_update=True)
    if found.organiser_id != principal.participant_id:
        raise NotFound(f"Event {event_id} not found.", f"未找到活动 {event_id}。")
    return found


def calculate(uow: UnitOfWork, venue_county: str, day: date, activities: Sequence[rules.Activity],
              exclusions: dict[str, str]) -> rules.Inventory:
    """The inventory these activities make with the factors in force on `day` (nothing stored)."""
    result = rules.compute(activities, exclusions, emission_factors.pool(uow), venue_county, day)
    if isinstance(result, list):
        raise RuleViolation(result)
    return result


def record_inventory(uow: UnitOfWork, principal: Principal, event_id: int, activities: Sequence[rules.Activity],
                     exclusions: dict[str, str], preparer_id: int | None,
                     assessor_id: int | None = None) -> EventInventory:
    """A new inventory version, on the factors in force on the event's first day; `preparer_id` names the
    organisation that prepared it (the organiser when None), which then may not assess it (JX-15);
    `assessor_id` the verifier the organiser commissions to assess it (None: the organiser declares)."""
    event = _own(uow, principal, event_id)
    if event.status == rules.NEUTRAL:
        raise StateConflict("The event is declared neutral; its inventory is final.",
                            "该活动已声明碳中和，排放清单不能再修改。")
    preparer = preparer_id or principal.participant_id
    participants.get_participant(uow, preparer)
    result = calculate(uow, event.venue_county, event.starts_on, activities, exclusions)
    inventory = EventInventory(
        event_id=event.id, version=repo.last_inventory_version(uow.session, event.id) + 1,
        lines=[line.as_dict() for line in result.lines], exclusions=dict(result.exclusions), total_g=result.total_g,
        total_t=result.total_t, trace_hash=result.trace_hash, prepared_by=principal.user_id, preparer_id=preparer,
        created_at=uow.now())
    uow.session.add(inventory)
    event.status = rules.INVENTORIED
    event.assessor_id = assessor_id
    uow.session.flush()
    uow.audit("event.inventory_recorded", "event", event.id,
              {"version": inventory.version, "total_g": inventory.total_g, "total_t": inventory.total_t,
               "trace_hash": inventory.trace_hash, "preparer_id": preparer, "assessor_id": assessor_id})
    uow.commit()
    return inventory


def _offset_facts(uow: UnitOfWork, retirement: Retirement) -> rules.Offset:
    backing = repo.offset_backed_by(uow.session, retirement.id)
    revoked = repo.revoked_batch_codes(uow.session, [retirement.id]).get(retirement.id, [])
    return rules.Offset(retirement.code, retirement.purpose, retirement.status, retirement.quantity_t,
                        backing.event_id if backing else None, tuple(revoked))


def back_with(uow: UnitOfWork, principal: Principal, event_id: int, retirement: Retirement) -> EventOffset:
    """Name a retirement of the organiser's, made for event neutrality, as backing this event (a request not
    yet executed may be named; it counts once executed). Does not commit: it joins the caller's use case."""
    event = _own(uow, principal, event_id)
    if retirement.participant_id != event.organiser_id:
        raise NotFound(f"Retirement {retirement.id} not found.", f"未找到注销 {retirement.id}。")
    facts = _offset_facts(uow, retirement)
    problems = rules.check_offset(facts, event.id, pending_ok=True)
    if problems:
        raise RuleViolation(problems)
    if facts.backs_event_id == event.id:
        raise StateConflict(f"Retirement {retirement.code} already backs this event.",
                            f"注销 {retirement.code} 已用于该活动。")
    offset = EventOffset(event_id=event.id, kind="retirement", retirement_id=retirement.id,
                         created_by=principal.user_id, created_at=uow.now())
    uow.session.add(offset)
    uow.session.flush()
    uow.audit("event.backed", "event", event.id, {"retirement": retirement.code, "quantity_t": retirement.quantity_t})
    return offset


def name_retirement(uow: UnitOfWork, principal: Principal, event_id: int, retirement_id: int) -> EventOffset:
    """Name an existing retirement as backing the event (one use case)."""
    found = repo.retirement(uow.session, retirement_id, for_update=True)
    if found is None:
        raise NotFound(f"Retirement {retirement_id} not found.", f"未找到注销 {retirement_id}。")
    offset = back_with(uow, principal, event_id, found)
    uow.commit()
    return offset


def add_external(uow: UnitOfWork, principal: Principal, event_id: int, *, registry_name: str, serials_text: str,
                 quantity_t: int, proof_sha256: str | None) -> EventOffset:
    """Record an offset retired in another registry: shown as external, never counted (this registry cannot
    see that it was retired, nor that it backs nothing else)."""
    event = _own(uow, principal, event_id)
    offset = EventOffset(event_id=event.id, kind="external", external_registry=registry_name,
                         external_serials=serials_text, external_quantity_t=quantity_t, proof_sha256=proof_sha256,
                         created_by=principal.user_id, created_at=uow.now())
    uow.session.add(offset)
    uow.session.flush()
    uow.audit("event.external_offset", "event", event.id, {"registry": registry_name, "quantity_t": quantity_t})
    uow.commit()
    return offset


@dataclass
class OffsetView:
    """One offset of an event as a reader sees it."""

    offset: EventOffset
    retirement: Retirement | None
    facts: rules.Offset | None
    serial_blocks: list[str] = field(default_factory=list)

    @property
    def counted(self) -> bool:
        return self.facts is not None and rules.counted_t([self.facts]) > 0


@dataclass
class EventView:
    """An event with everything a page or a statement shows: its status on the day, its inventory, offsets."""

    event: Event
    status: str
    inventory: EventInventory | None
    offsets: list[OffsetView]
    counted_t: int
    shortfall_t: int
    replacement_needed: bool
    violations: list[Violation]


def view(uow: UnitOfWork, event: Event) -> EventView:
    """What the event looks like today."""
    inventory = repo.latest_inventory(uow.session, event.id)
    rows = repo.offsets_of(uow.session, event.id)
    retirement_ids = [r.id for _, r in rows if r is not None]
    revoked = repo.revoked_batch_codes(uow.session, retirement_ids)
    blocks: dict[int, list[str]] = {}
    for block, vintage in repo.blocks_of(uow.session, retirement_ids):
        blocks.setdefault(block.retirement_id, []).append(
            serials.block_label(vintage, block.batch_id, block.serial_start, block.serial_end))
    offsets = []
    for offset, retirement in rows:
        facts = None if retirement is None else rules.Offset(
            retirement.code, retirement.purpose, retirement.status, retirement.quantity_t, event.id,
            tuple(revoked.get(retirement.id, [])))
        offsets.append(OffsetView(offset, retirement, facts,
                                  blocks.get(retirement.id, []) if retirement is not None else []))
    counted = rules.counted_t([o.facts for o in offsets if o.facts is not None])
    total_t = inventory.total_t if inventory else 0
    problems = rules.check_neutrality(total_t, counted) if inventory else []
    status = rules.status(event.status, event.ends_on, event.deadline, uow.today())
    return EventView(event, status, inventory, offsets, counted, max(total_t - counted, 0),
                     event.status == rules.NEUTRAL and bool(problems), problems)


def shortfall_retirement(uow: UnitOfWork, principal: Principal, event_id: int, *, auto_execute: bool) -> Retirement:
    """Retire what is missing, in one step: a request for the shortfall, made for this event and naming it."""
    event = _own(uow, principal, event_id)
    current = view(uow, event)
    if current.inventory is None:
        raise _refuse("JX-28", "Art. 28", "inventory", "请先编制排放清单。", "Record the inventory first.")
    if current.shortfall_t == 0:
        raise StateConflict("Nothing is missing: the retirements already cover the inventory.",
                            "已注销的减排量已覆盖排放清单，无需再注销。")
    details: dict[str, Any] = {
        "event_name": event.name, "event_start": event.starts_on.isoformat(), "event_end": event.ends_on.isoformat(),
        "event_place": event.venue, "event_emissions_tco2e": str(current.inventory.total_t), "event_id": event.id}
    organiser = participants.get_participant(uow, event.organiser_id)
    found = retirements.request(uow, principal, account_id=None, quantity_t=current.shortfall_t, batch_id=None,
                                purpose="event_neutrality", beneficiary=organiser.name, details=details,
                                auto_execute=auto_execute)
    uow.commit()
    return found


def assess(uow: UnitOfWork, principal: Principal, event_id: int, conclusion: str) -> Event:
    """Declare the event neutral: the organiser's declaration, or a verifier's third-party assessment (JX-15:
    not one who prepared the inventory). After the event ends (JX-24), with counted retirements covering the
    inventory's whole tonnes (JX-21)."""
    event = get(uow, event_id, for_update=True)
    is_organiser = event.organiser_id == principal.participant_id
    # A verifier assesses only the event whose organiser commissioned it; to anyone else it is not there.
    if not is_organiser and not (principal.has("verifier") and event.assessor_id == principal.participant_id):
        raise NotFound(f"Event {event_id} not found.", f"未找到活动 {event_id}。")
    if event.status == rules.NEUTRAL:
        raise StateConflict("The event is already declared neutral.", "该活动已声明碳中和。")
    current = view(uow, event)
    if current.inventory is None:
        raise _refuse("JX-28", "Art. 28", "inventory", "请先编制排放清单。", "Record the inventory first.")
    kind = rules.DECLARATION if is_organiser else rules.THIRD_PARTY
    problems = [
        *rules.check_statement_day(uow.today(), event.ends_on),
        *rules.check_assessor(kind, None if is_organiser else principal.participant_id, event.organiser_id,
                              current.inventory.preparer_id, principal.has("verifier")),
        *current.violations,
    ]
    if problems:
        raise RuleViolation(problems)
    event.status = rules.NEUTRAL
    event.assessment_kind = kind
    event.assessor_id = principal.participant_id
    event.assessed_by = principal.user_id
    event.conclusion = conclusion
    event.declared_at = uow.now()
    event.statement_code = f"JXN-{uow.today().year}-{numbering.take(uow, 'neutrality_statement'):06d}"
    uow.audit("event.declared_neutral", "event", event.id,
              {"statement": event.statement_code, "kind": kind, "total_t": current.inventory.total_t,
               "counted_t": current.counted_t, "trace_hash": current.inventory.trace_hash})
    uow.commit()
    return event


def list_events(uow: UnitOfWork, *, neutral_only: bool, organiser_id: int | None) -> list[Event]:
    """Events newest first; the declared-neutral ones only for the public list (Art. 24)."""
    return repo.events(uow.session, statuses=(rules.NEUTRAL,) if neutral_only else None, organiser_id=organiser_id)


def recompute(uow: UnitOfWork, inventory: EventInventory, event: Event) -> str:
    """The trace hash the stored lines give when recomputed from their factor versions (equal to the stored
    one unless a row was tampered with)."""
    activities = [rules.Activity(line["source"], line["activity"], Decimal(line["quantity"]), line.get("note", ""))
                  for line in inventory.lines]
    pinned = {line["factor"] for line in inventory.lines}
    pool = [f for f in emission_factors.pool(uow) if f.label in pinned]
    result = rules.compute(activities, dict(inventory.exclusions), pool, event.venue_county, event.starts_on)
    return result.trace_hash if isinstance(result, rules.Inventory) else ""



def statement(uow: UnitOfWork, event_id: int) -> tuple[EventView, str, dict[str, str]]:
    """A neutral event's statement facts: its view, the assessor's name, and the citation of every factor its
    inventory used. An event not declared neutral has no statement."""
    event = get(uow, event_id)
    if event.status != rules.NEUTRAL or event.assessor_id is None:
        raise NotFound(f"Event {event_id} has no neutrality statement.", f"活动 {event_id} 尚无碳中和声明。")
    current = view(uow, event)
    assert current.inventory is not None
    used = {line["factor"] for line in current.inventory.lines}
    citations = {f.label: f.source for f in emission_factors.pool(uow) if f.label in used}
    return current, participants.get_participant(uow, event.assessor_id).name, citations
