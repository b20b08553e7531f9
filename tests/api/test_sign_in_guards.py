"""Sign-in guards on both backends: the per-account lockout with backoff, its unlock, and revocations that
survive a key-value store that comes back empty."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import event, select

from api import cli
from api.app import build_registry
from api.kv import MemoryStore, RedisStore
from api.settings import get_settings
from registry.clock import FixedClock
from registry.context import Registry
from registry.orm import RevokedToken, SignInFailure
from registry.services.sign_in import LockoutPolicy, lock_for, sign_in
from tests.conftest import Backend
from tests.support import PASSWORD, bearer, login, make_user


def _flush(backend: Backend) -> None:
    """The key-value store comes back empty (Redis restarted; or the embedded process's stand-in, restarted)."""
    if isinstance(backend.kv, RedisStore):
        backend.kv.client.flushdb()
    else:
        assert isinstance(backend.kv, MemoryStore)
        backend.kv.clear()


def _login(client: TestClient, username: str, password: str) -> Response:
    return client.post("/auth/login", json={"username": username, "password": password})


def _fail(client: TestClient, username: str, times: int) -> list[int]:
    return [_login(client, username, "not-the-password").status_code for _ in range(times)]


def _locked(answer: Response, retry_after_s: int) -> None:
    assert answer.status_code == 429, answer.text
    assert answer.json()["code"] == "account_locked"
    assert answer.headers["Retry-After"] == str(retry_after_s)
    assert "access_token" not in answer.json()


# -- the lockout ---------------------------------------------------------------------------------------------

def test_lock_lengths_double_up_to_the_cap() -> None:
    policy = LockoutPolicy(failures=5, first_lock=timedelta(seconds=60), longest_lock=timedelta(seconds=600))
    assert [lock_for(n, policy) for n in range(5)] == [None] * 5
    assert [int(lock_for(n, policy).total_seconds()) for n in range(5, 11)] == [  # type: ignore[union-attr]
        60, 120, 240, 480, 600, 600]
    assert lock_for(10**6, policy) == timedelta(seconds=600)


def test_four_failures_do_not_lock_five_do(client: TestClient, registry: Registry) -> None:
    make_user(registry, "alice", ["owner"])
    assert _fail(client, "alice", 4) == [401] * 4
    assert _login(client, "alice", PASSWORD).status_code == 200  # 4 failures: not locked; the count is cleared
    assert _fail(client, "alice", 4) == [401] * 4
    _locked(_login(client, "alice", "not-the-password"), 60)  # the fifth failure locks
    # While locked the password is not even checked: right or wrong, the same answer.
    right, wrong = _login(client, "alice", PASSWORD), _login(client, "alice", "not-the-password")
    _locked(right, 60)
    _locked(wrong, 60)
    assert {k: v for k, v in right.json().items() if k != "request_id"} == {
        k: v for k, v in wrong.json().items() if k != "request_id"}


def test_the_lock_ends_on_time_and_further_failures_double_it(client: TestClient, registry: Registry,
                                                              clock: FixedClock) -> None:
    client.app.state.services.settings.login_lockout_max_seconds = 300  # type: ignore[attr-defined]
    make_user(registry, "bob", ["owner"])
    _fail(client, "bob", 4)
    _locked(_login(client, "bob", "not-the-password"), 60)
    clock.advance(timedelta(seconds=59))
    _locked(_login(client, "bob", PASSWORD), 1)  # a second before the lock ends
    clock.advance(timedelta(seconds=1))
    for lock_s in (120, 240, 300, 300):  # each failure after a lock ends doubles it, up to the cap
        _locked(_login(client, "bob", "not-the-password"), lock_s)
        clock.advance(timedelta(seconds=lock_s))
    assert _login(client, "bob", PASSWORD).status_code == 200  # the lock has ended; success clears the count
    assert _fail(client, "bob", 4) == [401] * 4


def test_failures_long_ago_are_forgotten(client: TestClient, registry: Registry, clock: FixedClock) -> None:
    make_user(registry, "carol", ["owner"])
    _fail(client, "carol", 4)
    clock.advance(timedelta(days=1))
    assert _fail(client, "carol", 4) == [401] * 4  # counting again from one
    _locked(_login(client, "carol", "not-the-password"), 60)


def test_an_unknown_username_locks_the_same_way_and_is_not_audited(client: TestClient, registry: Registry) -> None:
    """A lockout tells nothing about which usernames exist."""
    make_user(registry, "dave", ["owner"])
    assert _fail(client, "nobody-here", 4) == _fail(client, "dave", 4) == [401] * 4
    _locked(_login(client, "nobody-here", "x"), 60)
    _locked(_login(client, "dave", "x"), 60)
    admin = bearer(client, make_user(registry, "root", ["admin"]))
    locked = [e for e in client.get("/audit/entries", headers=admin).json()["items"] if e["action"] == "user.locked"]
    assert [e["payload"]["username"] for e in locked] == ["dave"]


def test_the_lockout_survives_an_emptied_key_value_store(client: TestClient, registry: Registry,
                                                         backend: Backend) -> None:
    make_user(registry, "erin", ["owner"])
    _fail(client, "erin", 5)
    _flush(backend)
    _locked(_login(client, "erin", PASSWORD), 60)
    with registry.uow() as uow:
        guard = uow.session.get(SignInFailure, "erin")
        assert guard is not None and guard.failures == 5


def test_an_administrator_lifts_a_lock_audited(client: TestClient, registry: Registry, clock: FixedClock) -> None:
    user = make_user(registry, "frank", ["owner"])
    root = make_user(registry, "root", ["admin"])
    admin = bearer(client, root)
    _fail(client, "frank", 5)
    lifted = client.post(f"/admin/users/{user}/unlock", headers=admin)
    assert lifted.status_code == 200, lifted.text
    assert lifted.json() == {"user_id": user, "username": "frank", "failures_cleared": 5,
                             "was_locked_until": (clock.now() + timedelta(seconds=60)).isoformat()}
    assert _login(client, "frank", PASSWORD).status_code == 200
    assert _fail(client, "frank", 4) == [401] * 4  # counting from one again
    again = client.post(f"/admin/users/{user}/unlock", headers=admin)  # clears failures without a lock too
    assert again.status_code == 200 and again.json()["failures_cleared"] == 4
    assert again.json()["was_locked_until"] is None
    nothing = client.post(f"/admin/users/{user}/unlock", headers=admin)
    assert nothing.status_code == 409 and nothing.json()["code"] == "state_conflict"
    assert client.post("/admin/users/999999/unlock", headers=admin).status_code == 404
    staff = bearer(client, make_user(registry, "mallory", ["bureau", "operator", "center"]))
    assert client.post(f"/admin/users/{user}/unlock", headers=staff).status_code == 403
    entries = client.get("/audit/entries?subject_type=user&subject_id=" + str(user), headers=admin).json()["items"]
    actions = [(e["action"], e["actor_user_id"]) for e in reversed(entries)]
    assert actions == [("user.created", None), ("user.locked", None), ("user.unlocked", root),
                       ("user.unlocked", root)]
    assert client.get("/audit/verify", headers=admin).json()["ok"] is True


# -- revocations ---------------------------------------------------------------------------------------------

def test_a_logged_out_token_stays_refused_after_the_store_comes_back_empty(client: TestClient, registry: Registry,
                                                                           backend: Backend) -> None:
    make_user(registry, "grace", ["owner"])
    headers = login(client, "grace", PASSWORD)
    kept = login(client, "grace", PASSWORD)
    assert client.post("/auth/logout", headers=headers).status_code == 204
    _flush(backend)
    refused = client.get("/auth/me", headers=headers)
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
    assert client.post("/auth/logout", headers=headers).status_code == 401
    assert client.get("/auth/me", headers=kept).status_code == 200  # another token of the same user stands
    _flush(backend)
    assert client.post("/auth/logout", headers=headers).status_code == 401  # logout's own check learns it too


def test_the_database_is_read_once_after_the_store_empties_not_per_request(
        client: TestClient, registry: Registry, backend: Backend) -> None:
    make_user(registry, "heidi", ["owner"])
    gone, kept = login(client, "heidi", PASSWORD), login(client, "heidi", PASSWORD)
    assert client.post("/auth/logout", headers=gone).status_code == 204
    reads: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "revoked_tokens" in statement:
            reads.append(statement)

    event.listen(backend.engine, "before_cursor_execute", count)
    try:
        assert [client.get("/auth/me", headers=kept).status_code for _ in range(3)] == [200] * 3
        assert reads == []  # the store holds them all: no request reads the database
        _flush(backend)
        assert client.get("/auth/me", headers=kept).status_code == 200
        assert len(reads) == 1  # once, to fill the store again
        assert [client.get("/auth/me", headers=h).status_code for h in (kept, gone, kept, gone)] == [200, 401] * 2
        assert len(reads) == 1
    finally:
        event.remove(backend.engine, "before_cursor_execute", count)


def test_revocations_are_pruned_once_their_tokens_expire(client: TestClient, registry: Registry,
                                                         clock: FixedClock) -> None:
    make_user(registry, "ivan", ["owner"])
    first = login(client, "ivan", PASSWORD)
    assert client.post("/auth/logout", headers=first).status_code == 204
    clock.advance(timedelta(minutes=61))  # tokens last 60 minutes
    second = login(client, "ivan", PASSWORD)
    assert client.post("/auth/logout", headers=second).status_code == 204
    with registry.uow() as uow:
        rows = uow.session.execute(select(RevokedToken.expires_at)).all()
    assert rows == [(clock.now() + timedelta(minutes=60),)]


def test_revocation_is_not_skipped_while_redis_is_down(client: TestClient, registry: Registry,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    make_user(registry, "judy", ["owner"])
    gone, kept = login(client, "judy", PASSWORD), login(client, "judy", PASSWORD)
    assert client.post("/auth/logout", headers=gone).status_code == 204
    kv = client.app.state.services.kv  # type: ignore[attr-defined]

    async def down(*_: Any, **__: Any) -> Any:
        raise redis.ConnectionError("Redis is down")

    monkeypatch.setattr(kv, "exists_each_and_incr_window_async", down)
    assert client.get("/auth/me", headers=gone).status_code == 401  # the database answers
    assert client.get("/auth/me", headers=kept).status_code == 200  # rate limits fail open


def test_the_cli_unlocks_a_locked_out_administrator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """When the only administrator is the one locked out, the server's operator lifts it from the shell."""
    monkeypatch.setenv("CARBONX_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.setenv("CARBONX_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        assert cli.main(["migrate"]) == 0
        assert cli.main(["create-admin", "root", "--password", "a-long-password"]) == 0
        registry = build_registry(get_settings())
        for _ in range(5):
            with registry.uow() as uow:
                assert sign_in(uow, "root", "wrong", LockoutPolicy()).principal is None
                uow.commit()
        capsys.readouterr()
        assert cli.main(["unlock-user", "root"]) == 0
        assert "root unlocked (5 failed logins cleared)" in capsys.readouterr().out
        with registry.uow() as uow:
            assert sign_in(uow, "root", "a-long-password", LockoutPolicy()).principal is not None
        assert cli.main(["unlock-user", "root"]) == 1
        assert cli.main(["unlock-user", "nobody"]) == 1
        assert cli.main(["verify-audit"]) == 0
        registry.engine.dispose()
    finally:
        get_settings.cache_clear()


def test_parallel_guesses_cannot_run_past_the_count(live_server: str, registry: Registry) -> None:
    """Attempts on one username wait for each other (its row's lock; SQLite's single writer): after one failure,
    nine guesses at once get three 'wrong password' answers and six 'locked', never more password checks."""
    make_user(registry, "kate", ["owner"])

    def guess(_: int) -> int:
        return httpx.post(f"{live_server}/auth/login", json={"username": "kate", "password": "guess"},
                          timeout=60).status_code

    assert guess(0) == 401  # the username's row exists from here on
    with ThreadPoolExecutor(max_workers=9) as pool:
        codes = sorted(pool.map(guess, range(9)))
    assert codes == [401] * 3 + [429] * 6
    with registry.uow() as uow:
        guard = uow.session.get(SignInFailure, "kate")
        assert guard is not None and guard.failures == 5
