"""Sign-in guards: the lockout of a username after failed logins, and the revoked tokens, both kept in the
book of record (Redis is a cache that may come back empty)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from registry.errors import NotFound, StateConflict
from registry.orm import RevokedToken, SignInFailure, User
from registry.principals import Principal
from registry.services.participants import authenticate
from registry.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    """After `failures` failed logins in a row a username is locked for `first_lock`; each failure after a lock
    ends doubles it, up to `longest_lock`. Failures are forgotten after `forget_after` without one."""

    failures: int = 5
    first_lock: timedelta = timedelta(minutes=1)
    longest_lock: timedelta = timedelta(hours=1)
    forget_after: timedelta = timedelta(days=1)


def lock_for(failures: int, policy: LockoutPolicy) -> timedelta | None:
    """How long `failures` failed logins in a row lock a username: none below the policy's count, then the
    first lock doubled for each failure past it, at most the longest (pure)."""
    if failures < policy.failures:
        return None
    doublings = failures - policy.failures
    if doublings >= 40:  # far past any cap; keeps the multiplication small
        return policy.longest_lock
    return min(policy.first_lock * 2**doublings, policy.longest_lock)


@dataclass(frozen=True, slots=True)
class SignIn:
    """A login's outcome: the principal, or none; `locked_until` when the username is locked (the password was
    then not checked, so the answer cannot tell whether it was right)."""

    principal: Principal | None
    locked_until: datetime | None = None


def _insert(uow: UnitOfWork) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT."""
    return pg_insert if uow.session.get_bind().dialect.name == "postgresql" else sqlite_insert


def sign_in(uow: UnitOfWork, username: str, password: str, policy: LockoutPolicy) -> SignIn:
    """Check a username and password unless the username is locked; count a failure, lock after too many (and
    audit the lock), clear the count on success. The caller commits whatever the outcome.
    Attempts on one username are serialised by its row's lock, so parallel guesses cannot run past the count."""
    now = uow.now()
    uow.session.execute(_insert(uow)(SignInFailure).values(username=username, failures=0)
                        .on_conflict_do_nothing(index_elements=[SignInFailure.username]))
    guard = uow.session.get(SignInFailure, username, with_for_update=True, populate_existing=True)
    assert guard is not None  # just made sure of it, and locked
    if guard.locked_until is not None and guard.locked_until > now:
        return SignIn(None, guard.locked_until)
    principal = authenticate(uow, username, password)
    if principal is not None:
        uow.session.delete(guard)
        return SignIn(principal)
    if guard.last_failure_at is not None and now - guard.last_failure_at >= policy.forget_after:
        guard.failures = 0
    guard.failures += 1
    guard.last_failure_at = now
    _forget_old_failures(uow, now - policy.forget_after, username)
    lock = lock_for(guard.failures, policy)
    if lock is None:
        return SignIn(None)
    guard.locked_until = now + lock
    user_id = uow.session.scalar(select(User.id).where(User.username == username))
    if user_id is not None:  # an unknown username is locked too (so a lock reveals nothing), but not audited
        uow.audit("user.locked", "user", user_id, {"username": username, "failures": guard.failures,
                                                   "locked_until": guard.locked_until,
                                                   "lock_seconds": int(lock.total_seconds())})
    return SignIn(None, guard.locked_until)


def _forget_old_failures(uow: UnitOfWork, before: datetime, keep: str) -> None:
    """Drop the rows of usernames with no failure since `before` and no lock in force (usernames typed once, or
    long ago), so the table holds only recent failures."""
    uow.session.execute(delete(SignInFailure).where(
        SignInFailure.last_failure_at < before, SignInFailure.username != keep,
        or_(SignInFailure.locked_until.is_(None), SignInFailure.locked_until <= uow.now())))


@dataclass(frozen=True, slots=True)
class Unlocked:
    user_id: int
    username: str
    failures_cleared: int
    was_locked_until: datetime | None


def unlock(uow: UnitOfWork, user_id: int) -> Unlocked:
    """Lift a user's lockout and clear its failed logins (an administrator's decision, audited)."""
    user = uow.session.get(User, user_id)
    if user is None:
        raise NotFound(f"User {user_id} not found.", f"未找到用户 {user_id}。")
    guard = uow.session.get(SignInFailure, user.username, with_for_update=True)
    if guard is None or guard.failures == 0:
        raise StateConflict("This user has no failed logins to clear and is not locked.",
                            "该用户没有需要清除的登录失败记录，也未被锁定。")
    locked_until = guard.locked_until if guard.locked_until is not None and guard.locked_until > uow.now() else None
    failures = guard.failures
    uow.session.delete(guard)
    uow.audit("user.unlocked", "user", user_id, {"username": user.username, "failures_cleared": failures,
                                                 "was_locked_until": locked_until})
    return Unlocked(user_id, user.username, failures, locked_until)


def revoke_token(uow: UnitOfWork, jti: str, user_id: int, expires_at: datetime) -> None:
    """Record a token's revocation until it expires (logout; revoking twice is once), and prune the rows of
    tokens that have expired since: an expired token is refused anyway."""
    now = uow.now()
    uow.session.execute(_insert(uow)(RevokedToken).values(jti=jti, user_id=user_id, expires_at=expires_at,
                                                          revoked_at=now)
                        .on_conflict_do_nothing(index_elements=[RevokedToken.jti]))
    uow.session.execute(delete(RevokedToken).where(RevokedToken.expires_at <= now))


def revocations_in_force(uow: UnitOfWork) -> list[tuple[str, datetime]]:
    """Every revoked token that has not expired yet, with its expiry (what a cache that came back empty must
    learn again)."""
    rows = uow.session.execute(select(RevokedToken.jti, RevokedToken.expires_at)
                               .where(RevokedToken.expires_at > uow.now()))
    return [(jti, expires_at) for jti, expires_at in rows]


def is_revoked(uow: UnitOfWork, jti: str) -> bool:
    """Whether this token was revoked (for when the cache cannot answer)."""
    return uow.session.scalar(select(RevokedToken.jti).where(RevokedToken.jti == jti)) is not None
