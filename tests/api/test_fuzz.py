"""The API fuzz: schemathesis generates requests from the OpenAPI document for every operation, sends them to the
ASGI app in this process (no server) as anonymous, as a user of each role and as each demo user, and checks that
no answer is a server error (a deliberate 503 with Retry-After aside) and that every answer matches the document
(its status, content type and schema: an error is application/problem+json as every route's `default` answer
describes it).

Seeded and bounded: hypothesis runs with a fixed seed per backend (the same requests every run, no example
database written), EXAMPLES_PER_OPERATION requests per operation. So that the fuzz reaches real work and not
only the door, most requests are made from the schema (positive mode) and their ids, codes, prices, quantities
and instants are then drawn, most of the time, from what exists (the demo data and the objects `_furnish`
builds); a quarter are made to break the schema (negative mode) and are sent as they are.

Below the fuzz, the extremes a fuzz seldom draws, as explicit tests: instants at year 1 and 9999 with offsets
of ±14:00, NUL in every kind of text, and 2^63, -2^63-1 and 2^64 in every integer field of every route."""

from __future__ import annotations

import logging
import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import hypothesis
import hypothesis.strategies as st
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.core import NotSet
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from api.schemas import ALL_ROLES
from registry.clock import FixedClock
from registry.context import Registry
from registry.demo import load_demo
from registry.orm import (
    Account,
    Batch,
    CorrectionOrder,
    Document,
    Filing,
    Instrument,
    Methodology,
    MethodologyVersion,
    Objection,
    Order,
    Parameter,
    ParameterVersion,
    Participant,
    Project,
    Retirement,
    User,
    ViolationReport,
)
from tests.conftest import Backend
from tests.support import bearer, demo_people, make_user, upload

ROLES = list(ALL_ROLES)  # a fuzz user of every role, residents too
# Requests per operation on each backend; each backend draws its own (SEEDS), so the two together make twice as many
# different requests. About 1,500 requests per backend: some 30 s on SQLite and 50 s on PostgreSQL on two cores.
# A deeper hunt, by hand: CARBONX_FUZZ_EXAMPLES=200 CARBONX_FUZZ_SEED=7 pytest tests/api/test_fuzz.py -s
EXAMPLES_PER_OPERATION = int(os.environ.get("CARBONX_FUZZ_EXAMPLES", "12"))
SEEDS = {"sqlite": 20261123, "postgres": 20261124}
SEED_OFFSET = int(os.environ.get("CARBONX_FUZZ_SEED", "0"))
# The share of 2xx answers to the positive requests of callers the route admits, below which the fuzz no longer
# reaches real work (measured about 0.5; a floor, so that a change that starves it is noticed).
LEAST_SUCCESS_SHARE = 0.3
CHECKS = [response_schema_conformance, content_type_conformance, status_code_conformance]


@dataclass
class World:
    """What the fuzz draws from: who calls, and the values that name something that exists."""

    client: TestClient
    clock: FixedClock
    identities: dict[str, int | None]  # name → user id (None: anonymous)
    roles: dict[str, set[str]]
    path_values: dict[tuple[str, str], list[Any]] = field(default_factory=dict)  # (first segment, name) → values
    values: dict[str, list[Any]] = field(default_factory=dict)  # body or query field → values
    refresh: Any = None  # collects path_values and values again

    def instants(self) -> list[str]:
        now = self.clock.now()
        return [(now + timedelta(hours=2)).isoformat(), (now + timedelta(days=2)).isoformat()]

    def days(self) -> list[str]:
        today = self.clock.now().date()
        return ["2025-01-01", "2025-07-01", "2025-09-30", today.isoformat(), (today + timedelta(days=30)).isoformat()]

    def headers(self, who: str) -> dict[str, str]:
        user = self.identities[who]
        return bearer(self.client, user) if user is not None else {}


def _furnish(client: TestClient, people: Any, clock: FixedClock) -> None:
    """Objects of every kind beyond the demo's, made through the API, so that their ids exist."""
    owner, buyer, household = people["owner"], people["buyer"], people["household"]
    later = (clock.now() + timedelta(days=3)).isoformat()
    report = upload(client, owner, b"%PDF-1.4 fuzz report")
    projects = client.get("/projects?mine=true", headers=owner).json()["items"]
    filing = client.post("/filings", headers=owner, json={
        "project_id": projects[0]["id"], "monitoring_start": "2025-07-01", "monitoring_end": "2025-09-30",
        "inputs": {"net_generation_mwh": "100"}, "report_sha256": report,
        "report_preparer_participant_id": client.get("/auth/me", headers=owner).json()["participant_id"]})
    assert filing.status_code == 201, filing.text
    market = [
        ("/orders", buyer, {"instrument": "JXCI-2025", "client_order_id": "fz-o1", "side": "buy",
                            "price_fen": 5500, "quantity_t": 5}),
        ("/orders", owner, {"instrument": "JXCI-2025", "client_order_id": "fz-o2", "side": "sell",
                            "price_fen": 6500, "quantity_t": 5}),
        ("/listings", owner, {"instrument": "JXCI-2025", "client_order_id": "fz-l1", "price_fen": 6000,
                              "quantity_t": 20, "min_pick_t": 1, "expires_at": later}),
        ("/auctions", owner, {"instrument": "JXCI-2025", "client_order_id": "fz-a1", "quantity_t": 20,
                              "reserve_price_fen": 5500, "end_at": later}),
        ("/retirements", owner, {"quantity_t": 3, "beneficiary": "嘉兴某会议", "purpose": {"purpose": "voluntary"}}),
        ("/reports", {}, {"subject": "虚假材料", "details": "线索 / a lead"}),
    ]
    for path, who, body in market:
        answer = client.post(path, headers=who, json=body)
        assert answer.status_code == 201, (path, answer.text)
    buyer_id = client.get("/auth/me", headers=buyer).json()["participant_id"]
    proposal = client.post("/proposals", headers=owner, json={
        "instrument": "JXCI-2025", "client_order_id": "fz-p1", "counterparty_participant_id": buyer_id,
        "side": "sell", "price_fen": 6000, "quantity_t": 5, "expires_at": later})
    assert proposal.status_code == 201, proposal.text
    assert client.post("/accounts", headers=household, json={"label": "fuzz"}).status_code == 201


def _collect(world: World, registry: Registry) -> None:
    """Every id, code and digest that exists, by where the API takes it."""
    with registry.uow() as uow:
        spare = sorted(uow.session.scalars(select(User.participant_id).where(User.username.like("fuzz-%"))))
        def ids(column: Any) -> list[Any]:
            return sorted(set(uow.session.scalars(select(column))))

        def orders(kind: str) -> list[int]:
            return sorted(uow.session.scalars(select(Order.id).where(Order.kind == kind)))

        participants, projects, filings = ids(Participant.id), ids(Project.id), ids(Filing.id)
        batches, accounts, digests = ids(Batch.id), ids(Account.id), ids(Document.sha256)
        instruments, versions = ids(Instrument.code), ids(MethodologyVersion.id)
        serials = [f"JXCI-2025-B{b:06d}" for b in batches]
        world.path_values = {
            ("methodologies", "methodology_id"): ids(Methodology.id),
            ("methodology-versions", "version_id"): versions,
            ("parameters", "code"): ids(Parameter.code),
            ("parameter-versions", "version_id"): ids(ParameterVersion.id),
            ("objections", "objection_id"): ids(Objection.id),
            ("projects", "project_id"): projects,
            ("filings", "filing_id"): filings,
            ("accounts", "account_id"): accounts,
            ("batches", "batch_id"): batches,
            ("corrections", "order_id"): ids(CorrectionOrder.id),
            ("retirements", "retirement_id"): ids(Retirement.id),
            ("serials", "serial"): serials,
            ("reports", "report_id"): ids(ViolationReport.id),
            # Suspending or disqualifying the demo's participants would close the market to the rest of the fuzz.
            ("market", "participant_id"): spare,
            ("admin", "participant_id"): spare,
            ("admin", "user_id"): ids(User.id),
            ("instruments", "code"): instruments,
            ("market", "code"): instruments,
            ("market", "day"): [world.clock.now().date().isoformat()],
            ("orders", "order_id"): orders("order"),
            ("listings", "listing_id"): orders("listing"),
            ("proposals", "proposal_id"): orders("proposal"),
            ("auctions", "auction_id"): orders("auction"),
            ("documents", "sha256"): digests,
        }
        codes = list(uow.session.scalars(select(Account.code)))
    world.values = {
        "instrument": instruments, "participant_id": participants, "counterparty_participant_id": participants,
        "verifier_participant_id": participants, "report_preparer_participant_id": participants,
        "project_id": projects, "methodology_version_id": versions, "batch_id": batches, "account_id": accounts,
        "from_account_id": accounts, "to_account_code": codes, "report_sha256": digests,
        "statement_sha256": digests, "sha256": digests, "filing_id": filings,
        "price_fen": [5400, 6000, 6600], "reserve_price_fen": [5400, 6000], "min_price_fen": [5000],
        "max_price_fen": [7000], "quantity_t": [1, 2, 5], "min_pick_t": [1], "deadline_days": [15],
        "monitoring_start": ["2025-07-01"], "monitoring_end": ["2025-09-30"], "county_code": ["330402", "330481"],
        "industry_code": ["1713", "4416"], "vintage": [2025], "order_type": ["LIMIT"],
        "inputs": [{"net_generation_mwh": "100"},
                   {"distance_km": "12000", "electricity_kwh": "1800", "baseline_fuel_l": "900"}],
    }


@pytest.fixture
def world(client: TestClient, registry: Registry, clock: FixedClock) -> World:
    load_demo(registry)
    people = demo_people(client, registry)
    _furnish(client, people, clock)
    identities: dict[str, int | None] = {"anonymous": None}
    roles: dict[str, set[str]] = {"anonymous": {"public"}}
    for role in ROLES:
        identities[f"fuzz-{role}"] = make_user(registry, f"fuzz-{role}", [role])
        roles[f"fuzz-{role}"] = {role, "public"}
    from registry.demo import DEMO_USERS

    for name, _, demo_roles, _ in DEMO_USERS:
        identities[name] = people.user_ids[name]
        roles[name] = {*demo_roles, "public"}
    made = World(client, clock, identities, roles)
    made.refresh = lambda: _collect(made, registry)
    made.refresh()
    return made


@dataclass
class Tally:
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)  # (operation, status)
    admitted_positive: int = 0
    admitted_positive_ok: int = 0
    changes: int = 0  # of those, requests to an operation that is not a GET
    changes_ok: int = 0
    failures: list[str] = field(default_factory=list)


# What the text rule refuses in one-line text (api/schemas.py); the document shows the rule as `x-text`, which the
# generator does not read, so positive requests have such characters taken out.
REFUSED_TEXT = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T")


def _overlay(data: st.DataObject, value: Any, world: World, key: str = "") -> Any:
    """A positive request's value made likelier to name what exists: known fields, most of the time, replaced by
    values that exist, days and instants moved near today, and text cleaned of control characters."""
    if isinstance(value, dict):
        out = {k: _overlay(data, v, world, k) for k, v in value.items()}
        return _coherent_order(out, world)
    if isinstance(value, list):
        return [_overlay(data, item, world, key) for item in value]
    pool = world.values.get(key)
    if isinstance(value, str) and pool is None:
        if DAY.match(value):
            pool = world.days()
        elif INSTANT.match(value):
            pool = world.instants()
    if pool and data.draw(st.integers(0, 3), label=key):
        return data.draw(st.sampled_from(pool), label=key)
    if isinstance(value, str) and REFUSED_TEXT.search(value):
        cleaned = REFUSED_TEXT.sub("", value)
        return cleaned + "样" * (len(value) - len(cleaned))  # the same length, so length bounds still hold
    return value


def _coherent_order(body: dict[str, Any], world: World) -> dict[str, Any]:
    """An order's price goes with its type and its expiry with GTD (api/routers/orders.py), most of the time."""
    if "order_type" in body:
        if body["order_type"] == "MARKET":
            body["price_fen"] = None
        elif body.get("price_fen") is None:
            body["price_fen"] = 6000
        if "tif" in body and body.get("expires_at") is not None:
            body["tif"] = "GTD"
        elif body.get("tif") == "GTD":
            body["expires_at"] = world.instants()[0]
    return body


# Operations that close doors for what follows (a batch under a correction order cannot be sold, a disqualified
# owner, revoked credits, a suspended book, a moved clock): fuzzed last, after every read and every other change,
# each with the ids that exist by then (a correction order made by the first).
LAST = ["POST /batches/{batch_id}/corrections", "POST /corrections/{order_id}/response",
        "POST /corrections/{order_id}/decision", "POST /batches/{batch_id}/revocations",
        "POST /admin/participants/{participant_id}/status", "POST /market/participants/{participant_id}/admission",
        "POST /instruments/{code}/status", "POST /admin/clock/advance"]


def _turn(operation: Any) -> tuple[int, int]:
    """Reads first, then changes, then the changes in LAST; otherwise in the document's order."""
    if operation.label in LAST:
        return (2, LAST.index(operation.label))
    return (0 if operation.method.upper() == "GET" else 1, 0)


def _first_segment(path: str) -> str:
    return path.strip("/").split("/")[0]


def _fuzz_operation(operation: Any, world: World, session: Any, tally: Tally, seed: int) -> None:
    x_roles = set(operation.definition.raw.get("x-roles", []))
    admitted = [who for who, roles in world.roles.items() if roles & x_roles]
    refused = [who for who in world.identities if who not in admitted]
    callers = admitted * 4 + refused
    positive = operation.as_strategy(generation_mode=GenerationMode.POSITIVE)
    negative = operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)
    segment = _first_segment(operation.path)

    @hypothesis.seed(seed)
    @settings(max_examples=EXAMPLES_PER_OPERATION, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        mode_positive = data.draw(st.sampled_from([True, True, True, False]), label="positive")
        case = data.draw(positive if mode_positive else negative, label="case")
        who = data.draw(st.sampled_from(callers), label="who")
        if mode_positive:
            for name in list(case.path_parameters or {}):
                pool = world.path_values.get((segment, name))
                if pool and data.draw(st.integers(0, 4), label=name):
                    case.path_parameters[name] = data.draw(st.sampled_from(pool), label=name)
            if case.query:
                case.query = _overlay(data, dict(case.query), world)
            if not isinstance(case.body, NotSet) and isinstance(case.body, dict | list):
                case.body = _overlay(data, case.body, world)
        request = f"{operation.label} as {who}: {case.formatted_path} query={case.query!r} body={case.body!r}"[:600]
        if case.headers:  # the generator makes up bearer tokens for the security scheme: the caller is `who`
            case.headers = {k: v for k, v in case.headers.items() if k.lower() != "authorization"}
        try:
            response = case.call(session=session, headers=world.headers(who))
        except Exception as exc:  # the app raised past its handlers (Starlette re-raises after its 500)
            tally.failures.append(f"raised {exc!r}"[:300] + f" on {request}")
            return
        status = response.status_code
        tally.statuses[(operation.label, status)] += 1
        if mode_positive and who in admitted:
            tally.admitted_positive += 1
            tally.admitted_positive_ok += 200 <= status < 300
            if operation.method.upper() != "GET":
                tally.changes += 1
                tally.changes_ok += 200 <= status < 300
        if status >= 500 and not (status == 503 and "retry-after" in response.headers):
            tally.failures.append(f"{status} {request}\n    -> {response.text[:400]}")
            return
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as exc:  # the answer differs from the document
            tally.failures.append(f"{status} {request}\n    -> {str(exc)[:900]}")

    run()


@pytest.fixture
def quiet_logs() -> Iterator[None]:
    """The fuzz provokes thousands of refusals: their log lines are not what the test is about."""
    logging.disable(logging.ERROR)
    yield
    logging.disable(logging.NOTSET)


def test_the_fuzz_finds_no_server_error_and_no_answer_off_the_document(world: World, backend: Backend,
                                                                        quiet_logs: None) -> None:
    app = world.client.app
    schema = schemathesis.openapi.from_dict(app.openapi())  # type: ignore[attr-defined]
    session = asgi.get_client(app)  # type: ignore[arg-type]
    tally = Tally()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == len({(m.upper(), p) for p, ops in app.openapi()["paths"].items()  # type: ignore[attr-defined]
                                   for m in ops})
    for operation in sorted(operations, key=_turn):
        if operation.label in LAST:
            world.refresh()
        _fuzz_operation(operation, world, session, tally, SEEDS[backend.name] + SEED_OFFSET)
    requests = sum(tally.statuses.values())
    ok = sum(n for (_, status), n in tally.statuses.items() if 200 <= status < 300)
    share = tally.admitted_positive_ok / max(1, tally.admitted_positive)
    print(f"\nfuzz: {len(operations)} operations, {requests} requests, {ok} answered 2xx ({ok / requests:.0%}); "
          f"positive requests of admitted callers: {tally.admitted_positive}, 2xx {share:.0%}; of those changing "
          f"something: {tally.changes}, 2xx {tally.changes_ok / max(1, tally.changes):.0%}")
    assert not tally.failures, f"{len(tally.failures)} failures:\n" + "\n".join(tally.failures[:40])
    never = sorted({label for (label, _) in tally.statuses} - {label for (label, s) in tally.statuses if s < 300})
    print("operations never answered 2xx:", ", ".join(never))
    assert share >= LEAST_SUCCESS_SHARE, share


# ---- the extremes a fuzz seldom draws, in every field of every route ----

PATTERN_SAMPLES = {
    r"^[a-z][a-z0-9_]{0,39}$": "approve",
    r"^[A-Za-z0-9_\-]+$": "KEY_1",
    r"^[A-Z][A-Z0-9_]{1,19}$": "EF_X",
    r"^[A-Z][A-Z0-9\-]{2,39}$": "JX-FUZZ",
    r"^[0-9a-f]{64}$": "0" * 64,
    r"^[A-Za-z0-9\-_/]{4,64}$": "ref-0001",
    r"^[0-9A-HJ-NPQRTUWXY]{18}$": "91330400MA0000009X",
    r"^-?[0-9]{1,15}(\.[0-9]{1,10})?$": "1.5",
    r"^[A-Z0-9\-]{3,60}$": "ACC-1",
    r"^[a-z0-9_.\-]{3,64}$": "fuzz.user",
    r"^[A-Za-z][A-Za-z0-9_.\-]{0,39}$": "FZ-1",
    r"^[0-9]{6}$": "330402",
    r"^[A-Za-z0-9_\-.:]{1,64}$": "cid-1",
    r"^[0-9]{4}$": "1713",
    r"^(CN(-[A-Z]{2})?|[0-9]{6})$": "CN-ZJ",
    r"^https?://[^\s]{3,490}$": "https://example.org/factors",
    r"^[A-Za-z0-9\-]{1,40}$": "R-0001",
    r"^[0-9a-f]{16,64}$": "0" * 16,
    r"^20[2-9][0-9]-(0[1-9]|1[0-2])$": "2026-11",
    r"^[a-z][a-z0-9\-]{0,39}$": "metro",
}
YEAR_1_AND_9999 = ["0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00-14:00", "9999-12-31T23:59:59+14:00",
                   "9999-12-31T23:59:59-14:00"]
FAR_DAYS = ["0001-01-01", "9999-12-31"]
HUGE_INTEGERS = [2**63, -(2**63) - 1, 2**64]


class Spec:
    """The OpenAPI document, with a minimal request for each operation that passes the schema."""

    def __init__(self, document: dict[str, Any], world: World) -> None:
        self.document = document
        self.world = world

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = self.document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        return schema

    def sample(self, schema: dict[str, Any], name: str = "") -> Any:
        """A value the schema takes (every property given, so that every field is there to be spoiled)."""
        schema = self.resolve(schema)
        for key in ("anyOf", "oneOf"):
            if key in schema:
                options = [s for s in schema[key] if self.resolve(s).get("type") != "null"]
                return self.sample(options[0], name)
        if "allOf" in schema:
            return self.sample(schema["allOf"][0], name)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return schema["enum"][0]
        pool = self.world.values.get(name)
        kind = schema.get("type")
        if pool and kind in ("integer", "string"):
            return pool[0]
        if kind == "object" or "properties" in schema:
            return {key: self.sample(value, key) for key, value in schema.get("properties", {}).items()}
        if kind == "array":
            return [self.sample(schema.get("items", {}), name)]
        if kind == "integer":
            return max(1, int(schema.get("minimum", 1)))
        if kind == "number":
            return 1
        if kind == "boolean":
            return False
        if schema.get("format") == "date-time":
            return self.world.instants()[1]
        if schema.get("format") == "date":
            return self.world.days()[3]
        if "pattern" in schema:
            return PATTERN_SAMPLES[schema["pattern"]]
        return "样本 sample"[: schema.get("maxLength", 20)]

    def leaves(self, schema: dict[str, Any], where: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...],
                                                                                             dict[str, Any]]]:
        """Every scalar of the sample with its place in it and its schema (the first non-null option)."""
        schema = self.resolve(schema)
        for key in ("anyOf", "oneOf"):
            if key in schema:
                options = [s for s in schema[key] if self.resolve(s).get("type") != "null"]
                yield from self.leaves(options[0], where)
                return
        if "allOf" in schema:
            yield from self.leaves(schema["allOf"][0], where)
            return
        if schema.get("type") == "object" or "properties" in schema:
            for key, value in schema.get("properties", {}).items():
                yield from self.leaves(value, (*where, key))
        elif schema.get("type") == "array":
            yield from self.leaves(schema.get("items", {}), (*where, 0))
        else:
            yield where, schema

    def operations(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        for path, item in self.document["paths"].items():
            for method, operation in item.items():
                yield method.upper(), path, operation


@dataclass
class Request:
    method: str
    path: str  # the template
    who: str
    path_params: dict[str, Any]
    query: dict[str, Any]
    headers: dict[str, str]
    body: Any
    media_type: str | None

    def send(self, world: World) -> Any:
        url = re.sub(r"\{(\w+)\}", lambda m: quote(str(self.path_params[m.group(1)]), safe=""), self.path)
        headers = {**world.headers(self.who), **self.headers}
        if self.media_type == "application/json":
            return world.client.request(self.method, url, params=self.query, headers=headers, json=self.body)
        if self.media_type == "text/csv":
            return world.client.request(self.method, url, params=self.query, content=str(self.body).encode(),
                                        headers={**headers, "Content-Type": "text/csv"})
        if self.media_type == "multipart/form-data":
            # Written out by hand: httpx would percent-encode a control character in the file name.
            name, kind = self.body
            form = (f'--fz\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                    f"Content-Type: {kind}\r\n\r\n%PDF-1.4 x\r\n--fz--\r\n").encode()
            return world.client.request(self.method, url, params=self.query, content=form,
                                        headers={**headers, "Content-Type": "multipart/form-data; boundary=fz"})
        return world.client.request(self.method, url, params=self.query, headers=headers)


def _caller(world: World, roles: list[str]) -> str:
    """A demo user the route admits (the owner where anyone may call), else the fuzz's user of its role."""
    for who in ("owner", "buyer", "bureau", "operator", "verifier", "center", "expert", "admin"):
        if world.roles[who] & set(roles):
            return who
    for role in roles:  # a role no demo user has (a resident): the fuzz's own user of that role
        if f"fuzz-{role}" in world.roles:
            return f"fuzz-{role}"
    raise AssertionError(roles)


def _base(spec: Spec, method: str, path: str, operation: dict[str, Any]) -> Request:
    segment = _first_segment(path)
    params: dict[str, dict[str, Any]] = {"path": {}, "query": {}, "header": {}}
    for parameter in operation.get("parameters", []):
        name, where = parameter["name"], parameter["in"]
        pool = spec.world.path_values.get((segment, name)) if where == "path" else None
        params[where][name] = pool[0] if pool else spec.sample(parameter["schema"], name)
    body, media_type = None, None
    if "requestBody" in operation:
        media_type, content = next(iter(operation["requestBody"]["content"].items()))
        body = spec.sample(content["schema"])
        if media_type == "multipart/form-data":
            body = ("report.pdf", "application/pdf")
    return Request(method, path, _caller(spec.world, operation["x-roles"]), params["path"], params["query"],
                   params["header"], body, media_type)


def _put(body: Any, where: tuple[Any, ...], value: Any) -> Any:
    """A copy of the body with the value at `where`."""
    if not where:
        return value
    head, rest = where[0], where[1:]
    copy = list(body) if isinstance(body, list) else dict(body)
    copy[head] = _put(body[head], rest, value)
    return copy


def _variants(spec: Spec, base: Request, operation: dict[str, Any],
              wanted: Any) -> Iterator[tuple[str, str, Request]]:
    """The base request with one field at a time set by `wanted(schema)` (a list of values, or none for a field
    it does not concern), in the path, the query, a header or the body: (label, the field's path, request)."""
    from dataclasses import replace

    for parameter in operation.get("parameters", []):
        name, where = parameter["name"], parameter["in"]
        for value in wanted(spec.resolve(parameter["schema"])):
            field_name = {"path": "path_params", "query": "query", "header": "headers"}[where]
            changed = {**getattr(base, field_name), name: value}
            yield f"{where}.{name}={value!r}", f"{where}.{name}", replace(base, **{field_name: changed})
    if base.media_type == "application/json":
        content = operation["requestBody"]["content"]["application/json"]
        for where, schema in spec.leaves(content["schema"]):
            for value in wanted(schema):
                place = "body" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in where)
                yield f"{place}={value!r}", place, replace(base, body=_put(base.body, where, value))
    elif base.media_type == "text/csv":
        for value in wanted({"type": "string"}):
            yield f"body={value!r}", "body", replace(base, body=value)
    elif base.media_type == "multipart/form-data":
        for value in wanted({"type": "string"}):
            yield f"file name={value!r}", "body.file.filename", replace(base, body=(value, "application/pdf"))
            yield f"file type={value!r}", "body.file.content_type", replace(base, body=("report.pdf", value))


def _walk_extremes(world: World, wanted: Any) -> tuple[int, list[str]]:
    """Every operation's base request with each field spoiled in turn: each answer must be a 422 naming that
    field (or a 404 for a path value)."""
    spec = Spec(world.client.app.openapi(), world)  # type: ignore[attr-defined]
    sent, failures = 0, []
    for method, path, operation in spec.operations():
        base = _base(spec, method, path, operation)
        for label, place, request in _variants(spec, base, operation, wanted):
            response = request.send(world)
            sent += 1
            status = response.status_code
            named = status == 422 and any(_names(e["field"], place) for e in response.json().get("errors", []))
            if not (named or (status == 404 and place.startswith("path."))):
                failures.append(f"{method} {path} as {request.who} with {label}: {response.status_code} "
                                f"{response.text[:300]}")
    return sent, failures


def _names(field: str, place: str) -> bool:
    """Whether an error's field is the place, also where a tagged union puts its tag in the path
    (body.purpose.event_neutrality.event_name for body.purpose.event_name)."""
    parts = field.split(".")
    return field == place or any(".".join(parts[:i] + parts[i + 1:]) == place for i in range(1, len(parts)))


def _integers(schema: dict[str, Any]) -> list[int]:
    return HUGE_INTEGERS if schema.get("type") == "integer" else []


def _texts(schema: dict[str, Any]) -> list[str]:
    if schema.get("type") != "string" or "enum" in schema or "const" in schema:
        return []
    return ["a\x00b"]


def _instants(schema: dict[str, Any]) -> list[str]:
    if schema.get("format") == "date-time":
        return YEAR_1_AND_9999
    if schema.get("format") == "date":
        return FAR_DAYS
    return []


def test_extremes_in_every_field_are_refused_and_never_a_server_error(world: World, quiet_logs: None) -> None:
    """2^63, -2^63-1 and 2^64 in every integer field, NUL in every text (a JSON field, a path, query or header
    value, a CSV body, an upload's name and type), and year 1 and year 9999 at +14:00 and -14:00 in every
    instant (and days 0001-01-01 and 9999-12-31 in every date), each in turn in a request that is otherwise
    well formed, by a caller the route admits: a 422 (a 404 for a path, which names nothing with a NUL in it),
    never a server error."""
    report = []
    for name, wanted in (("integers", _integers), ("NUL", _texts), ("instants", _instants)):
        sent, failures = _walk_extremes(world, wanted)
        report.append(f"{name}: {sent} requests")
        assert not failures, f"{len(failures)} answers not a 422 naming the field:\n" + "\n".join(failures[:30])
    print("\nextremes:", "; ".join(report))
