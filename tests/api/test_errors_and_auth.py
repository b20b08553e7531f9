"""Bad input gets a clear 4xx problem document, never a 500, and nothing half-written; auth flows."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from registry.context import Registry
from tests.support import PASSWORD, bearer, login, make_user


@pytest.fixture
def owner(client: TestClient, registry: Registry) -> dict[str, str]:
    return bearer(client, make_user(registry, "owner1", ["owner"]))


def _problem(response: object) -> dict[str, object]:
    assert response.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert {"type", "title", "status", "code", "detail"} <= set(body)
    return body  # type: ignore[no-any-return]


def test_malformed_json(client: TestClient, owner: dict[str, str]) -> None:
    response = client.post("/projects", headers=owner | {"content-type": "application/json"}, content=b"{not json")
    assert response.status_code == 422
    assert _problem(response)["code"] == "invalid_request"


@pytest.mark.parametrize(
    "patch,field",
    [
        ({"county_code": "33048"}, "body.county_code"),
        ({"county_code": 330483}, "body.county_code"),
        ({"industry_code": "44111"}, "body.industry_code"),
        ({"owner_kind": "giant"}, "body.owner_kind"),
        ({"crediting_start": "2023-02-30"}, "body.crediting_start"),
        ({"crediting_start": "9999-01-01"}, "body.crediting_start"),
        ({"methodology_version_id": -1}, "body.methodology_version_id"),
        ({"methodology_version_id": 10**30}, "body.methodology_version_id"),
        ({"title": "x" * 201}, "body.title"),
        ({"asset_identifiers": []}, "body.asset_identifiers"),
        ({"unexpected": 1}, "body.unexpected"),
        ({"legal_reduction_obligation": "maybe"}, "body.legal_reduction_obligation"),
        ({"legal_reduction_obligation": "yes"}, "body.legal_reduction_obligation"),
        ({"legal_reduction_obligation": 0}, "body.legal_reduction_obligation"),
    ],
)
def test_bad_fields_name_their_path(client: TestClient, owner: dict[str, str], patch: dict[str, object],
                                    field: str) -> None:
    body = {"methodology_version_id": 1, "title": "t", "county_code": "330483", "industry_code": "1713",
            "owner_kind": "small", "crediting_start": "2023-01-01", "crediting_end": "2030-12-31",
            "legal_reduction_obligation": False, "asset_identifiers": ["M-1"]} | patch
    response = client.post("/projects", headers=owner, json=body)
    assert response.status_code == 422, response.text
    problem = _problem(response)
    assert field in [e["field"] for e in problem["errors"]]  # type: ignore[union-attr]


def test_crediting_period_order(client: TestClient, owner: dict[str, str]) -> None:
    body = {"methodology_version_id": 1, "title": "t", "county_code": "330483", "industry_code": "1713",
            "owner_kind": "small", "crediting_start": "2023-01-02", "crediting_end": "2023-01-01",
            "legal_reduction_obligation": False, "asset_identifiers": ["M-1"]}
    assert client.post("/projects", headers=owner, json=body).status_code == 422


def test_unknown_route_and_method(client: TestClient) -> None:
    assert _problem(client.get("/no-such-thing"))["status"] == 404
    assert client.delete("/health").status_code == 405


def test_oversized_body_is_refused_before_parsing(client: TestClient, owner: dict[str, str]) -> None:
    response = client.post("/projects", headers=owner | {"content-type": "application/json"},
                           content=b"[" + b"1," * 600_000 + b"1]")
    assert response.status_code == 413


def test_login_me_logout(client: TestClient, registry: Registry) -> None:
    make_user(registry, "alice", ["owner", "trader"])
    assert client.post("/auth/login", json={"username": "alice", "password": "wrong"}).status_code == 401
    assert client.post("/auth/login", json={"username": "nobody", "password": "x"}).status_code == 401
    headers = login(client, "alice", PASSWORD)
    me = client.get("/auth/me", headers=headers).json()
    assert me["username"] == "alice" and me["roles"] == ["owner", "trader"]
    assert client.post("/auth/logout", headers=headers).status_code == 204
    revoked = client.get("/auth/me", headers=headers)
    assert revoked.status_code == 401 and _problem(revoked)["code"] == "unauthenticated"


def test_garbage_token_is_401(client: TestClient) -> None:
    response = client.get("/auth/me", headers={"Authorization": "Bearer not.a.token"})
    assert response.status_code == 401


def test_rate_limit_per_principal(client: TestClient, registry: Registry) -> None:
    client.app.state.services.settings.rate_limit_per_minute = 5  # type: ignore[attr-defined]
    headers = bearer(client, make_user(registry, "busy", ["owner"]))
    codes = [client.get("/auth/me", headers=headers).status_code for _ in range(7)]
    assert codes[:5] == [200] * 5 and codes[5:] == [429, 429]


def test_audit_chain_verifies_after_changes(client: TestClient, registry: Registry) -> None:
    admin = bearer(client, make_user(registry, "root", ["admin"]))
    client.post("/admin/participants", headers=admin, json={"name": "某公司", "kind": "enterprise"})
    report = client.get("/audit/verify", headers=admin).json()
    assert report["ok"] is True and report["entries_checked"] >= 4
    entries = client.get("/audit/entries", headers=admin).json()
    assert entries["items"][0]["action"] == "participant.created"


def test_nul_characters_are_a_422_on_every_backend(client: TestClient, owner: dict[str, str]) -> None:
    body = {"methodology_version_id": 1, "title": "bad\x00title", "county_code": "330483",
            "industry_code": "1713", "owner_kind": "small", "crediting_start": "2023-01-01",
            "crediting_end": "2030-12-31", "legal_reduction_obligation": False, "asset_identifiers": ["M\x00-1"]}
    response = client.post("/projects", headers=owner, json=body)
    assert response.status_code == 422


@pytest.mark.parametrize("path", ["/filings/1835521972381311827968", "/projects/99999999999999999999",
                                  "/retirements/0", "/disclosure/issuances?project_id=1e3",
                                  "/methodology-versions/-1"])
def test_out_of_range_ids_are_422(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 422 and response.headers["content-type"].startswith("application/problem")


def test_only_the_bureau_imposes_or_lifts_a_disqualification(client: TestClient, registry: Registry) -> None:
    admin = bearer(client, make_user(registry, "root", ["admin"]))
    bureau = bearer(client, make_user(registry, "bureau9", ["bureau"]))
    target = client.get("/auth/me", headers=bearer(client, make_user(registry, "cheat", ["owner"]))).json()
    path = f"/admin/participants/{target['participant_id']}/status"
    assert client.post(path, headers=admin, json={"status": "disqualified", "reason": "x" * 3}).status_code == 403
    assert client.post(path, headers=bureau, json={"status": "disqualified", "reason": "Art. 26"}).status_code == 200
    assert client.post(path, headers=admin, json={"status": "active", "reason": "lift"}).status_code == 403
    assert client.post(path, headers=bureau, json={"status": "active", "reason": "lift"}).status_code == 200


def test_an_oversized_chunked_body_is_413(client: TestClient, owner: dict[str, str]) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(40):
            yield b" " * 65536

    response = client.post("/projects", headers=owner | {"content-type": "application/json"}, content=chunks())
    assert response.status_code == 413 and response.json()["code"] == "payload_too_large"


def test_a_disabled_user_is_refused_once_the_kept_roles_are_read_again(
        client: TestClient, registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    """Roles are kept for PRINCIPAL_TTL_S per user (no route changes them); a user disabled in the database
    keeps working for at most that long, then every request is refused."""
    from sqlalchemy import update

    import api.deps
    from registry.orm import User

    user = make_user(registry, "leaver", ["owner"])
    headers = bearer(client, user)
    assert client.get("/auth/me", headers=headers).status_code == 200
    with registry.uow() as uow:
        uow.session.execute(update(User).where(User.id == user).values(active=False))
        uow.commit()
    assert client.get("/auth/me", headers=headers).status_code == 200  # still within the kept seconds
    later = api.deps.time.monotonic() + api.deps.PRINCIPAL_TTL_S + 1
    monkeypatch.setattr(api.deps.time, "monotonic", lambda: later)
    refused = client.get("/auth/me", headers=headers)
    assert refused.status_code == 401 and "disabled" in _problem(refused)["detail"]
