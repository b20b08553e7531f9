"""How `python -m api serve` starts uvicorn: whose forwarded headers it believes, and how many workers it allows."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from api import cli
from api.app import create_app
from api.settings import Settings
from registry.context import Registry
from tests.conftest import Backend
from tests.support import make_user

SECRET = "serve-test-secret-0123456789abcdef0123"


def _serve(monkeypatch: pytest.MonkeyPatch, settings: Settings, *argv: str) -> tuple[int, dict[str, Any]]:
    """Run `serve` with these settings; what it would have handed uvicorn.run instead of serving."""
    handed: dict[str, Any] = {}

    def run(app: Any, **options: Any) -> None:
        handed.update(options, app=app)

    monkeypatch.setattr(uvicorn, "run", run)
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    return cli.main(["serve", *argv]), handed


@pytest.fixture
def apps() -> Iterator[list[Any]]:
    """Apps a test makes without serving them: their exchange is stopped afterwards (as the lifespan would)."""
    made: list[Any] = []
    yield made
    for app in made:
        app.state.services.exchange.stop()


def _as_served(app: Any, handed: dict[str, Any]) -> Any:
    """`app` wrapped as uvicorn.run would wrap it with the options `serve` handed over (proxy headers...)."""
    options = {key: value for key, value in handed.items() if key not in ("app", "log_config")}
    config = uvicorn.Config(app, **options)
    config.load()
    return config.loaded_app


def _logins(app: Any, peer: str, forwarded_for: list[str], username: str = "target") -> list[int]:
    """One failed login of the same user per X-Forwarded-For value, all from `peer`; the status codes."""
    async def attempts() -> list[int]:
        transport = httpx.ASGITransport(app=app, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
            return [(await http.post("/auth/login", json={"username": username, "password": "wrong-guess"},
                                     headers={"X-Forwarded-For": address})).status_code
                    for address in forwarded_for]

    return asyncio.run(attempts())


def test_rotating_x_forwarded_for_from_an_untrusted_peer_does_not_reset_the_login_limit(
        monkeypatch: pytest.MonkeyPatch, registry: Registry, backend: Backend, settings: Settings,
        apps: list[Any]) -> None:
    """uvicorn on its own believes X-Forwarded-For from 127.0.0.1: a client there got a fresh login limit with
    every request by naming a new address. No proxy is trusted unless configured."""
    make_user(registry, "target", ["owner"])
    settings.login_attempts_per_minute = 2
    code, handed = _serve(monkeypatch, settings)
    assert code == 0
    apps.append(create_app(settings, registry=registry, kv=backend.kv))
    app = _as_served(apps[-1], handed)
    codes = _logins(app, "127.0.0.1", ["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"])
    assert codes == [401, 401, 429, 429]


def test_a_configured_proxy_is_believed(monkeypatch: pytest.MonkeyPatch, registry: Registry, backend: Backend,
                                        settings: Settings, apps: list[Any]) -> None:
    """Behind a configured proxy each forwarded client has its limit: one client's attempts do not lock out
    another behind the same proxy; a peer that is not the proxy still cannot choose its address."""
    make_user(registry, "target", ["owner"])
    make_user(registry, "other", ["owner"])
    settings.login_attempts_per_minute = 2
    settings.trusted_proxies = "10.0.0.0/24,192.0.2.7"
    code, handed = _serve(monkeypatch, settings)
    assert code == 0 and handed["proxy_headers"] is True
    apps.append(create_app(settings, registry=registry, kv=backend.kv))
    app = _as_served(apps[-1], handed)
    assert _logins(app, "10.0.0.5", ["198.51.100.1"] * 3 + ["198.51.100.2"]) == [401, 401, 429, 401]
    assert _logins(app, "192.0.2.8", ["198.51.100.3", "198.51.100.4", "198.51.100.5"], "other") == [401, 401, 429]


def test_trusted_proxies_must_be_addresses() -> None:
    assert Settings(trusted_proxies=" 10.0.0.1 , ::1,10.1.0.0/16").trusted_proxy_list() == [
        "10.0.0.1", "::1", "10.1.0.0/16"]
    assert Settings().trusted_proxy_list() == []
    with pytest.raises(ValueError, match="IP addresses or networks"):
        Settings(trusted_proxies="*")


def _settings(tmp_path: Path, database_url: str, redis_url: str | None, secret: str | None = SECRET) -> Settings:
    return Settings(database_url=database_url, redis_url=redis_url, data_dir=tmp_path,  # type: ignore[arg-type]
                    jwt_secret=secret)


@pytest.mark.parametrize("database_url,redis_url", [
    ("sqlite:///var/carbonx.sqlite3", None),
    ("sqlite:///var/carbonx.sqlite3", "redis://127.0.0.1:6379/13"),
    ("postgresql://postgres@127.0.0.1:5432/carbonx", None),
])
def test_several_workers_need_postgres_and_redis(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                                 tmp_path: Path, database_url: str, redis_url: str | None) -> None:
    """On SQLite each worker kept its own book, revocations and limits: a token logged out on one worker was
    still accepted by the others."""
    code, handed = _serve(monkeypatch, _settings(tmp_path, database_url, redis_url), "--workers", "2")
    assert code == 2 and handed == {}
    error = capsys.readouterr().err
    assert "needs PostgreSQL (CARBONX_DATABASE_URL) and Redis (CARBONX_REDIS_URL)" in error


def test_one_worker_or_postgres_and_redis_serve(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    code, handed = _serve(monkeypatch, _settings(tmp_path, "sqlite:///var/carbonx.sqlite3", None), "--workers", "1")
    assert code == 0 and handed["workers"] == 1 and handed["proxy_headers"] is False
    code, handed = _serve(monkeypatch, _settings(tmp_path, "postgresql://postgres@127.0.0.1:5432/carbonx",
                                                 "redis://127.0.0.1:6379/13"), "--workers", "3")
    assert code == 0 and handed["workers"] == 3 and handed["forwarded_allow_ips"] == []


def test_serve_says_what_is_missing_before_starting_workers(monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str],
                                                           tmp_path: Path) -> None:
    settings = _settings(tmp_path, "postgresql://postgres@127.0.0.1:5432/carbonx", "redis://127.0.0.1:6379/13",
                         secret=None)
    code, handed = _serve(monkeypatch, settings, "--workers", "2")
    assert code == 2 and handed == {} and "CARBONX_JWT_SECRET" in capsys.readouterr().err
    code, handed = _serve(monkeypatch, settings, "--workers", "0")
    assert code == 2 and handed == {}
