"""Every route describes its answer in the OpenAPI document (a pydantic response model, or the media type of
the file it sends), and the areas' services and routes leave the database to the repositories: no query in a
service, no session and no commit in a route (registry/repositories, api/answers)."""

from __future__ import annotations

import importlib
import re
import typing
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[2]

# The ledger, retirement, disclosure, revocation, correction, participant, sign-in, market-calendar, audit,
# export and metrics areas (issue 16, slices 2 and 4).
LEDGER_SIDE_ROUTERS = ["api.routers.ledger", "api.routers.retirements", "api.routers.corrections",
                       "api.routers.admin", "api.routers.auth", "api.routers.exports", "api.routers.metrics"]
LEDGER_SIDE_SERVICES = ["transfers", "cash", "ledger_check", "accounts", "retirements", "disclosure", "revocations",
                        "corrections", "participants", "sign_in", "market_calendar", "audit_log", "health"]
LEDGER_SIDE_ROUTE_FILES = [name.replace(".", "/") + ".py" for name in LEDGER_SIDE_ROUTERS] + ["api/exports.py"]

# A query or a session call in a service; the session or a commit in a route.
QUERY_IN_SERVICE = re.compile(r"\bselect\(|session\.(execute|get|scalar|scalars)\(|paginate\(")
DATABASE_IN_ROUTE = re.compile(r"\bselect\(|\.session\b|\.commit\(")


def _is_model(annotation: typing.Any) -> bool:
    """A pydantic model, or a list of them (a page of answers is a model itself)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return typing.get_origin(annotation) is list and all(_is_model(arg) for arg in typing.get_args(annotation))


def _file_media_types(route: APIRoute) -> set[str]:
    content = route.responses.get(200, {}).get("content", {})
    return {media_type for media_type in content if media_type != "application/json"}


@pytest.mark.parametrize("module", LEDGER_SIDE_ROUTERS)
def test_ledger_side_routes_declare_their_answers(module: str) -> None:
    router = importlib.import_module(module).router
    routes = [route for route in router.routes if isinstance(route, APIRoute)]
    assert routes
    for route in routes:
        described = (_is_model(route.response_model) or bool(_file_media_types(route))
                     or route.status_code == 204)
        assert described, f"{module}: {sorted(route.methods or ())} {route.path} declares no answer model or file type"


@pytest.mark.parametrize("service", LEDGER_SIDE_SERVICES)
def test_ledger_side_services_query_through_repositories(service: str) -> None:
    text = (ROOT / "registry" / "services" / f"{service}.py").read_text(encoding="utf-8")
    found = [line.strip() for line in text.splitlines() if QUERY_IN_SERVICE.search(line)]
    assert not found, f"registry/services/{service}.py queries the database itself: {found}"


@pytest.mark.parametrize("path", LEDGER_SIDE_ROUTE_FILES)
def test_ledger_side_routes_leave_the_session_to_services(path: str) -> None:
    text = (ROOT / path).read_text(encoding="utf-8")
    found = [line.strip() for line in text.splitlines() if DATABASE_IN_ROUTE.search(line)]
    assert not found, f"{path} touches the session or commits: {found}"


def test_exports_build_rows_with_answers_not_routers() -> None:
    """api/exports.py takes its row builders from api/answers (no arrow back up into the routers) — for the
    ledger side's builders; the other areas' follow with their own slice."""
    text = (ROOT / "api" / "exports.py").read_text(encoding="utf-8")
    assert "from api.routers.retirements" not in text
