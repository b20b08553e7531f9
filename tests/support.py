"""Helpers shared by the database and API tests."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.tokens import issue_token
from registry.context import Registry
from registry.services import participants

PASSWORD = "correct-horse-battery"


def make_user(registry: Registry, username: str, roles: list[str], *, kind: str = "enterprise",
              credit_code: str | None = None) -> int:
    """A participant with one user of the given roles; returns the user id."""
    with registry.uow() as uow:
        org = participants.create_participant(uow, name=f"{username} org", kind=kind, credit_code=credit_code)
        user = participants.create_user(uow, participant_id=org.id, username=username, password=PASSWORD,
                                        display_name=username, roles=roles)
        uow.commit()
        return user.id


def bearer(client: TestClient, user_id: int) -> dict[str, str]:
    """A fresh token for a user, minted directly (logging in costs an Argon2 hash)."""
    services = client.app.state.services  # type: ignore[attr-defined]
    token, _ = issue_token(services.settings, user_id, services.registry.clock.now())
    return {"Authorization": f"Bearer {token}"}


def login(client: TestClient, username: str, password: str) -> dict[str, str]:
    response = client.post("/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


class People:
    """Users by name whose headers carry a token minted at each use, so tests may move the clock by days."""

    def __init__(self, client: TestClient, user_ids: dict[str, int]) -> None:
        self.client = client
        self.user_ids = user_ids

    def __getitem__(self, name: str) -> dict[str, str]:
        return bearer(self.client, self.user_ids[name])


def user_id(registry: Registry, username: str) -> int:
    with registry.uow() as uow:
        user = participants.find_user_by_username(uow, username)
        assert user is not None
        return user.id


def participant_id(registry: Registry, username: str) -> int:
    with registry.uow() as uow:
        user = participants.find_user_by_username(uow, username)
        assert user is not None
        return user.participant_id


def demo_people(client: TestClient, registry: Registry) -> People:
    """The demo users (registry.demo.DEMO_USERS) by username."""
    from registry.demo import DEMO_USERS

    return People(client, {name: user_id(registry, name) for name, *_ in DEMO_USERS})


def upload(client: TestClient, headers: dict[str, str], content: bytes, name: str = "doc.pdf") -> str:
    response = client.post("/documents", headers=headers, files={"file": (name, content, "application/pdf")})
    assert response.status_code == 201, response.text
    return str(response.json()["sha256"])
