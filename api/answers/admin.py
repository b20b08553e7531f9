"""Administration answers: participants, users, lockouts, external registrations, the audit chain, health and
the demo clock."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from registry.orm import AuditEntry, ExternalRegistration, Participant, User
from registry.services.sign_in import Unlocked


class ParticipantOut(BaseModel):
    id: int
    name: str
    kind: str
    credit_code: str | None
    status: str


def participant_out(p: Participant) -> ParticipantOut:
    return ParticipantOut(id=p.id, name=p.name, kind=p.kind, credit_code=p.credit_code, status=p.status)


class UserOut(BaseModel):
    id: int
    username: str
    participant_id: int
    roles: list[str]


def user_out(user: User, roles: Iterable[str]) -> UserOut:
    return UserOut(id=user.id, username=user.username, participant_id=user.participant_id, roles=sorted(set(roles)))


class UnlockOut(BaseModel):
    user_id: int
    username: str
    failures_cleared: int
    was_locked_until: str | None


def unlock_out(done: Unlocked) -> UnlockOut:
    return UnlockOut(user_id=done.user_id, username=done.username, failures_cleared=done.failures_cleared,
                     was_locked_until=done.was_locked_until.isoformat() if done.was_locked_until else None)


class ImportOut(BaseModel):
    """How many registrations an import added and how many it changed."""

    inserted: int
    updated: int


class ExternalRegistrationOut(BaseModel):
    mechanism: str
    external_id: str
    asset_identifier: str | None
    credit_code: str | None
    project_name: str


def external_registration_out(r: ExternalRegistration) -> ExternalRegistrationOut:
    return ExternalRegistrationOut(mechanism=r.mechanism, external_id=r.external_id,
                                   asset_identifier=r.asset_identifier, credit_code=r.credit_code,
                                   project_name=r.project_name)


class ChainReportOut(BaseModel):
    """The audit chain's check: whether it holds, and the first broken entry if not."""

    ok: bool
    entries_checked: int
    first_broken_seq: int | None
    reason: str | None


class AuditEntryOut(BaseModel):
    seq: int
    occurred_at: str
    actor_user_id: int | None
    action: str
    subject_type: str
    subject_id: str
    payload: dict[str, Any]
    prev_hash: str
    entry_hash: str


def audit_entry_out(e: AuditEntry) -> AuditEntryOut:
    return AuditEntryOut(seq=e.seq, occurred_at=e.occurred_at.isoformat(), actor_user_id=e.actor_user_id,
                         action=e.action, subject_type=e.subject_type, subject_id=e.subject_id, payload=e.payload,
                         prev_hash=e.prev_hash, entry_hash=e.entry_hash)


class ClockOut(BaseModel):
    now: str


class HealthOut(BaseModel):
    """Which database answers, whether the key-value store does, and the server's time."""

    database: str
    kv: bool
    now: str
