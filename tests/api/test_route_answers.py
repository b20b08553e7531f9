"""Every route describes its answer in the OpenAPI document (a response model, or a file's media type), and the
registry's areas keep their layers: queries in `registry/repositories/`, never in a service or a route; routes
and answer builders never touch the database session and never commit.

Each slice of the areas lists its own modules below, so the lists can grow side by side."""

from __future__ import annotations

import ast
import importlib
import re
import typing
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[2]

# The review-and-registration areas: methodologies, projects, filings (with reviews and issuance),
# parameters (with objections), documents, reference data and violation reports.
REGISTRY_FLOW_ROUTERS = ("methodologies", "projects", "filings", "parameters", "objections", "documents",
                         "reference", "reports")
REGISTRY_FLOW_ANSWERS = ("methodologies", "projects", "filings", "parameters", "objections", "documents",
                         "reference", "reports")
REGISTRY_FLOW_SERVICES = ("methodologies", "rule_sets", "projects", "external_registrations", "filings",
                          "reviews", "issuance", "parameters", "objections", "documents", "reports")

SESSION_READS = frozenset({"execute", "get", "scalar", "scalars"})


def _routes(module_name: str) -> list[APIRoute]:
    module = importlib.import_module(f"api.routers.{module_name}")
    return [r for r in module.router.routes if isinstance(r, APIRoute)]


def _declares_file(route: APIRoute) -> bool:
    """Whether the route's success answer names the media types of a file it sends."""
    return any(str(status).startswith("2") and spec.get("content") for status, spec in route.responses.items())


@pytest.mark.parametrize("module_name", REGISTRY_FLOW_ROUTERS)
def test_registry_flow_routes_declare_their_answers(module_name: str) -> None:
    routes = _routes(module_name)
    assert routes, f"api.routers.{module_name} has no routes"
    undescribed = [f"{sorted(r.methods)} {r.path}" for r in routes
                   if r.response_model is None and not _declares_file(r)]
    assert not undescribed, f"routes without a response model or a file media type: {undescribed}"


def _database_uses(path: Path, *, session_at_all: bool) -> list[str]:
    """Where a module builds a query or reads through the session (or, with `session_at_all`, touches the
    session or commits in any way), as `line: text`."""
    source = path.read_text(encoding="utf-8")
    label = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    found = []
    for node in ast.walk(ast.parse(source, filename=str(path))):
        what = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "select":
            what = "select("
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            target = node.func.value
            if (node.func.attr in SESSION_READS and isinstance(target, ast.Attribute)
                    and target.attr == "session"):
                what = f"session.{node.func.attr}("
            elif session_at_all and node.func.attr == "commit":
                what = "commit()"
        elif session_at_all and isinstance(node, ast.Attribute) and node.attr == "session":
            what = ".session"
        if what is not None:
            found.append(f"{label}:{node.lineno}: {what}")
    return found


@pytest.mark.parametrize("module_name", REGISTRY_FLOW_SERVICES)
def test_registry_flow_services_query_through_repositories(module_name: str) -> None:
    assert not _database_uses(ROOT / "registry" / "services" / f"{module_name}.py", session_at_all=False)


@pytest.mark.parametrize("path", [f"api/routers/{m}.py" for m in REGISTRY_FLOW_ROUTERS]
                         + [f"api/answers/{m}.py" for m in REGISTRY_FLOW_ANSWERS])
def test_registry_flow_routes_and_answers_never_touch_the_session(path: str) -> None:
    assert not _database_uses(ROOT / path, session_at_all=True)


def test_the_walk_finds_what_it_looks_for(tmp_path: Path) -> None:
    """The checks above would see a query, a session read, a session and a commit."""
    sample = tmp_path / "sample.py"
    sample.write_text("def f(uow):\n    uow.session.get(X, 1)\n    select(X)\n    uow.commit()\n", encoding="utf-8")
    assert len(_database_uses(sample, session_at_all=False)) == 2
    assert len(_database_uses(sample, session_at_all=True)) == 4


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
