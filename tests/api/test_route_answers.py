"""Every route describes its answer in the OpenAPI document (a response model, or a file's media type), and the
registry's areas keep their layers: queries in `registry/repositories/`, never in a service or a route; routes
and answer builders never touch the database session and never commit.

Each slice of the areas lists its own modules below, so the lists can grow side by side."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest
from fastapi.routing import APIRoute

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
