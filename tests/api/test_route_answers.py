"""Every route describes its answer in the OpenAPI document (a response model, a file's media type, or 204 No
Content), and the layers hold: queries in `registry/repositories/`, never in a service; routes and answer
builders never touch the database session and never commit (the service's use case commits).

One walk each, over the whole app and over every module of api/routers/, api/answers/ and registry/services/:
a new route or module is checked without being listed. What a service may still query itself is listed in
SERVICE_QUERIES with the reason."""

from __future__ import annotations

import ast
import typing
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.routing import BaseRoute

from api.app import create_app
from api.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SESSION_READS = frozenset({"execute", "get", "scalar", "scalars"})
QUERY_BUILDERS = frozenset({"select", "text"})

# The service functions that still build a query or read through the session, and why ("<module>" is the
# module's own level: a FixedStatement built once at import).
SERVICE_QUERIES: dict[str, str] = {
    # A PostgreSQL advisory lock is no query of a table: it serialises two requests under one Idempotency-Key.
    "idempotency.replay": "the Idempotency-Key's advisory lock and the kept answer's row, locked",
    # The writer's fixed statements (registry/statements.py): built once, run per command with only the
    # parameters changing; they belong to the write path they serve, not to a repository of ORM queries.
    "instruments.<module>": "the writer's fixed statements of an instrument's batches",
    "trading.<module>": "the writer's fixed statement of client order ids",
    # The writer's hot path, tuned statement by statement (python -m api.writer_bench counts them): reads that
    # go through the transaction's caches (uow.cache) first. Hold planning is being changed beside this list;
    # its reads move to registry/repositories/trading.py after that lands, measured with the bench.
    "trading.existing_order": "a client order id's earlier order, cached per transaction",
    "trading.preload": "a batch of commands' facts in a few queries, into the transaction's caches",
    "trading.plan_order": "the trader's participant row, read with the plan (hold planning)",
    "trading.barred": "the participants of a batch, read FOR SHARE",
    "settlement.*": "rebuilding a book and quarantining rows read the raw columns the engine needs",
    "ledger_accounts.*": "the registry's own accounts and a participant's, found by code or opened on first use",
    "balances.*": "balance rows in lock order, through the transaction's caches",
    "serial_blocks.*": "serial blocks in lock order, through the transaction's caches",
    "holdings.*": "an account's live serial blocks and balances, read fresh for an answer",
}


def _is_model(annotation: typing.Any) -> bool:
    """A pydantic model, or a list of them (a page of answers is a model itself)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return typing.get_origin(annotation) is list and all(_is_model(arg) for arg in typing.get_args(annotation))


def _file_media_types(route: APIRoute) -> set[str]:
    """The media types of a file the route's success answer sends (declared in `responses=`)."""
    return {media_type for status, spec in route.responses.items() if str(status).startswith("2")
            for media_type in spec.get("content", {}) if media_type != "application/json"}


@pytest.fixture(scope="module")
def app() -> FastAPI:
    return create_app(Settings(database_url="sqlite://", jwt_secret="x" * 40))


def _api_routes(routes: Iterable[BaseRoute]) -> Iterator[APIRoute]:
    """The app's API routes, through the routers it includes (FastAPI keeps an included router as one entry
    that names it: `original_router`)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _api_routes(included.routes)
        elif isinstance(route, APIRoute):
            yield route


def test_every_route_declares_its_answer(app: FastAPI) -> None:
    """The whole app, as it is served: every API route (the portal's pages and the docs' assets are not in the
    OpenAPI document and answer files of their own)."""
    routes = [r for r in _api_routes(app.routes) if r.include_in_schema]
    operations = sum(len(operations) for operations in app.openapi()["paths"].values())
    assert len(routes) == operations > 100, "the walk missed some of the OpenAPI document's operations"
    undescribed = [f"{sorted(r.methods or ())} {r.path}" for r in routes
                   if not (_is_model(r.response_model) or _file_media_types(r) or r.status_code == 204)]
    assert not undescribed, f"routes without a response model, a file media type or 204: {undescribed}"


def _database_uses(path: Path, *, session_at_all: bool) -> list[str]:
    """Where a module builds a query or reads through the session (or, with `session_at_all`, touches the
    session or commits in any way), as `function: line: what` (`<module>` outside any function)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []

    def visit(node: ast.AST, function: str) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and function == "<module>":
            function = node.name
        what = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in QUERY_BUILDERS:
            what = f"{node.func.id}("
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            target = node.func.value
            if node.func.attr in SESSION_READS and isinstance(target, ast.Attribute) and target.attr == "session":
                what = f"session.{node.func.attr}("
            elif session_at_all and node.func.attr == "commit":
                what = "commit()"
        elif session_at_all and isinstance(node, ast.Attribute) and node.attr == "session":
            what = ".session"
        if what is not None:
            found.append(f"{function}: {getattr(node, 'lineno', 0)}: {what}")
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(tree, "<module>")
    return found


def _modules(folder: str) -> list[Path]:
    return sorted(p for p in (ROOT / folder).glob("*.py") if p.name != "__init__.py")


def test_routes_and_answers_never_touch_the_session() -> None:
    found = [f"{path.relative_to(ROOT)}: {use}" for folder in ("api/routers", "api/answers")
             for path in _modules(folder) for use in _database_uses(path, session_at_all=True)]
    assert not found, f"the session or a commit in a route or an answer: {found}"


def _allowed(module: str, use: str) -> bool:
    function = use.split(":", 1)[0]
    return f"{module}.{function}" in SERVICE_QUERIES or f"{module}.*" in SERVICE_QUERIES


def test_services_query_through_repositories() -> None:
    found = [f"registry/services/{path.name}: {use}" for path in _modules("registry/services")
             for use in _database_uses(path, session_at_all=False) if not _allowed(path.stem, use)]
    assert not found, f"a service builds a query itself (move it to registry/repositories/): {found}"


def test_the_allowances_are_still_needed() -> None:
    """An allowance whose query has moved to a repository goes from the list too."""
    used = {f"{path.stem}.{use.split(':', 1)[0]}" for path in _modules("registry/services")
            for use in _database_uses(path, session_at_all=False)}
    modules_used = {name.split(".", 1)[0] for name in used}
    stale = [name for name in SERVICE_QUERIES
             if (name[:-2] not in modules_used if name.endswith(".*") else name not in used)]
    assert not stale, f"allowed but no longer querying: {stale}"


def test_the_walk_finds_what_it_looks_for(tmp_path: Path) -> None:
    """The checks above would see a query, a session read, a session and a commit, and name the function."""
    sample = tmp_path / "sample.py"
    sample.write_text("def f(uow):\n    uow.session.get(X, 1)\n    select(X)\n    uow.commit()\n", encoding="utf-8")
    assert len(_database_uses(sample, session_at_all=False)) == 2
    assert len(_database_uses(sample, session_at_all=True)) == 4
    assert all(use.startswith("f: ") for use in _database_uses(sample, session_at_all=True))


def test_exports_build_rows_with_answers_not_routers() -> None:
    """api/exports.py takes its row builders from api/answers: no arrow back up into the routers."""
    tree = ast.parse((ROOT / "api" / "exports.py").read_text(encoding="utf-8"))
    imported = [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module]
    assert not [m for m in imported if m.startswith("api.routers")]
