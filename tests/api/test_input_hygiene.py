"""One rule for every text the API takes in: no NUL, no other control character (C0, DEL, C1), no lone
surrogate; prose may keep tab and line breaks. The first test walks every route's inputs (JSON bodies, query,
path, header, cookie and form values, down through nested models, lists and dict keys) and fails on any
string without the rule, so a new field is covered without a new test. The others send the characters to
the fields an outside review found storing them, on both backends."""

from __future__ import annotations

import types
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, timedelta
from enum import Enum
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import pytest
from fastapi import FastAPI, UploadFile
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIWebSocketRoute
from fastapi.testclient import TestClient
from pydantic import AwareDatetime, BaseModel, NaiveDatetime, TypeAdapter, ValidationError

from api.app import create_app
from api.routers import ROUTERS
from api.schemas import LongText, NoControl, OneLine, ShortText, TextRule
from api.settings import Settings
from registry.clock import FixedClock
from registry.context import Registry
from registry.demo import load_demo
from tests.support import People, bearer, demo_people, make_user

# Uploads whose file name and media type the route checks with the same rule (see api/routers/documents.py):
# a new upload route fails here until it does too.
UPLOADS_CHECKED = {("POST", "/documents")}


def _inputs(dependant: Dependant) -> Iterator[tuple[str, Any]]:
    for where in ("path", "query", "header", "cookie", "body"):
        for field in getattr(dependant, f"{where}_params"):
            yield f"{where}.{field.alias}", field
    for sub in dependant.dependencies:
        yield from _inputs(sub)


def _has_rule(metadata: Sequence[Any]) -> bool:
    return any(isinstance(item, TextRule) for item in metadata)


def _unguarded(tp: Any, guarded: bool, path: str, seen: set[type]) -> list[str]:
    """The paths of strings under annotation `tp` that can arrive without the text rule."""
    origin = get_origin(tp)
    if origin is Annotated:
        base, *metadata = get_args(tp)
        return _unguarded(base, guarded or _has_rule(metadata), path, seen)
    if origin in (Union, types.UnionType):
        return [p for arg in get_args(tp) for p in _unguarded(arg, guarded, path, seen)]
    if origin is Literal or tp is type(None):
        return []  # a closed set of values
    if origin in (dict, Mapping):
        key, value = get_args(tp)
        return _unguarded(key, False, f"{path}.<key>", seen) + _unguarded(value, False, f"{path}.<value>", seen)
    if origin in (list, tuple, set, frozenset, Sequence):
        return [p for arg in get_args(tp) if arg is not Ellipsis for p in _unguarded(arg, False, f"{path}[]", seen)]
    if tp is Any or tp is object:
        return [f"{path} (any value at all)"]
    if isinstance(tp, type):
        if issubclass(tp, Enum):
            return []
        if issubclass(tp, str):
            return [] if guarded else [path]
        if issubclass(tp, bytes):
            return [f"{path} (raw bytes)"]
        if issubclass(tp, BaseModel):
            if tp in seen:
                return []
            seen.add(tp)
            return [p for name, field in tp.model_fields.items()
                    for p in _unguarded(field.annotation, _has_rule(field.metadata), f"{path}.{name}", seen)]
        if issubclass(tp, UploadFile | int | float | bool | AwareDatetime | NaiveDatetime | date):
            return []  # parsed into a number, a date or a file: no text survives
    raise AssertionError(f"{path}: teach this test the annotation {tp!r}")


def _routes(app: FastAPI) -> Iterator[tuple[str, str, Dependant]]:
    routes = [route for router in ROUTERS for route in router.routes] + list(app.routes)
    for route in routes:
        if isinstance(route, APIRoute) and route.include_in_schema:
            for method in sorted(route.methods):
                yield method, route.path, route.dependant
        elif isinstance(route, APIWebSocketRoute):
            yield "WEBSOCKET", route.path, route.dependant


@pytest.fixture(scope="module")
def app() -> FastAPI:
    return create_app(Settings(database_url="sqlite://", jwt_secret="x" * 40))  # type: ignore[arg-type]


def test_every_text_input_of_every_route_carries_the_rule(app: FastAPI) -> None:
    missing: list[str] = []
    uploads: set[tuple[str, str]] = set()
    walked = 0
    for method, path, dependant in _routes(app):
        walked += 1
        for where, field in _inputs(dependant):
            info = field.field_info
            if get_origin(info.annotation) is None and info.annotation is UploadFile:
                uploads.add((method, path))
            missing += [f"{method} {path} {p}" for p in _unguarded(info.annotation, _has_rule(info.metadata), where,
                                                                    set())]
    assert walked > 80  # the walk saw the routers, not an empty list
    assert not missing, "strings without the text rule:\n" + "\n".join(missing)
    assert uploads == UPLOADS_CHECKED


def test_the_walk_finds_a_string_without_the_rule() -> None:
    """The walker itself: a plain string anywhere (nested, in a list, as a dict key) is found."""
    class Inner(BaseModel):
        ok: ShortText
        bare: str

    class Outer(BaseModel):
        inner: list[Inner]
        table: dict[str, LongText]
        maybe: Annotated[str | None, OneLine] = None

    assert _unguarded(Outer, False, "body", set()) == ["body.inner[].bare", "body.table.<key>"]


def test_the_openapi_document_shows_the_rule(app: FastAPI) -> None:
    schemas = app.openapi()["components"]["schemas"]
    assert schemas["ObjectionIn"]["properties"]["text"]["x-text"] == "multi-line"
    assert schemas["ObjectionIn"]["properties"]["objector_name"]["x-text"] == "single-line"


ALWAYS_REFUSED = ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x80", "\x85", "\x9f", "\ud800"]


@pytest.mark.parametrize("char", [*ALWAYS_REFUSED, "\t", "\n", "\r"])
def test_one_line_text_refuses_every_control_character(char: str) -> None:
    with pytest.raises(ValidationError) as refused:
        TypeAdapter(ShortText).validate_python(f"名{char}字")
    assert refused.value.errors()[0]["type"] in ("control_character", "string_unicode")
    with pytest.raises(ValueError, match="control character"):
        OneLine.check(f"x{char}")


@pytest.mark.parametrize("char", ALWAYS_REFUSED)
def test_prose_refuses_control_characters_but_layout(char: str) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(LongText).validate_python(f"第一行{char}第二行")
    with pytest.raises(ValueError, match="control character"):
        NoControl.check(f"x{char}")


@pytest.mark.parametrize("text", ["第一行\n第二行", "a\tb", "windows\r\nline", "中文 😀 ¥ · –", "\xa0nbsp\u2028", " "])
def test_prose_keeps_tabs_line_breaks_and_any_printable_character(text: str) -> None:
    assert TypeAdapter(LongText).validate_python(text) == text.strip()


def test_one_line_keeps_the_printable_neighbours_of_the_refused_ranges() -> None:
    for char in (" ", "~", "\xa0", "\xa1", "\ud7ff", "\ue000", "\U0001f600"):
        assert TypeAdapter(ShortText).validate_python(f"a{char}b") == f"a{char}b"


# ---- the fields the review found storing NUL (or answering 500), on SQLite and PostgreSQL ----


def _refused(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert body["code"] == "invalid_request"
    assert [(e["field"], e["type"]) for e in body["errors"]] == [(field, "control_character")]


@pytest.fixture
def people(client: TestClient, registry: Registry) -> People:
    load_demo(registry)
    return demo_people(client, registry)


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x85"])
def test_a_project_address_with_a_control_character_is_refused(client: TestClient, people: People,
                                                               char: str) -> None:
    version = client.get("/methodologies?field=renewable_energy").json()["items"][0]["id"]
    body = {"methodology_version_id": version, "title": "桐乡厂房光伏", "county_code": "330483",
            "address": f"桐乡市{char}梧桐街道", "industry_code": "1713", "owner_kind": "small",
            "crediting_start": "2023-01-01", "crediting_end": "2030-12-31", "legal_reduction_obligation": False,
            "asset_identifiers": ["METER-330483-0099"]}
    before = client.get("/projects?mine=true", headers=people["owner"]).json()["total"]
    _refused(client.post("/projects", headers=people["owner"], json=body), "body.address")
    assert client.get("/projects?mine=true", headers=people["owner"]).json()["total"] == before
    # The same address without it is taken.
    body["address"] = "桐乡市梧桐街道"
    assert client.post("/projects", headers=people["owner"], json=body).status_code == 201


def _version_in_notice(client: TestClient, people: People) -> int:
    """A methodology version in public notice, where anyone may object (Art. 10)."""
    definition = client.get("/methodology-versions/1").json()["definition"]
    made = client.post("/methodologies", headers=people["owner"], json={
        "title_zh": "测试方法学", "title_en": "A test methodology", "field": "renewable_energy",
        "definition": definition})
    assert made.status_code == 201, made.text
    vid = made.json()["id"]
    for who, action in (("center", "center_approve"), ("bureau", "convene_experts"),
                        ("expert", "expert_approve"), ("bureau", "bureau_approve")):
        done = client.post(f"/methodology-versions/{vid}/review", headers=people[who], json={"action": action})
        assert done.status_code == 200, done.text
    assert client.get(f"/methodology-versions/{vid}").json()["status"] == "public_notice"
    return int(vid)


@pytest.mark.parametrize(("field", "value"), [("text", "基准线因子\x00应更新。"),
                                              ("objector_contact", "zhang@example.org\x00"),
                                              ("objector_name", "张\x0b三")])
def test_an_anonymous_objection_with_a_control_character_is_refused(client: TestClient, people: People,
                                                                     field: str, value: str) -> None:
    vid = _version_in_notice(client, people)
    objection = {"objector_name": "张三", "objector_contact": "zhang@example.org",
                 "text": "基准线因子应采用最新发布值。"}
    _refused(client.post(f"/methodology-versions/{vid}/objections", json=objection | {field: value}),
             f"body.{field}")
    assert client.get("/objections?status=open", headers=people["bureau"]).json()["total"] == 0
    multi_line = objection | {"text": "第一条：因子过期。\n第二条：\t来源不明。"}
    assert client.post(f"/methodology-versions/{vid}/objections", json=multi_line).status_code == 201


def test_a_retirement_cancel_reason_with_nul_is_refused(client: TestClient, market: dict[str, Any],
                                                        clock: FixedClock) -> None:
    seller = market["people"]["seller"]
    asked = client.post("/retirements", headers=seller, json={
        "quantity_t": 5, "beneficiary": "某会议", "purpose": {"purpose": "voluntary"}})
    assert asked.status_code == 201, asked.text
    rid = asked.json()["id"]
    _refused(client.post(f"/retirements/{rid}/cancel", headers=seller, json={"reason": "不再\x00需要"}),
             "body.reason")
    assert client.get(f"/retirements/{rid}", headers=seller).json()["status"] == "requested"
    cancelled = client.post(f"/retirements/{rid}/cancel", headers=seller, json={"reason": "不再需要"})
    assert cancelled.status_code == 200, cancelled.text
    assert client.get(f"/retirements/{rid}", headers=seller).json()["status"] == "cancelled"
    clock.advance(timedelta(seconds=1))


def test_the_operators_admission_and_status_reasons_refuse_nul(client: TestClient, registry: Registry,
                                                               market: dict[str, Any]) -> None:
    holder = market["holders"][2]
    operator = market["operator"]
    path = f"/market/participants/{holder.participant_id}/admission"
    _refused(client.post(path, headers=operator, json={"trading_status": "suspended", "reason": "违规\x00交易"}),
             "body.reason")
    bureau = bearer(client, make_user(registry, "bureau-x", ["bureau"]))
    admin = bearer(client, make_user(registry, "admin-x", ["admin"]))
    status_path = f"/admin/participants/{holder.participant_id}/status"
    for who in (bureau, admin):
        _refused(client.post(status_path, headers=who, json={"status": "suspended", "reason": "违规\x00"}),
                 "body.reason")
    listed = {p["id"]: p for p in client.get("/market/participants", headers=operator).json()["items"]}
    assert listed[holder.participant_id]["trading_status"] == "admitted"
    assert listed[holder.participant_id]["status"] == "active"
    fine = client.post(path, headers=operator, json={"trading_status": "suspended", "reason": "违规交易\n待查"})
    assert fine.status_code == 200, fine.text


@pytest.mark.parametrize(("path", "field"), [("/projects?status=%00", "query.status"),
                                             ("/filings?status=draft%01", "query.status"),
                                             ("/exports/projects.csv?status=%7F", "query.status"),
                                             ("/exports/methodologies.csv?status=ok%C2%85", "query.status")])
def test_query_and_path_text_follow_the_same_rule(client: TestClient, path: str, field: str) -> None:
    _refused(client.get(path), field)


def test_an_idempotency_key_with_a_control_character_is_refused(client: TestClient, market: dict[str, Any]) -> None:
    response = client.post("/retirements", headers=market["people"]["seller"] | {"Idempotency-Key": "key\x01"},
                           json={"quantity_t": 1, "beneficiary": "b", "purpose": {"purpose": "voluntary"}})
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["header.Idempotency-Key"]


@pytest.mark.parametrize(("filename", "media_type", "field"), [
    ("报告\x00.pdf".encode(), b"application/pdf", "body.file.filename"),
    (b"report\x1b[31m.pdf", b"application/pdf", "body.file.filename"),
    (b"report.pdf", b"application/pdf\x01", "body.file.content_type"),
])
def test_an_upload_name_or_type_with_a_control_character_is_refused(
        client: TestClient, registry: Registry, filename: bytes, media_type: bytes, field: str) -> None:
    owner = bearer(client, make_user(registry, "uploader", ["owner"]))
    # Built by hand: an HTTP client would percent-encode the name, a browser or a script need not.
    body = (b"--BOUNDARY\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + filename + b"\"\r\n"
            b"Content-Type: " + media_type + b"\r\n\r\n%PDF-1.4\n% test\n\r\n--BOUNDARY--\r\n")
    headers = owner | {"Content-Type": "multipart/form-data; boundary=BOUNDARY"}
    _refused(client.post("/documents", headers=headers, content=body), field)
    clean = body.replace(filename, b"report.pdf").replace(media_type, b"application/pdf")
    assert client.post("/documents", headers=headers, content=clean).status_code == 201
