"""Errors as answers: application/problem+json (RFC 9457) with a stable code, rule codes and field paths."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import psycopg
import redis
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from registry.errors import DomainError, Unavailable

PROBLEM_JSON = "application/problem+json"
# deadlock detected, lock not available, query cancelled (statement timeout), serialization failure
RETRYABLE_SQLSTATES = {"40P01", "55P03", "57014", "40001"}
log = logging.getLogger("carbonx.api")
# A constraint refused the write (409), the database cannot hold a value (422), the database was busy or away.
CONSTRAINT_ERRORS: tuple[type[Exception], ...] = (IntegrityError, psycopg.IntegrityError, sqlite3.IntegrityError)
VALUE_ERRORS: tuple[type[Exception], ...] = (DataError, psycopg.DataError, sqlite3.DataError)
BUSY_ERRORS: tuple[type[Exception], ...] = (OperationalError, psycopg.OperationalError, sqlite3.OperationalError)

TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


_TEXT = {"type": "string"}
# The shape of every error answer, as the OpenAPI document describes it (each route's `default` answer): written
# out here rather than as a pydantic model because FastAPI would file a model's schema under application/json,
# and an error is application/problem+json.
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "required": ["type", "title", "status", "code", "detail"],
    "properties": {
        "type": _TEXT,
        "title": _TEXT,
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "code": _TEXT,
        "detail": _TEXT,
        "detail_zh": _TEXT,
        "instance": _TEXT,
        "request_id": _TEXT,
        "rule_codes": {"type": "array", "items": _TEXT},
        "violations": {"type": "array", "items": {
            "type": "object", "required": ["code", "article", "field", "message_zh", "message_en"],
            "properties": {"code": _TEXT, "article": _TEXT, "field": {"type": ["string", "null"]},
                           "message_zh": _TEXT, "message_en": _TEXT}}},
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["field", "type", "message"],
            "properties": {"field": _TEXT, "type": {"type": ["string", "null"]},
                           "message": {"type": ["string", "null"]}, "input": {}}}},
    },
}
# Given to every router: a refusal or failure of any route is a problem document (this also stands in for
# FastAPI's own 422 answer, which describes a body this service never sends).
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    "default": {"description": "A refusal or failure: a problem document (RFC 9457).",
                "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}}},
}


def problem_document(status: int, code: str, detail: str, detail_zh: str = "", *,
                     violations: list[dict[str, Any]] | None = None,
                     errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The body of a problem; `violations` carry rule codes (JX-nn), `errors` carry field paths."""
    body: dict[str, Any] = {
        "type": f"/problems/{code}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "code": code,
        "detail": detail,
        "detail_zh": detail_zh or detail,
    }
    if violations:
        body["violations"] = violations
        body["rule_codes"] = sorted({v["code"] for v in violations})
    if errors:
        body["errors"] = errors
    return body


def retryable(exc: Exception) -> bool:
    """A deadlock, a lock or statement timeout, a serialization failure (or SQLite's busy file), wrapped by
    SQLAlchemy or raw from the driver: the database is there and rolled the transaction back; the same request
    will most likely pass. Any other operational error means the database is out of reach."""
    driver = _driver_error(exc)
    return getattr(driver, "sqlstate", None) in RETRYABLE_SQLSTATES or "database is locked" in str(driver)


def domain_problem(exc: DomainError) -> dict[str, Any]:
    """A refusal as a problem body (also one item of a batch's answer)."""
    return problem_document(exc.status, exc.code, exc.message_en, exc.message_zh,
                            violations=[v.as_dict() for v in exc.violations] or None)


def problem(
    status: int,
    code: str,
    detail: str,
    detail_zh: str = "",
    *,
    request: Request | None = None,
    violations: list[dict[str, Any]] | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """One problem document as the answer."""
    body = problem_document(status, code, detail, detail_zh, violations=violations, errors=errors)
    return problem_response(body, request, headers)


def problem_response(body: dict[str, Any], request: Request | None,
                     headers: dict[str, str] | None = None) -> JSONResponse:
    # What api.app.SecurityHeaders adds to every answer, here too: an unexpected error is answered outside it.
    headers = {"X-Content-Type-Options": "nosniff", **(headers or {})}
    if request is not None:
        if "authorization" in request.headers:
            headers["Cache-Control"] = "no-store"
        body["instance"] = request.url.path
        request_id = getattr(request.state, "request_id", None)
        if request_id:
            body["request_id"] = request_id
            # Also in the header: an unexpected error is answered outside the middleware that sets it.
            headers["X-Request-ID"] = request_id
    return JSONResponse(body, status_code=body["status"], media_type=PROBLEM_JSON, headers=headers)


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + str(part)
    return path


def _driver_error(exc: Exception) -> BaseException:
    """The driver's own error: SQLAlchemy keeps it as `orig`; a raw one is itself."""
    return exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc


def _json_safe(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every failure into a problem document."""

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        retry = {"Retry-After": str(exc.retry_after_s)} if isinstance(exc, Unavailable) else None
        if exc.status == 503 and retry is None:  # a routed Unavailable keeps its status, not its class
            retry = {"Retry-After": "1"}
        return problem_response(domain_problem(exc), request, retry)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "field": _field_path(err.get("loc", ())),
                "type": err.get("type"),
                "message": err.get("msg"),
                **({"input": _json_safe(err["input"])} if err.get("type") == "enum" and "input" in err else {}),
            }
            for err in exc.errors()
        ]
        return problem(
            422, "invalid_request", "The request is malformed or has invalid fields; see errors.",
            "请求格式错误或字段无效，详见 errors。", request=request, errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        limit = request.scope.get("carbonx.body_too_large")
        if limit is not None:
            return problem(413, "payload_too_large", f"The request body is over {limit} bytes.",
                           f"请求体超过 {limit} 字节。", request=request)
        code = {401: "unauthenticated", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
                413: "payload_too_large", 429: "rate_limited"}.get(exc.status_code, "http_error")
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "Error")
        return problem(exc.status_code, code, detail, request=request,
                       headers=getattr(exc, "headers", None))

    # Each database failure arrives in up to three shapes: wrapped by SQLAlchemy (its ORM and Core), or raw
    # from the driver where the unit of work writes on the connection itself (psycopg's pipelined writes,
    # registry/statements.py) or a caller uses sqlite3 directly. All three answer the same.

    async def _integrity(request: Request, exc: Exception) -> JSONResponse:
        # The service checks first and explains; this is the database's constraint catching a race.
        log.info("constraint refused a write on %s: %s", request.url.path, _driver_error(exc))
        return problem(409, "state_conflict", "A database constraint refused this write; nothing was saved.",
                       "数据库约束拒绝了本次写入，未保存任何内容。", request=request)

    async def _data(request: Request, exc: Exception) -> JSONResponse:
        # A value the database cannot store (a NUL character, an out-of-range number) that slipped past
        # the schema: the transaction was rolled back, so nothing is half-written.
        log.info("database refused a value on %s: %s", request.url.path, _driver_error(exc))
        return problem(422, "invalid_value", "A value in the request cannot be stored (for example a NUL "
                       "character or a number out of range).", "请求中有无法保存的值（如空字符或超出范围的数字）。",
                       request=request)

    async def _busy(request: Request, exc: Exception) -> JSONResponse:
        # Deadlock, lock or statement timeout, serialization failure: the transaction was rolled back and a
        # retry will most likely pass. Anything else operational means the database is unavailable.
        driver = _driver_error(exc)
        if retryable(exc):
            log.info("busy database on %s: %s", request.url.path, driver)
            return problem(409, "busy", "The registry was busy with a conflicting change; nothing was saved. "
                           "Retry.", "登记系统正在处理冲突的变更，未保存任何内容，请重试。", request=request,
                           headers={"Retry-After": "1"})
        log.error("database unavailable on %s: %s", request.url.path, driver)
        return problem(503, "database_unavailable", "The database is unavailable; try again later.",
                       "数据库暂不可用，请稍后再试。", request=request, headers={"Retry-After": "5"})

    for handler, classes in ((_integrity, CONSTRAINT_ERRORS), (_data, VALUE_ERRORS), (_busy, BUSY_ERRORS)):
        for error_class in classes:
            app.add_exception_handler(error_class, handler)

    @app.exception_handler(redis.RedisError)
    async def _redis_down(request: Request, exc: redis.RedisError) -> JSONResponse:
        log.error("Redis unavailable on %s: %s", request.url.path, exc)
        return problem(503, "cache_unavailable", "A required service (Redis) is unavailable; try again later.",
                       "依赖的服务（Redis）暂不可用，请稍后再试。", request=request, headers={"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "internal_error", "An unexpected error occurred; it has been logged.",
                       "发生意外错误，已记录。", request=request)
