"""The tamper-evident audit chain: each entry's hash covers the previous hash and its own canonical JSON."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

GENESIS_HASH = "0" * 64


def _default(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    raise TypeError(f"not JSON-serialisable in the audit log: {type(value).__name__}")


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 text: the same data always gives the same bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default)


def jsonable(value: Any) -> Any:
    """The payload as it will read back from a JSON column (dates and decimals as strings)."""
    return json.loads(canonical_json(value))


@dataclass(frozen=True, slots=True)
class ChainLink:
    seq: int
    occurred_at: datetime
    actor_user_id: int | None
    action: str
    subject_type: str
    subject_id: str
    payload: dict[str, Any]
    prev_hash: str
    entry_hash: str


def entry_hash(
    *,
    seq: int,
    occurred_at: datetime,
    actor_user_id: int | None,
    action: str,
    subject_type: str,
    subject_id: str,
    payload: dict[str, Any],
    prev_hash: str,
) -> str:
    """SHA-256 over the previous hash and this entry's canonical JSON."""
    body = canonical_json(
        {
            "seq": seq,
            "occurred_at": occurred_at.isoformat(),
            "actor_user_id": actor_user_id,
            "action": action,
            "subject_type": subject_type,
            "subject_id": subject_id,
            "payload": payload,
        }
    )
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainReport:
    ok: bool
    entries_checked: int
    first_broken_seq: int | None
    reason: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries_checked": self.entries_checked,
            "first_broken_seq": self.first_broken_seq,
            "reason": self.reason,
        }


def verify_chain(links: Iterable[ChainLink]) -> ChainReport:
    """Walk the chain in sequence order and name the first entry whose link or hash does not hold."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    count = 0
    for link in links:
        count += 1
        if link.seq != expected_seq:
            return ChainReport(False, count, link.seq, f"sequence gap: expected {expected_seq}")
        if link.prev_hash != expected_prev:
            return ChainReport(False, count, link.seq, "prev_hash does not match the previous entry")
        recomputed = entry_hash(
            seq=link.seq,
            occurred_at=link.occurred_at,
            actor_user_id=link.actor_user_id,
            action=link.action,
            subject_type=link.subject_type,
            subject_id=link.subject_id,
            payload=link.payload,
            prev_hash=link.prev_hash,
        )
        if recomputed != link.entry_hash:
            return ChainReport(False, count, link.seq, "entry content does not match its hash")
        expected_prev = link.entry_hash
        expected_seq += 1
    return ChainReport(True, count, None, None)
