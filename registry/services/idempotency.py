"""Idempotency keys: the first answer to a request is stored in the same transaction as its effect, so a
client retrying after a lost answer gets that answer again instead of a second effect.

Two requests with the same key at the same moment get one effect and the same answer: the second waits
until the first has committed (or rolled back) and then reads what it stored. On PostgreSQL `replay` first
takes a transaction-scoped advisory lock on (user, key); on SQLite the database's single writer
(BEGIN IMMEDIATE) serialises them already."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import text

from registry.errors import InvalidInput
from registry.orm import IdempotencyKey
from registry.unit_of_work import UnitOfWork


class Replayed(dict[str, Any]):
    """An answer given before (to the same Idempotency-Key or client order id), given again: the API marks it
    `Idempotent-Replayed: true`."""


def request_hash(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def _lock_key(key: str) -> int:
    """The key as a signed 32-bit number, the second half of the advisory lock's (user, key) pair. Two keys
    of one user that share it only wait for each other."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big", signed=True)


def replay(uow: UnitOfWork, user_id: int, key: str | None, digest: str, *, wait: bool = True) -> Replayed | None:
    """The stored answer for this user's key; a reuse of the key with another request is refused (422).
    With `wait` (call it first in the transaction), a request with the same key still in flight is waited
    for, so that this one sees its answer instead of racing it to a second effect. An instrument's writer
    passes wait=False: it carries out its book's commands one after another already, and must never wait on
    a registry transaction while its whole book waits."""
    if key is None:
        return None
    stored = uow.cache.memo.get(("idempotency", user_id, key))
    if stored is None:
        if wait and uow.session.get_bind().dialect.name == "postgresql":
            # The two-number form: its key space is apart from the single-number locks (books, audit chain).
            uow.session.execute(text("SELECT pg_advisory_xact_lock(:user_id, :key)"),
                                {"user_id": user_id, "key": _lock_key(key)})
        stored = uow.session.get(IdempotencyKey, (user_id, key))
    if stored is None:
        return None
    if stored.request_hash != digest:
        raise InvalidInput("This Idempotency-Key was used with a different request.", "该幂等键已用于不同的请求。")
    return Replayed(stored.response)


def remember(uow: UnitOfWork, user_id: int, key: str | None, digest: str, answer: dict[str, Any]) -> None:
    """Keep the answer with the effect (call before commit)."""
    if key is not None:
        stored = uow.cache.memo[("idempotency", user_id, key)] = IdempotencyKey(
            user_id=user_id, key=key, request_hash=digest, status_code=201, response=answer, created_at=uow.now())
        uow.session.add(stored)


def replay_or_act(uow: UnitOfWork, user_id: int, key: str | None, digest: str,
                  act: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """One use case under an Idempotency-Key: the stored answer when this key was seen before (a `Replayed`),
    otherwise `act()` (the effect and its answer), the answer kept with the effect, and the one commit. Without
    a key it simply acts and commits."""
    earlier = replay(uow, user_id, key, digest)
    if earlier is not None:
        return earlier
    answer = act()
    remember(uow, user_id, key, digest, answer)
    uow.commit()
    return answer
