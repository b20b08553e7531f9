"""Sign-in guards: the lockout of a username after failed logins, and the revoked tokens, both kept in the
book of record (Redis is a cache that may come back empty)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from registry.errors import NotFound, StateConflict
from registry.orm import SignInFailure
from registry.principals import Principal
from registry.repositories import participants as participant_repo
from registry.repositories import sign_in as sign_in_repo
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


def sign_in(uow: UnitOfWork, username: str, password: str, policy: LockoutPolicy) -> SignIn:
    """Check a username and password unless the username is locked; count a failure, lock after too many (and
    audit the lock), clear the count on success; commits whatever the outcome.
    Attempts on one username are serialised by its row's lock, so parallel guesses cannot run past the count."""
    guard = sign_in_repo.locked_guard(uow.session, username)
    outcome = _attempt(uow, guard, username, password, policy)
    uow.commit()
    return outcome


def _attempt(uow: UnitOfWork, guard: SignInFailure, username: str, password: str, policy: LockoutPolicy) -> SignIn:
    """One login attempt against its username's locked guard row (see sign_in)."""
    now = uow.now()
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
    user_id = participant_repo.user_id_of(uow.session, username)
    if user_id is not None:  # an unknown username is locked too (so a lock reveals nothing), but not audited
        uow.audit("user.locked", "user", user_id, {"username": username, "failures": guard.failures,
                                                   "locked_until": guard.locked_until,
                                                   "lock_seconds": int(lock.total_seconds())})
    return SignIn(None, guard.locked_until)


def _forget_old_failures(uow: UnitOfWork, before: datetime, keep: str) -> None:
    """Drop the rows of usernames with no failure since `before` and no lock in force (usernames typed once, or
    long ago), so the table holds only recent failures."""
    sign_in_repo.forget_failures(uow.session, before, keep, uow.now())


@dataclass(frozen=True, slots=True)
class Unlocked:
    user_id: int
    username: str
    failures_cleared: int
    was_locked_until: datetime | None


def unlock(uow: UnitOfWork, user_id: int) -> Unlocked:
    """Lift a user's lockout and clear its failed logins (an administrator's decision, audited); commits."""
    user = participant_repo.user(uow.session, user_id)
    if user is None:
        raise NotFound(f"User {user_id} not found.", f"未找到用户 {user_id}。")
    guard = sign_in_repo.guard(uow.session, user.username, for_update=True)
    if guard is None or guard.failures == 0:
        raise StateConflict("This user has no failed logins to clear and is not locked.",
                            "该用户没有需要清除的登录失败记录，也未被锁定。")
    locked_until = guard.locked_until if guard.locked_until is not None and guard.locked_until > uow.now() else None
    failures = guard.failures
    uow.session.delete(guard)
    uow.audit("user.unlocked", "user", user_id, {"username": user.username, "failures_cleared": failures,
                                                 "was_locked_until": locked_until})
    uow.commit()
    return Unlocked(user_id, user.username, failures, locked_until)


def revoke_token(uow: UnitOfWork, jti: str, user_id: int, expires_at: datetime) -> None:
    """Record a token's revocation until it expires (logout; revoking twice is once), and prune the rows of
    tokens that have expired since: an expired token is refused anyway."""
    now = uow.now()
    sign_in_repo.add_revoked_token(uow.session, jti, user_id, expires_at, now)
    sign_in_repo.forget_expired_tokens(uow.session, now)


def revocations_in_force(uow: UnitOfWork) -> list[tuple[str, datetime]]:
    """Every revoked token that has not expired yet, with its expiry (what a cache that came back empty must
    learn again)."""
    return sign_in_repo.revoked_tokens_in_force(uow.session, uow.now())


def is_revoked(uow: UnitOfWork, jti: str) -> bool:
    """Whether this token was revoked (for when the cache cannot answer)."""
    return sign_in_repo.token_revoked(uow.session, jti)
