"""Helpers shared by the database and API tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.exchange.desk import InstrumentDesk
from api.tokens import issue_token
from registry.context import Registry
from registry.orm import Batch, Document, Filing, Methodology, MethodologyVersion, Participant, Project, User, UserRole
from registry.principals import Principal
from registry.services import issuance, participants

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


def seed_ledger(registry: Registry) -> tuple[Principal, list[Principal]]:
    """The least a batch needs: participants, a registered methodology version, a project. Rows are written
    directly because this test is about the ledger, not about the flows that lead to it."""
    with registry.uow() as uow:
        now = uow.now()
        people = [Participant(name=f"p{i}", kind="enterprise", status="active", created_at=now) for i in range(4)]
        uow.session.add_all(people)
        uow.session.flush()
        users = [User(participant_id=p.id, username=f"u{p.id}", display_name="u", password_hash="x", active=True,
                      created_at=now) for p in people]
        uow.session.add_all(users)
        uow.session.flush()
        uow.session.add(UserRole(user_id=users[0].id, role="bureau"))
        uow.session.add(UserRole(user_id=users[0].id, role="operator"))
        uow.session.add_all(UserRole(user_id=u.id, role=r) for u in users[1:] for r in ("owner", "trader"))
        m = Methodology(code="M", title_zh="m", title_en="m", field="other", proposer_participant_id=people[0].id,
                        created_at=now)
        uow.session.add(m)
        uow.session.flush()
        v = MethodologyVersion(methodology_id=m.id, version=1, status="registered", definition={},
                               submitted_by=users[0].id, submitted_at=now)
        uow.session.add(v)
        uow.session.add(Document(sha256="a" * 64, size_bytes=1, media_type="application/pdf", filename="r",
                                 uploaded_by_participant_id=people[1].id, uploaded_at=now))
        uow.session.flush()
        uow.session.add(Project(code="P", owner_participant_id=people[1].id, methodology_version_id=v.id, title="p",
                                county_code="330402", industry_code="4416", owner_kind="small",
                                crediting_start=date(2023, 1, 1), crediting_end=date(2030, 1, 1),
                                legal_reduction_obligation=False, declared_other_mechanisms=[], status="registered",
                                created_at=now))
        uow.commit()
        bureau = Principal(users[0].id, people[0].id, "bureau", frozenset({"bureau", "operator"}))
        holders = [Principal(u.id, u.participant_id, u.username, frozenset({"owner", "trader"})) for u in users[1:]]
        return bureau, holders


def issue_to(registry: Registry, bureau: Principal, quantity: int, month: int = 1) -> Batch:
    """Issue `quantity` t (+0.9, rounded down) to the seeded project's owner from a registered filing
    written directly."""
    filing_id = registered_filing(registry, bureau, quantity, month)
    with registry.uow(bureau) as uow:
        batch = issuance.issue(uow, bureau, filing_id, "issue")
        uow.commit()
        return batch


def registered_filing(registry: Registry, bureau: Principal, quantity: int, month: int = 1) -> int:
    """A filing of the seeded project for `quantity` t (+0.9), registered and ready to issue, written directly."""
    with registry.uow(bureau) as uow:
        project = uow.session.scalar(select(Project))
        assert project is not None
        start = date(2023, month, 1)
        filing = Filing(project_id=project.id, owner_participant_id=project.owner_participant_id,
                        methodology_version_id=project.methodology_version_id, monitoring_start=start,
                        monitoring_end=start, inputs={}, calculation={}, calculated_tco2e=Decimal(quantity + 1),
                        verified_tco2e=Decimal(quantity) + Decimal("0.9"), report_sha256="a" * 64,
                        report_preparer_participant_id=project.owner_participant_id, status="registered",
                        created_at=uow.now())
        uow.session.add(filing)
        uow.commit()
        return filing.id


DEPOSIT_FEN = 10_000_000  # ¥100,000, the buyer's cash in the trading tests


def order(client: TestClient, headers: dict[str, str], **fields: Any) -> Any:
    body = {"instrument": "JXCI-2023", "side": "buy", "quantity_t": 10, "price_fen": 5000} | fields
    body.setdefault("client_order_id", f"c-{abs(hash(str(sorted(body.items()))))}")
    return client.post("/orders", headers=headers, json=body)


def balances(client: TestClient, headers: dict[str, str]) -> dict[tuple[str, str], int]:
    accounts = client.get("/accounts", headers=headers).json()
    return {(b["asset"], b["bucket"]): b["amount"] for b in accounts[0]["balances"]}


@contextmanager
def served(app: Any, port: int, start_timeout_s: float = 60, **config: Any) -> Iterator[str]:
    """Run `app` with uvicorn on 127.0.0.1:`port` in a thread, for tests that need a real socket (browsers,
    concurrent clients); yields its base URL and stops it afterwards."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **config))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout_s
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def owned_desk(client: TestClient, code: str) -> InstrumentDesk:
    """The book's desk in this process, as a running server has it: owned, then built. On PostgreSQL with
    Redis, taking the book's lock builds the desk anew and stops the one built before; a test that used a desk
    before its process owned the book would race the ownership monitor, which stops that desk (and closes its
    connection) under it."""
    exchange = client.app.state.services.exchange  # type: ignore[attr-defined]
    instrument_id = exchange.instrument_id(code)
    assert exchange.coordinator.owns(instrument_id)
    desk: InstrumentDesk = exchange.desk(instrument_id)
    return desk
