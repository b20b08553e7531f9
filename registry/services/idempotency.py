"""Idempotency keys: the first answer to a request is stored in the same transaction as its effect, so a
client retrying after a lost answer gets that answer again instead of a second effect."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from registry.errors import InvalidInput
from registry.orm import IdempotencyKey
from registry.unit_of_work import UnitOfWork


def request_hash(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def replay(uow: UnitOfWork, user_id: int, key: str | None, digest: str) -> dict[str, Any] | None:
    """The stored answer for this user's key; a reuse of the key with another request is refused (422)."""
    if key is None:
        return None
    stored = uow.memo.get(("idempotency", user_id, key)) or uow.session.get(IdempotencyKey, (user_id, key))
    if stored is None:
        return None
    if stored.request_hash != digest:
        raise InvalidInput("This Idempotency-Key was used with a different request.", "该幂等键已用于不同的请求。")
    return dict(stored.response)


def remember(uow: UnitOfWork, user_id: int, key: str | None, digest: str, answer: dict[str, Any]) -> None:
    """Keep the answer with the effect (call before commit)."""
    if key is not None:
        stored = uow.memo[("idempotency", user_id, key)] = IdempotencyKey(
            user_id=user_id, key=key, request_hash=digest, status_code=201, response=answer, created_at=uow.now())
        uow.session.add(stored)
