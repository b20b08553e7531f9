"""The ownership matrix, generated from the OpenAPI document: every route with a path parameter that names one
participant's object is called, with a well-formed request, by a second participant of the same role, and must
be refused as the product refuses what a caller may not see (404), or with 403 where the route does not admit
that role at all. A new route is covered without a new test: its path parameter names an object kind below
(OWNED_OBJECTS), or it is listed in NOT_OWNED with the reason; a route that is neither fails here until someone
classifies it.

The first participant (the demo owner, who also trades) builds one object of each kind through the API, each in
a state only its owner (and the authorities) may see: a draft project, a filing commissioned to the demo
verifier, an upload, an account, a requested retirement, a resting order, a listing, a proposal to the demo
buyer, an auction, a methodology proposal, the bureau's correction order on the owner's batch, an event and a
reduction scenario. The second participant is the demo household (also owner and trader; a verifier of its own
for the verifier's route).
Afterwards every object is as it was."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from registry.clock import FixedClock
from registry.context import Registry
from registry.demo import load_demo
from registry.orm import Filing, Methodology, MethodologyVersion, Order, Project, Retirement
from tests.api.test_fuzz import Request, Spec, World
from tests.api.test_points import registered_project
from tests.api.test_points import scenario as make_scenario
from tests.support import demo_people, make_user, upload

# (first path segment, path parameter) → the kind of object it names, built by the first participant.
OWNED_OBJECTS: dict[tuple[str, str], str] = {
    ("methodologies", "methodology_id"): "methodology",
    ("methodology-versions", "version_id"): "methodology_version",
    ("projects", "project_id"): "project",
    ("filings", "filing_id"): "filing",
    ("accounts", "account_id"): "account",
    ("corrections", "order_id"): "correction",
    ("retirements", "retirement_id"): "retirement",
    ("orders", "order_id"): "order",
    ("listings", "listing_id"): "listing",
    ("proposals", "proposal_id"): "proposal",
    ("auctions", "auction_id"): "auction",
    ("documents", "sha256"): "document",
    ("events", "event_id"): "event",
    ("scenarios", "scenario_id"): "scenario",
}

AUTHORITY = "an authority's act on any participant's object (the role is the fence; tests/api/test_route_access.py)"
PUBLIC_REGISTER = "a public register: anyone may read it"
# Routes with a path parameter that do not act on one participant's object as that participant, and why.
NOT_OWNED: dict[tuple[str, str], str] = {
    ("POST", "/methodology-versions/{version_id}/review"): AUTHORITY,
    ("POST", "/filings/{filing_id}/review"): AUTHORITY,
    ("POST", "/filings/{filing_id}/issue"): AUTHORITY,
    ("POST", "/retirements/{retirement_id}/execute"): AUTHORITY,
    ("POST", "/corrections/{order_id}/decision"): AUTHORITY,
    ("POST", "/batches/{batch_id}/revocations"): AUTHORITY,
    ("POST", "/batches/{batch_id}/corrections"): AUTHORITY,
    ("POST", "/objections/{objection_id}/ruling"): AUTHORITY,
    ("POST", "/parameters/{code}/versions"): AUTHORITY,
    ("POST", "/parameter-versions/{version_id}/publish"): AUTHORITY,
    ("POST", "/reports/{report_id}"): AUTHORITY,
    ("POST", "/market/participants/{participant_id}/admission"): AUTHORITY,
    ("POST", "/admin/participants/{participant_id}/status"): AUTHORITY,
    ("POST", "/admin/users/{user_id}/unlock"): AUTHORITY,
    ("POST", "/instruments/{code}/status"): AUTHORITY,
    ("DELETE", "/market/closures/{day}"): AUTHORITY,
    ("GET", "/corrections/{order_id}"): PUBLIC_REGISTER + " (Art. 26: the bureau's orders are published)",
    ("GET", "/parameters/{code}"): PUBLIC_REGISTER,
    ("GET", "/scenarios/{scenario_id}"): PUBLIC_REGISTER + " (a scenario's terms and totals; its records are not)",
    ("DELETE", "/residents/me/consents/{scenario_id}"): "a resident's own consent, named by the scenario it is for "
                                                         "(the caller is the fence: /residents/me)",
    ("GET", "/events/{event_id}"): PUBLIC_REGISTER + " (a large event's neutrality is a public claim, Art. 24)",
    ("GET", "/events/{event_id}/statement"): PUBLIC_REGISTER + " (Art. 24)",
    ("GET", "/events/{event_id}/statement.pdf"): PUBLIC_REGISTER + " (Art. 24)",
    ("GET", "/factor-releases/{number}"): PUBLIC_REGISTER,
    ("GET", "/factor-releases/{number}/factors.csv"): PUBLIC_REGISTER,
    ("POST", "/factor-releases/{number}/publish"): AUTHORITY,
    ("POST", "/factor-releases/{number}/objections"): PUBLIC_REGISTER + " (objections during the notice)",
    ("POST", "/parameter-versions/{version_id}/objections"): PUBLIC_REGISTER + " (objections to a published value)",
    ("GET", "/instruments/{code}"): PUBLIC_REGISTER,
    ("GET", "/market/{code}/depth"): PUBLIC_REGISTER,
    ("GET", "/market/{code}/trades"): PUBLIC_REGISTER,
    ("GET", "/market/{code}/ohlcv"): PUBLIC_REGISTER,
    ("GET", "/serials/{serial}"): PUBLIC_REGISTER + " (a tonne's life from issuance to retirement)",
    ("GET", "/reports/receipt/{token}"): "the receipt token is the reporter's secret; whoever holds it may read",
    ("POST", "/listings/{listing_id}/pick"): "a counterparty's act: picking another's listing is what it is for",
    ("POST", "/auctions/{auction_id}/bids"): "a counterparty's act: bidding in another's auction is what it is for",
}

def _build(client: TestClient, people: Any, clock: FixedClock, registry: Registry) -> dict[str, Any]:
    """One object of each kind, made by the first participant (the demo owner) through the API."""
    owner = people["owner"]
    me = client.get("/auth/me", headers=owner).json()
    later = (clock.now() + timedelta(days=3)).isoformat()
    made: dict[str, Any] = {}

    def post(path: str, body: dict[str, Any], who: dict[str, str] = owner) -> Any:
        answer = client.post(path, headers=who, json=body)
        assert answer.status_code in (200, 201), (path, answer.text)
        return answer.json()

    made["document"] = upload(client, owner, b"%PDF-1.4 the owner's own accounting report")
    registered = client.get("/projects?mine=true", headers=owner).json()["items"][0]
    made["project"] = post("/projects", {
        "methodology_version_id": registered["methodology_version_id"], "title": "草稿项目 / a draft",
        "county_code": "330481", "industry_code": "1713", "owner_kind": "small", "crediting_start": "2025-01-01",
        "crediting_end": "2030-12-31", "legal_reduction_obligation": False,
        "asset_identifiers": ["3304810099999999"]})["id"]
    filing = post("/filings", {
        "project_id": registered["id"], "monitoring_start": "2025-07-01", "monitoring_end": "2025-09-30",
        "inputs": {"net_generation_mwh": "100"}, "report_sha256": made["document"],
        "report_preparer_participant_id": me["participant_id"]})
    verifier = client.get("/auth/me", headers=people["verifier"]).json()["participant_id"]
    made["filing"] = post(f"/filings/{filing['id']}/commission", {"verifier_participant_id": verifier})["id"]
    made["account"] = client.get("/accounts", headers=owner).json()[0]["id"]
    made["retirement"] = post("/retirements", {"quantity_t": 3, "beneficiary": "嘉兴某会议",
                                               "purpose": {"purpose": "voluntary"}})["id"]
    made["order"] = post("/orders", {"instrument": "JXCI-2025", "client_order_id": "m-o1", "side": "sell",
                                     "price_fen": 6500, "quantity_t": 5})["id"]
    made["listing"] = post("/listings", {"instrument": "JXCI-2025", "client_order_id": "m-l1", "price_fen": 6000,
                                         "quantity_t": 20, "min_pick_t": 1, "expires_at": later})["id"]
    buyer = client.get("/auth/me", headers=people["buyer"]).json()["participant_id"]
    made["proposal"] = post("/proposals", {
        "instrument": "JXCI-2025", "client_order_id": "m-p1", "counterparty_participant_id": buyer, "side": "sell",
        "price_fen": 6000, "quantity_t": 5, "expires_at": later})["id"]
    made["auction"] = post("/auctions", {"instrument": "JXCI-2025", "client_order_id": "m-a1", "quantity_t": 20,
                                         "reserve_price_fen": 5500, "end_at": later})["id"]
    definition = client.get(f"/methodology-versions/{registered['methodology_version_id']}").json()["definition"]
    proposal = post("/methodologies", {"title_zh": "业主提出的方法学", "title_en": "An owner's proposal",
                                       "field": "renewable_energy", "definition": definition})
    made["methodology"], made["methodology_version"] = proposal["methodology_id"], proposal["id"]
    batch = client.get("/disclosure/issuances").json()["items"][0]["batch_id"]
    made["correction"] = post(f"/batches/{batch}/corrections", {
        "finding": "监测数据缺页 / a page of monitoring data is missing", "deadline_days": 15}, people["bureau"])["id"]
    made["event"] = post("/events", {
        "name": "业主的活动 / the owner's event", "event_type": "conference", "venue": "海宁会议中心",
        "venue_county": "330481", "starts_on": "2026-11-01", "ends_on": "2026-11-02", "attendees": 50})["id"]
    made["scenario"] = make_scenario(client, owner, registered_project(registry, me["participant_id"], "matrix"),
                                     "JX-MATRIX", "metro")
    return made


def _states(registry: Registry, made: dict[str, Any]) -> dict[str, Any]:
    """What the second participant must not have changed."""
    with registry.uow() as uow:
        get = uow.session.get
        orders = {kind: (o.status, o.remaining_t) for kind in ("order", "listing", "proposal", "auction")
                  if (o := get(Order, made[kind])) is not None}
        return {
            "project": get(Project, made["project"]).status,  # type: ignore[union-attr]
            "filing": get(Filing, made["filing"]).status,  # type: ignore[union-attr]
            "retirement": get(Retirement, made["retirement"]).status,  # type: ignore[union-attr]
            "methodology": get(MethodologyVersion, made["methodology_version"]).status,  # type: ignore[union-attr]
            "methodologies": len(list(uow.session.scalars(select(Methodology.id)))),
            **orders,
        }


def _classify(document: dict[str, Any]) -> tuple[list[tuple[str, str, str]], list[str]]:
    """The routes the matrix calls (method, path, object kind), and the routes nobody has classified."""
    covered, unclassified = [], []
    for path, item in document["paths"].items():
        names = re.findall(r"\{(\w+)\}", path)
        if not names:
            continue
        segment = path.strip("/").split("/")[0]
        for method in item:
            route = (method.upper(), path)
            if route in NOT_OWNED:
                continue
            kinds = [OWNED_OBJECTS.get((segment, name)) for name in names]
            if None in kinds or len(kinds) != 1:
                unclassified.append(f"{method.upper()} {path}")
            else:
                covered.append((method.upper(), path, str(kinds[0])))
    return covered, unclassified


def test_every_route_with_a_path_parameter_is_classified(client: TestClient) -> None:
    covered, unclassified = _classify(client.app.openapi())  # type: ignore[attr-defined]
    assert not unclassified, ("routes that name an object but are neither in OWNED_OBJECTS nor in NOT_OWNED; "
                              f"say which: {unclassified}")
    served = {(m.upper(), p) for p, item in client.app.openapi()["paths"].items() for m in item}  # type: ignore[attr-defined]
    assert set(NOT_OWNED) <= served, f"stale entries: {set(NOT_OWNED) - served}"
    assert len(covered) >= 30


def test_a_second_participant_of_the_same_role_is_refused_every_owned_object(
        client: TestClient, registry: Registry, clock: FixedClock) -> None:
    load_demo(registry)
    people = demo_people(client, registry)
    made = _build(client, people, clock, registry)
    before = _states(registry, made)
    second = {"household": people.user_ids["household"],
              "second-verifier": make_user(registry, "second-verifier", ["verifier"])}
    world = World(client, clock, {name: user for name, user in second.items()},
                  {"household": {"owner", "trader", "public"}, "second-verifier": {"verifier", "public"}})
    document = client.app.openapi()  # type: ignore[attr-defined]
    spec = Spec(document, world)
    covered, _ = _classify(document)
    failures = []
    for method, path, kind in covered:
        operation = document["paths"][path][method.lower()]
        roles = set(operation["x-roles"])
        who = next((name for name, held in world.roles.items() if held & roles), "household")
        body, media_type = None, None
        if "requestBody" in operation:
            media_type, content = next(iter(operation["requestBody"]["content"].items()))
            body = spec.sample(content["schema"])
        query = {p["name"]: spec.sample(p["schema"], p["name"]) for p in operation.get("parameters", [])
                 if p["in"] == "query" and p.get("required")}
        request = Request(method, path, who, {re.findall(r"\{(\w+)\}", path)[0]: made[kind]}, query, {}, body,
                          media_type)
        status = request.send(world).status_code
        expected = 404 if world.roles[who] & roles else 403
        if status != expected:
            failures.append(f"{method} {path} on the owner's {kind} as {who}: {status}, expected {expected}")
    assert not failures, "\n".join(failures)
    assert _states(registry, made) == before
    # The first participant still sees and may act on each of them.
    owner = people["owner"]
    assert client.get(f"/projects/{made['project']}", headers=owner).status_code == 200
    assert client.get(f"/filings/{made['filing']}", headers=owner).status_code == 200
    assert client.get(f"/documents/{made['document']}/meta", headers=owner).status_code == 200
    assert client.get(f"/accounts/{made['account']}/holdings", headers=owner).status_code == 200
    assert client.delete(f"/orders/{made['order']}", headers=owner).status_code == 200
