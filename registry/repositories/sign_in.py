"""Queries and writes of the sign-in guards: failed-login counts per username and revoked tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from registry.orm import RevokedToken, SignInFailure


def _insert(session: Session) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def locked_guard(session: Session, username: str) -> SignInFailure:
    """The username's failure row, made with no failures if it had none, locked and read afresh: attempts on
    one username wait for each other here."""
    session.execute(_insert(session)(SignInFailure).values(username=username, failures=0)
                    .on_conflict_do_nothing(index_elements=[SignInFailure.username]))
    guard = session.get(SignInFailure, username, with_for_update=True, populate_existing=True)
    assert guard is not None  # just made sure of it, and locked
    return guard


def guard(session: Session, username: str, *, for_update: bool = False) -> SignInFailure | None:
    """The username's failure row, if any."""
    return session.get(SignInFailure, username, with_for_update=for_update)


def forget_failures(session: Session, before: datetime, keep: str, now: datetime) -> None:
    """Delete the rows of usernames other than `keep` with no failure since `before` and no lock in force."""
    session.execute(delete(SignInFailure).where(
        SignInFailure.last_failure_at < before, SignInFailure.username != keep,
        or_(SignInFailure.locked_until.is_(None), SignInFailure.locked_until <= now)))


def add_revoked_token(session: Session, jti: str, user_id: int, expires_at: datetime, revoked_at: datetime) -> None:
    """Record a revoked token; one recorded already stays as it was."""
    session.execute(_insert(session)(RevokedToken).values(jti=jti, user_id=user_id, expires_at=expires_at,
                                                          revoked_at=revoked_at)
                    .on_conflict_do_nothing(index_elements=[RevokedToken.jti]))


def forget_expired_tokens(session: Session, now: datetime) -> None:
    """Delete the rows of revoked tokens that have expired."""
    session.execute(delete(RevokedToken).where(RevokedToken.expires_at <= now))


def revoked_tokens_in_force(session: Session, now: datetime) -> list[tuple[str, datetime]]:
    """(jti, expiry) of every revoked token not expired at `now`."""
    return [(jti, expires_at) for jti, expires_at in session.execute(
        select(RevokedToken.jti, RevokedToken.expires_at).where(RevokedToken.expires_at > now))]


def token_revoked(session: Session, jti: str) -> bool:
    return session.scalar(select(RevokedToken.jti).where(RevokedToken.jti == jti)) is not None
