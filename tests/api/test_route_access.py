"""Deny by default: EVERY route is called by EVERY role and anonymously, and the answer is checked
against the table below. A new route, or a changed permission, fails here until the table says so."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from api.app import route_access
from api.routers import ROUTERS
from registry.context import Registry
from tests.support import bearer, make_user

ROLES = ["admin", "owner", "verifier", "center", "expert", "bureau", "operator", "trader", "resident"]
NON_ADMIN = sorted(set(ROLES) - {"admin", "resident"})
EVERYONE = sorted(ROLES)
PUBLIC = ["public"]

ROUTE_ROLES: dict[tuple[str, str], list[str]] = {
    ("POST", "/auth/login"): PUBLIC,
    ("POST", "/auth/logout"): EVERYONE,
    ("GET", "/auth/me"): EVERYONE,
    ("POST", "/methodologies"): NON_ADMIN,
    ("POST", "/methodologies/{methodology_id}/versions"): NON_ADMIN,
    ("GET", "/methodologies"): PUBLIC,
    ("GET", "/methodologies/{methodology_id}"): PUBLIC,
    ("GET", "/methodology-versions/{version_id}"): PUBLIC,
    ("POST", "/methodology-versions/{version_id}/review"): ["bureau", "center", "expert"],
    ("GET", "/methodology-versions/{version_id}/history"): PUBLIC,
    ("POST", "/methodology-versions/{version_id}/objections"): PUBLIC,
    ("POST", "/methodology-versions/{version_id}/calculate"): PUBLIC,
    ("GET", "/parameters"): PUBLIC,
    ("GET", "/parameters/{code}"): PUBLIC,
    ("POST", "/parameters"): ["bureau"],
    ("POST", "/parameters/{code}/versions"): ["bureau"],
    ("POST", "/parameter-versions/{version_id}/publish"): ["bureau"],
    ("POST", "/parameter-versions/{version_id}/objections"): PUBLIC,
    ("GET", "/factor-releases"): PUBLIC,
    ("GET", "/factor-releases/{number}"): PUBLIC,
    ("GET", "/factor-releases/{number}/factors.csv"): PUBLIC,
    ("GET", "/emission-factors"): PUBLIC,
    ("GET", "/emission-factors/selection"): PUBLIC,
    ("POST", "/factor-releases"): ["bureau"],
    ("POST", "/factor-releases/{number}/publish"): ["bureau"],
    ("POST", "/factor-releases/{number}/objections"): PUBLIC,
    ("GET", "/objections"): ["bureau"],
    ("POST", "/objections/{objection_id}/ruling"): ["bureau"],
    ("POST", "/projects"): ["owner"],
    ("GET", "/projects/{project_id}/eligibility"): ["owner"],
    ("POST", "/projects/{project_id}/submit"): ["owner"],
    ("GET", "/projects"): PUBLIC,
    ("GET", "/projects/{project_id}"): PUBLIC,
    ("POST", "/documents"): NON_ADMIN,
    ("GET", "/documents/{sha256}/meta"): NON_ADMIN,
    ("GET", "/documents/{sha256}"): NON_ADMIN,
    ("GET", "/reference/counties"): PUBLIC,
    ("GET", "/reference/covered-industries"): PUBLIC,
    ("GET", "/reference/verifiers"): ["owner"],
    ("GET", "/rule-sets"): PUBLIC,
    ("GET", "/rule-sets/in-force"): PUBLIC,
    ("POST", "/rule-sets"): ["bureau"],
    ("POST", "/admin/participants"): ["admin"],
    ("GET", "/admin/participants"): ["admin", "bureau", "operator"],
    ("POST", "/admin/participants/{participant_id}/status"): ["admin", "bureau"],
    ("POST", "/admin/users"): ["admin"],
    ("POST", "/admin/users/{user_id}/unlock"): ["admin"],
    ("POST", "/external-registrations/import"): ["admin", "bureau"],
    ("GET", "/external-registrations"): ["admin", "bureau", "center"],
    ("GET", "/audit/verify"): ["admin", "bureau", "operator"],
    ("GET", "/audit/entries"): ["admin", "bureau"],
    ("POST", "/admin/clock/advance"): ["admin"],
    ("GET", "/health"): PUBLIC,
    ("GET", "/metrics"): ["admin", "operator"],
    ("POST", "/filings"): ["owner"],
    ("POST", "/filings/{filing_id}/commission"): ["owner"],
    ("POST", "/filings/{filing_id}/verification"): ["verifier"],
    ("POST", "/filings/{filing_id}/apply"): ["owner"],
    ("POST", "/filings/{filing_id}/review"): ["bureau", "center", "expert"],
    ("POST", "/filings/{filing_id}/issue"): ["bureau"],
    ("POST", "/filings/{filing_id}/objections"): PUBLIC,
    ("GET", "/filings"): PUBLIC,
    ("GET", "/filings/{filing_id}"): PUBLIC,
    ("GET", "/filings/{filing_id}/history"): PUBLIC,
    ("GET", "/accounts"): ["owner", "trader"],
    ("POST", "/accounts"): ["owner", "trader"],
    ("GET", "/accounts/{account_id}/holdings"): ["owner", "trader"],
    ("POST", "/transfers"): ["owner", "trader"],
    ("POST", "/batches/{batch_id}/revocations"): ["bureau"],
    ("POST", "/batches/{batch_id}/corrections"): ["bureau"],
    ("POST", "/corrections/{order_id}/response"): ["owner"],
    ("POST", "/corrections/{order_id}/decision"): ["bureau"],
    ("GET", "/corrections"): PUBLIC,
    ("GET", "/corrections/{order_id}"): PUBLIC,
    ("GET", "/ledger/check"): ["admin", "bureau", "operator"],
    ("POST", "/retirements"): ["owner", "trader"],
    ("POST", "/retirements/{retirement_id}/execute"): ["operator"],
    ("POST", "/retirements/{retirement_id}/cancel"): ["operator", "owner", "trader"],
    ("GET", "/retirements"): PUBLIC,
    ("GET", "/retirements/{retirement_id}"): PUBLIC,
    ("GET", "/retirements/{retirement_id}/certificate"): PUBLIC,
    ("GET", "/retirements/{retirement_id}/certificate.pdf"): PUBLIC,
    ("POST", "/events"): ["owner", "trader"],
    ("GET", "/events"): PUBLIC,
    ("GET", "/events/{event_id}"): PUBLIC,
    ("POST", "/event-inventories/calculation"): PUBLIC,
    ("GET", "/event-inventories/distance"): PUBLIC,
    ("POST", "/events/{event_id}/inventory"): ["owner", "trader"],
    ("POST", "/events/{event_id}/offsets"): ["owner", "trader"],
    ("POST", "/events/{event_id}/external-offsets"): ["owner", "trader"],
    ("POST", "/events/{event_id}/shortfall-retirement"): ["owner", "trader"],
    ("POST", "/events/{event_id}/assessment"): ["owner", "trader", "verifier"],
    ("GET", "/events/{event_id}/statement"): PUBLIC,
    ("GET", "/events/{event_id}/statement.pdf"): PUBLIC,
    ("GET", "/disclosure/event-neutrality"): PUBLIC,
    ("GET", "/disclosure/event-neutrality.csv"): PUBLIC,
    ("GET", "/disclosure/issuances"): PUBLIC,
    ("GET", "/disclosure/revocations"): PUBLIC,
    ("GET", "/serials/{serial}"): PUBLIC,
    ("POST", "/reports"): PUBLIC,
    ("GET", "/reports/receipt/{token}"): PUBLIC,
    ("GET", "/reports"): ["bureau"],
    ("POST", "/reports/{report_id}"): ["bureau"],
    ("POST", "/market/participants/{participant_id}/admission"): ["operator"],
    ("POST", "/cash/deposits"): ["operator"],
    ("POST", "/cash/withdrawals"): ["operator"],
    ("GET", "/cash"): ["owner", "trader"],
    ("POST", "/instruments"): ["operator"],
    ("POST", "/instruments/{code}/status"): ["operator"],
    ("GET", "/instruments"): PUBLIC,
    ("GET", "/instruments/{code}"): PUBLIC,
    ("POST", "/orders"): ["trader"],
    ("POST", "/orders/batch"): ["trader"],
    ("DELETE", "/orders/{order_id}"): ["trader"],
    ("PATCH", "/orders/{order_id}"): ["trader"],
    ("GET", "/orders"): ["trader"],
    ("GET", "/fills"): ["trader"],
    ("GET", "/market/{code}/depth"): PUBLIC,
    ("GET", "/market/{code}/trades"): PUBLIC,
    ("GET", "/market/{code}/ohlcv"): PUBLIC,
    ("GET", "/market/summary"): PUBLIC,
    ("GET", "/market/participants"): ["operator"],
    ("GET", "/market/counterparties"): ["trader"],
    ("GET", "/market/calendar"): PUBLIC,
    ("POST", "/market/closures"): ["operator"],
    ("DELETE", "/market/closures/{day}"): ["operator"],
    ("POST", "/listings"): ["trader"],
    ("GET", "/listings"): PUBLIC,
    ("POST", "/listings/{listing_id}/pick"): ["trader"],
    ("DELETE", "/listings/{listing_id}"): ["trader"],
    ("POST", "/proposals"): ["trader"],
    ("GET", "/proposals"): ["trader"],
    ("POST", "/proposals/{proposal_id}/accept"): ["trader"],
    ("POST", "/proposals/{proposal_id}/reject"): ["trader"],
    ("DELETE", "/proposals/{proposal_id}"): ["trader"],
    ("POST", "/auctions"): ["trader"],
    ("POST", "/auctions/{auction_id}/bids"): ["trader"],
    ("DELETE", "/auctions/{auction_id}"): ["trader"],
    ("GET", "/auctions"): PUBLIC,
    ("GET", "/exports/methodologies.csv"): PUBLIC,
    ("GET", "/exports/parameters.csv"): PUBLIC,
    ("GET", "/exports/projects.csv"): PUBLIC,
    ("GET", "/exports/filings.csv"): PUBLIC,
    ("GET", "/exports/issuances.csv"): PUBLIC,
    ("GET", "/exports/retirements.csv"): PUBLIC,
    ("GET", "/exports/revocations.csv"): PUBLIC,
    ("GET", "/exports/trades.csv"): PUBLIC,
    ("GET", "/exports/market-summary.csv"): PUBLIC,
    ("GET", "/exports/holdings.csv"): ["owner", "trader"],
    ("GET", "/exports/orders.csv"): ["trader"],
    ("GET", "/exports/fills.csv"): ["trader"],
    ("POST", "/scenarios"): ["owner"],
    ("GET", "/scenarios"): PUBLIC,
    ("GET", "/scenarios/{scenario_id}"): PUBLIC,
    ("POST", "/scenarios/{scenario_id}/records"): ["owner"],
    ("GET", "/scenarios/{scenario_id}/records"): ["owner"],
    ("GET", "/scenarios/{scenario_id}/outcomes"): ["owner"],
    ("POST", "/scenarios/{scenario_id}/filings"): ["owner"],
    ("GET", "/scenarios/{scenario_id}/filings"): ["owner"],
    ("POST", "/residents/me"): ["resident"],
    ("GET", "/residents/me"): ["resident"],
    ("POST", "/residents/me/consents"): ["resident"],
    ("DELETE", "/residents/me/consents/{scenario_id}"): ["resident"],
    ("GET", "/residents/me/records"): ["resident"],
    ("POST", "/residents/me/redemptions"): ["resident"],
    ("POST", "/residents/me/donations"): ["resident"],
    ("POST", "/residents/me/transfers"): ["resident"],
    ("GET", "/residents/me/export"): ["resident"],
    ("POST", "/residents/me/close"): ["resident"],
    ("GET", "/rewards"): PUBLIC,
    ("POST", "/rewards"): ["bureau", "owner"],
    ("GET", "/donation-causes"): PUBLIC,
    ("GET", "/points/check"): ["admin", "bureau"],
    ("POST", "/points/expiry"): ["bureau"],
}

PATH_VALUES = {"sha256": "0" * 64, "code": "NOSUCH-CODE"}


def _path(template: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES.get(m.group(1), "999999"), template)


def test_the_table_covers_every_route(client: TestClient) -> None:
    assert route_access(ROUTERS) == ROUTE_ROLES
    # Nothing reaches the app except through those routers.
    openapi = client.get("/openapi.json").json()
    served = {(m.upper(), p) for p, ops in openapi["paths"].items() for m in ops}
    assert served == set(ROUTE_ROLES)
    for path, ops in openapi["paths"].items():
        for method, op in ops.items():
            assert op["x-roles"] == ROUTE_ROLES[(method.upper(), path)]
            if op["x-roles"] == PUBLIC:
                assert {} in op["security"], f"{method} {path}: a public route must not demand a token"


def test_every_route_with_every_role_and_anonymous(client: TestClient, registry: Registry) -> None:
    users = {role: make_user(registry, f"walker_{role}", [role]) for role in ROLES}
    failures = []
    for (method, template), allowed in sorted(ROUTE_ROLES.items()):
        path = _path(template)
        for who in [None, *ROLES]:
            headers = bearer(client, users[who]) if who else {}
            response = client.request(method, path, headers=headers, json={})
            status = response.status_code
            if status >= 500:
                failures.append(f"{method} {path} as {who}: {status} {response.text[:200]}")
            elif allowed == PUBLIC:
                if status in (401, 403):
                    failures.append(f"{method} {path} as {who}: public route answered {status}")
            elif who is None:
                if status != 401:
                    failures.append(f"{method} {path} anonymous: expected 401, got {status}")
            elif who in allowed:
                if status in (401, 403):
                    failures.append(f"{method} {path} as {who}: allowed role got {status}")
            elif status != 403:
                failures.append(f"{method} {path} as {who}: expected 403, got {status}")
            if status >= 400:
                assert response.headers["content-type"].startswith("application/problem+json"), (method, path)
    assert not failures, "\n".join(failures)
