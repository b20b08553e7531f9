"""Queries of event carbon neutrality: events, their inventories and the retirements that back them."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from registry.orm import Batch, Event, EventInventory, EventOffset, Retirement, RetirementBlock, Revocation


def event(session: Session, event_id: int, *, for_update: bool = False) -> Event | None:
    """The event with this id."""
    return session.get(Event, event_id, with_for_update=for_update)


def events(session: Session, *, statuses: tuple[str, ...] | None = None,
           organiser_id: int | None = None) -> list[Event]:
    """Events newest first, by stored status and organiser when given."""
    query = select(Event)
    if statuses is not None:
        query = query.where(Event.status.in_(statuses))
    if organiser_id is not None:
        query = query.where(Event.organiser_id == organiser_id)
    return list(session.scalars(query.order_by(Event.id.desc())))


def latest_inventory(session: Session, event_id: int) -> EventInventory | None:
    """The event's newest inventory version."""
    return session.scalar(select(EventInventory).where(EventInventory.event_id == event_id)
                          .order_by(EventInventory.version.desc()).limit(1))


def last_inventory_version(session: Session, event_id: int) -> int:
    """The highest inventory version of the event (0 before the first)."""
    return int(session.scalar(select(func.coalesce(func.max(EventInventory.version), 0))
                              .where(EventInventory.event_id == event_id)) or 0)


def offsets_of(session: Session, event_id: int) -> list[tuple[EventOffset, Retirement | None]]:
    """The event's offsets in the order they were named, each with its retirement (None for an external one)."""
    rows = session.execute(select(EventOffset, Retirement)
                           .outerjoin(Retirement, Retirement.id == EventOffset.retirement_id)
                           .where(EventOffset.event_id == event_id).order_by(EventOffset.id))
    return [(offset, retirement) for offset, retirement in rows]


def offset_backed_by(session: Session, retirement_id: int) -> EventOffset | None:
    """The offset row naming this retirement, if it backs an event already."""
    return session.scalar(select(EventOffset).where(EventOffset.retirement_id == retirement_id))


def retirement(session: Session, retirement_id: int, *, for_update: bool = False) -> Retirement | None:
    """A retirement by id."""
    return session.get(Retirement, retirement_id, with_for_update=for_update)


def blocks_of(session: Session, retirement_ids: Iterable[int]) -> list[tuple[RetirementBlock, int]]:
    """The serial blocks of these retirements, each with its batch's vintage, lowest serial first."""
    rows = session.execute(select(RetirementBlock, Batch.vintage).join(Batch, Batch.id == RetirementBlock.batch_id)
                           .where(RetirementBlock.retirement_id.in_(list(retirement_ids)))
                           .order_by(RetirementBlock.serial_start))
    return [(block, int(vintage)) for block, vintage in rows]


def revoked_batch_codes(session: Session, retirement_ids: Iterable[int]) -> dict[int, list[str]]:
    """Per retirement, the codes of its batches that were revoked later (Art. 26)."""
    rows = session.execute(
        select(RetirementBlock.retirement_id, Batch.code).distinct()
        .join(Batch, Batch.id == RetirementBlock.batch_id)
        .where(RetirementBlock.retirement_id.in_(list(retirement_ids)),
               RetirementBlock.batch_id.in_(select(Revocation.batch_id))))
    found: dict[int, list[str]] = {}
    for retirement_id, code in rows:
        found.setdefault(retirement_id, []).append(code)
    return {k: sorted(v) for k, v in found.items()}
