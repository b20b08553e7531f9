"""Safe defaults for the token key: no published key is ever accepted; the embedded first run makes its own."""

from __future__ import annotations

import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from jose import jwt

from api.app import create_app
from api.kv import MemoryStore
from api.settings import Settings
from api.tokens import KEY_FILE, issue_token
from registry.clock import FixedClock
from registry.context import Registry
from registry.database import make_engine, make_session_factory
from registry.documents import DocumentStore
from tests.support import make_user

# The development key api/settings.py used to publish (and so anyone could sign with).
PUBLISHED_DEV_KEY = "dev-only-change-me-please-0123456789abcdef"


def _embedded(data_dir: Path) -> Settings:
    """The settings of a fresh `make run`: no key configured (whatever the environment says)."""
    return Settings(database_url="sqlite://", data_dir=data_dir, jwt_secret=None,  # type: ignore[arg-type]
                    rate_limit_per_minute=100_000, login_attempts_per_minute=1000)


@pytest.fixture
def embedded(sqlite_template: Path, tmp_path: Path, clock: FixedClock) -> Iterator[Registry]:
    """The registry of the embedded first run: a SQLite file."""
    path = tmp_path / "registry.sqlite3"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    yield Registry(engine=engine, session_factory=make_session_factory(engine), clock=clock,
                   documents=DocumentStore(tmp_path / "documents"))
    engine.dispose()


@pytest.fixture
def on_postgres(postgres_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Registry]:
    engine = make_engine(postgres_url)
    yield Registry(engine=engine, session_factory=make_session_factory(engine), clock=clock,
                   documents=DocumentStore(tmp_path / "documents"))
    engine.dispose()


def _forged(registry: Registry, key: str, user_id: int) -> dict[str, str]:
    now = int(registry.clock.now().timestamp())
    claims = {"sub": str(user_id), "iss": "carbonx-jiaxing", "aud": "carbonx-api", "iat": now, "nbf": now,
              "exp": now + 600, "jti": "forged-0001"}
    return {"Authorization": f"Bearer {jwt.encode(claims, key, algorithm='HS256')}"}


def test_a_token_signed_with_the_published_development_key_is_refused(embedded: Registry, tmp_path: Path) -> None:
    """A fresh `make run` (SQLite, nothing configured) once made a token forged with the published key an
    administrator's."""
    admin = make_user(embedded, "root", ["admin"])
    with TestClient(create_app(_embedded(tmp_path / "var"), registry=embedded, kv=MemoryStore())) as client:
        forged = _forged(embedded, PUBLISHED_DEV_KEY, admin)
        assert client.get("/auth/me", headers=forged).status_code == 401
        assert client.get("/admin/participants", headers=forged).status_code == 401


def test_postgres_needs_a_configured_key(on_postgres: Registry, tmp_path: Path) -> None:
    """Several processes and hosts share one PostgreSQL database and must sign with one key: the service does
    not start without it, and makes no key file of its own."""
    with pytest.raises(RuntimeError, match=r"CARBONX_JWT_SECRET.*same for every process and host"):
        create_app(_embedded(tmp_path / "var"), registry=on_postgres, kv=MemoryStore())
    assert not (tmp_path / "var" / KEY_FILE).exists()


def test_the_embedded_key_is_made_once_readable_by_its_owner_only_and_kept(embedded: Registry,
                                                                           tmp_path: Path) -> None:
    registry = embedded
    admin = make_user(registry, "root", ["admin"])
    data_dir = tmp_path / "var"
    first = create_app(_embedded(data_dir), registry=registry, kv=MemoryStore())
    key_file = data_dir / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    assert len(key) >= 32 and key != PUBLISHED_DEV_KEY
    services = first.state.services
    token, _ = issue_token(services.settings, admin, registry.clock.now())
    # A later start (same data directory) uses the same key: the token stays valid.
    second = create_app(_embedded(data_dir), registry=registry, kv=MemoryStore())
    assert key_file.read_text().strip() == key
    with TestClient(second) as client:
        assert client.get("/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        # The key is secret: a token signed with anything else is refused, even for a real user.
        assert client.get("/auth/me", headers=_forged(registry, "x" * 43, admin)).status_code == 401
    # Another installation (another data directory) has a key of its own.
    third = create_app(_embedded(tmp_path / "other"), registry=registry, kv=MemoryStore())
    assert (tmp_path / "other" / KEY_FILE).read_text().strip() != key
    with TestClient(third) as client:
        assert client.get("/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_a_key_file_readable_by_others_is_tightened(embedded: Registry, tmp_path: Path) -> None:
    key_file = tmp_path / KEY_FILE
    key_file.write_text("k" * 64 + "\n")
    key_file.chmod(0o644)
    app = create_app(_embedded(tmp_path), registry=embedded, kv=MemoryStore())
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert app.state.services.settings.jwt_secret.get_secret_value() == "k" * 64


def test_a_configured_key_wins_and_no_file_is_made(registry: Registry, tmp_path: Path) -> None:
    settings = _embedded(tmp_path).model_copy(update={"jwt_secret": Settings(
        jwt_secret="configured-0123456789abcdef0123456789").jwt_secret})  # type: ignore[arg-type]
    app = create_app(settings, registry=registry, kv=MemoryStore())  # on PostgreSQL too
    assert app.state.services.settings.jwt_secret.get_secret_value() == "configured-0123456789abcdef0123456789"
    assert not (tmp_path / KEY_FILE).exists()
