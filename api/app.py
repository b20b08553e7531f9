"""The FastAPI application: wiring of settings, registry, key-value store, routers and error handling."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import openapi_docs, portal, problems
from api.deps import Access, Services
from api.exchange.cluster import ClusterCoordinator
from api.exchange.market_data import LocalBroker, RedisBroker
from api.exchange.market_hours import MarketHours
from api.exchange.ownership import Coordinator, LocalCoordinator
from api.exchange.routing import Exchange
from api.kv import KeyValueStore, RedisStore, make_store
from api.metrics import ObserveRequests
from api.routers import ROUTERS
from api.schemas import OneLine
from api.settings import Settings, get_settings
from api.tokens import with_signing_key
from registry.clock import Clock, SystemClock
from registry.context import Registry
from registry.database import durability_problem, make_engine, make_session_factory
from registry.database_roles import UnsafeDatabase, refuse_privileged_role
from registry.documents import DocumentStore

JSON_BODY_LIMIT = 1024 * 1024
BODY_TOO_LARGE = "carbonx.body_too_large"


class BodySizeLimit:
    """Refuse request bodies over the limit (JSON 1 MiB; uploads the document limit plus form overhead)
    before they are read into memory."""

    def __init__(self, app: ASGIApp, upload_limit: int) -> None:
        self.app = app
        self.upload_limit = upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        limit = self.upload_limit + 64 * 1024 if content_type.startswith("multipart/") else JSON_BODY_LIMIT
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(scope, send, limit)
            return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # FastAPI turns any failure while reading the body into a 400; the mark on the scope lets
                    # the error handler answer what really happened.
                    scope[BODY_TOO_LARGE] = limit
                    raise _BodyTooLarge()
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _BodyTooLarge:
            await _too_large(scope, send, limit)


class _BodyTooLarge(Exception):
    pass


async def _too_large(scope: Scope, send: Send, limit: int) -> None:
    await _send_problem(scope, send, 413, "payload_too_large", f"The request body is over {limit} bytes.")


async def _send_problem(scope: Scope, send: Send, status: int, code: str, detail: str,
                        headers: dict[bytes, bytes] | None = None) -> None:
    """A problem answered by a middleware itself, before any route or handler."""
    problem = {"type": f"/problems/{code}", "title": problems.TITLES.get(status, "Error"), "status": status,
               "code": code, "detail": detail, "request_id": scope.get("state", {}).get("request_id")}
    body = json.dumps({k: v for k, v in problem.items() if v is not None}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/problem+json"),
                            (b"content-length", str(len(body)).encode()), *(headers or {}).items()]})
    await send({"type": "http.response.body", "body": body})


class HttpHardening:
    """What every request and answer goes through at the edge.

    A path with a control character (after percent-decoding: `/portal/%00`) names nothing here: 404 before any
    route sees it (the routes' patterns would let a trailing line break through, and a NUL reach the file
    system). Every answer says `X-Content-Type-Options: nosniff` (a browser never guesses a type other than the
    one given, so a JSON answer or an uploaded document is never run as a script or page), and the answer to any
    request that carried credentials says `Cache-Control: no-store` (no browser or proxy keeps a copy of what
    only that caller may see). Answers made outside the middleware stack (an unexpected error) get the same
    headers from api.problems."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if not OneLine.allows(scope["path"]):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 4404})
            else:
                await _send_problem(scope, send, 404, "not_found",
                                    "No resource has a control character in its path.",
                                    {b"x-content-type-options": b"nosniff",
                                     b"content-security-policy": b"default-src 'none'"})
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        credentials = any(name == b"authorization" for name, _ in scope.get("headers") or [])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                if credentials:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _find_access(dependant: Any) -> list[Access]:
    found: list[Access] = []
    for dep in dependant.dependencies:
        if isinstance(dep.call, Access):
            found.append(dep.call)
        found.extend(_find_access(dep))
    return found


def _api_routes(routers: list[APIRouter]) -> list[APIRoute]:
    # The routers' own route lists: FastAPI keeps included routers as nested objects, so walking
    # app.routes would not see them.
    return [route for router in routers for route in router.routes if isinstance(route, APIRoute)]


def declare_access(routers: list[APIRouter]) -> None:
    """Deny by default: every route must name who may call it; the roles go into the OpenAPI document."""
    for route in _api_routes(routers):
        rules = _find_access(route.dependant)
        if len(rules) != 1:
            raise RuntimeError(f"route {route.methods} {route.path} must declare exactly one Access rule")
        roles = rules[0].describe()
        if "x-roles" not in (route.openapi_extra or {}):
            extra: dict[str, Any] = {"x-roles": roles}
            if roles == ["public"]:
                extra["security"] = [{}, {"HTTPBearer": []}]  # a token is optional on public routes
            route.openapi_extra = {**(route.openapi_extra or {}), **extra}
            route.description = (route.description or "") + f"\n\nWho may call: {', '.join(roles)}."


def route_access(routers: list[APIRouter]) -> dict[tuple[str, str], list[str]]:
    """(method, path) → roles, for every route: what the deny-by-default test walks."""
    table: dict[tuple[str, str], list[str]] = {}
    for route in _api_routes(routers):
        for method in route.methods or ():
            table[(method, route.path)] = _find_access(route.dependant)[0].describe()
    return table


def build_registry(settings: Settings, clock: Clock | None = None) -> Registry:
    """The registry over the configured database, refusing a PostgreSQL role that could undo the ledger's
    append-only guards (see registry/database_roles.py) and a server that acknowledges commits before they
    are durable."""
    engine = make_engine(settings.database_url)
    try:
        if not settings.allow_privileged_database_role:
            refuse_privileged_role(engine)
        problem = None if settings.allow_asynchronous_commit else durability_problem(engine)
        if problem is not None:
            raise UnsafeDatabase(
                f"The service refuses to serve: {problem} on PostgreSQL, so an acknowledged trade could be lost "
                "in a crash. Turn it on, or set CARBONX_ALLOW_ASYNCHRONOUS_COMMIT=true for a throw-away run.")
    except UnsafeDatabase:
        engine.dispose()
        raise
    return Registry(
        engine=engine,
        session_factory=make_session_factory(engine),
        clock=clock or SystemClock(),
        documents=DocumentStore(settings.data_dir / "documents"),
    )


def make_coordinator(registry: Registry, kv: KeyValueStore, owns_books: bool = True) -> Coordinator:
    """Several processes share books only with PostgreSQL (advisory locks) and Redis (routing)."""
    if registry.engine.dialect.name == "postgresql" and isinstance(kv, RedisStore):
        url = registry.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        return ClusterCoordinator(url, kv.url, owns_books)
    if not owns_books:
        raise RuntimeError("CARBONX_OWNS_BOOKS=false needs PostgreSQL and Redis: with neither, nothing could "
                           "own the order books.")
    return LocalCoordinator()


def make_exchange(settings: Settings, registry: Registry, kv: KeyValueStore) -> Exchange:
    """The exchange of this process: its books (if it may own them), market data and the way to the others."""
    broker = RedisBroker(kv.url) if isinstance(kv, RedisStore) else LocalBroker()
    hours = MarketHours.parse(settings.market_hours, settings.market_always_open, settings.market_opening_call)
    return Exchange(registry, settings.exchange_fee_bp, make_coordinator(registry, kv, settings.owns_books), broker,
                    settings.resale_lock, hours, books=frozenset(filter(None, settings.books.split(","))) or None,
                    max_horizon_days=settings.max_horizon_days)


def create_app(
    settings: Settings | None = None,
    *,
    registry: Registry | None = None,
    kv: KeyValueStore | None = None,
) -> FastAPI:
    """The API application; tests pass their own registry (with a fixed clock) and store."""
    settings = settings or get_settings()
    app = FastAPI(
        title="Jiaxing carbon-inclusive registry and exchange · 嘉兴碳普惠登记与交易",
        version="0.1.0",
        description="Methodologies, projects and reductions under the Jiaxing carbon-inclusive measures "
        "(嘉碳普惠办〔2023〕3号). Errors are application/problem+json; rule refusals name their article "
        "(JX-nn).",
        # FastAPI's own pages load their scripts from a CDN: /docs is served from an installed package instead
        # (api/openapi_docs.py), and ReDoc is off.
        docs_url=None,
        redoc_url=None,
    )
    registry = registry or build_registry(settings)
    settings = with_signing_key(settings, registry.engine.dialect.name)
    kv = kv or make_store(settings.redis_url)
    exchange = make_exchange(settings, registry, kv)

    @asynccontextmanager
    async def lifespan(started: FastAPI) -> AsyncIterator[None]:
        yield
        started.state.services.exchange.stop()

    app.router.lifespan_context = lifespan
    app.state.services = Services(
        registry=registry,
        settings=settings,
        kv=kv,
        exchange=exchange,
    )
    problems.install(app)

    declare_access(ROUTERS)
    for router in ROUTERS:
        app.include_router(router, responses=problems.PROBLEM_RESPONSES)
    portal.install(app)
    openapi_docs.install(app)
    app.add_middleware(BodySizeLimit, upload_limit=settings.max_document_bytes)
    app.add_middleware(HttpHardening)
    app.add_middleware(ObserveRequests)  # added last, so outermost: every answer has a request id and is counted
    return app
