"""HTTP hardening: odd bytes in paths are a 404 or a 422, never a 500; every answer says nosniff and an
authenticated one no-store; /docs runs on files from this origin only, under a strict Content-Security-Policy."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.openapi_docs import ASSET_TYPES
from api.routers import ROUTERS
from api.schemas import ALL_ROLES
from api.settings import Settings
from registry.context import Registry
from tests.support import bearer, make_user

# ---- odd bytes in paths ----

PORTAL_ODDITIES = ["%00", "index.html%00", "%00/../app.py", "..%2f", "..%2f..%2fapp.py", "%2e%2e/%2e%2e/app.py",
                   "%0a", "app.js%0a", "%ff", "%c0%ae%c0%ae/", "x%5c..%5capp.py", "a" * 300 + ".js",
                   "a/" * 500 + "b.js", "%E2%80%AE", "%1b[31m", ".env", "pages/%00.js"]


@pytest.fixture(scope="module")
def bare_client() -> TestClient:
    """The app on an empty in-memory database: enough for answers that never reach the registry."""
    app = create_app(Settings(database_url="sqlite://", jwt_secret="x" * 40))  # type: ignore[arg-type]
    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize("oddity", PORTAL_ODDITIES)
def test_odd_portal_paths_are_404(bare_client: TestClient, oddity: str,
                                  caplog: pytest.LogCaptureFixture) -> None:
    response = bare_client.get(f"/portal/{oddity}")
    assert response.status_code == 404, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["content-security-policy"].startswith(("default-src 'self'", "default-src 'none'"))
    assert "unhandled error" not in caplog.text


@pytest.mark.parametrize("path", ["/%0a", "/auth/me%0a", "/serials/JX%00", "/market/summary%09", "/docs%7f",
                                  "/documents/%00", "/portal/%C2%9b"])
def test_a_path_with_a_control_character_names_nothing(bare_client: TestClient, path: str) -> None:
    """Routing would let a trailing line break through ("/auth/me\n" is "/auth/me"), and a NUL reach the file
    system: such a path is a 404 before any route sees it."""
    response = bare_client.get(path, headers={"Authorization": "Bearer x"})
    assert response.status_code == 404, response.text
    assert response.json()["code"] == "not_found"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert bare_client.get(path.replace("%0a", "").replace("%09", "")).status_code != 500


def test_the_portal_still_serves_its_files(bare_client: TestClient) -> None:
    assert bare_client.get("/portal/").status_code == 200
    assert bare_client.get("/portal/app.js").headers["content-type"].startswith("text/javascript")


PATH_ODDITIES = ["%00", "%ff", "..%2f..%2f", "%0a", "a%00b", "9" * 40, "%E2%80%AE", "-1"]


def _concrete(path: str, value: str) -> str:
    return re.sub(r"\{[^}]+\}", value, path)


@pytest.mark.parametrize("oddity", PATH_ODDITIES)
def test_odd_bytes_in_any_route_path_are_never_a_500(client: TestClient, registry: Registry, oddity: str,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    """Every route with a path parameter, called by a user with every reviewing role and by an owner (between
    them every role, so access is granted and the parameter is really parsed; separation of duties keeps one
    organisation from holding both), with the odd value in each parameter."""
    staff = bearer(client, make_user(registry, "staff", [r for r in ALL_ROLES if r != "owner"]))
    owner = bearer(client, make_user(registry, "holder", ["owner", "trader"]))
    everyone = staff
    called = 0
    for router in ROUTERS:
        for route in router.routes:
            path = getattr(route, "path", "")
            if "{" not in path or not hasattr(route, "methods"):
                continue
            for method in sorted(route.methods):
                for caller in (staff, owner):
                    response = client.request(method, _concrete(path, oddity), headers=caller, json={})
                    called += 1
                    assert response.status_code < 500, (method, path, response.status_code, response.text)
                    assert response.status_code in (400, 401, 403, 404, 405, 409, 415, 422), (method, path)
    for path in ("/documents/%s", "/documents/%s/meta", "/docs/assets/%s", "/%s"):
        assert client.get(path % oddity, headers=everyone).status_code in (404, 422)
    assert called > 40
    assert "unhandled error" not in caplog.text


# ---- nosniff and no-store ----


def test_every_answer_says_nosniff_and_only_public_ones_may_be_cached(client: TestClient,
                                                                      registry: Registry) -> None:
    me = bearer(client, make_user(registry, "someone", ["trader"]))
    public = [client.get("/market/summary"), client.get("/methodologies"), client.get("/openapi.json"),
              client.get("/no/such/route"), client.get("/projects/0"), client.get("/portal/")]
    for response in public:
        assert response.headers["x-content-type-options"] == "nosniff", response.request.url
        assert response.headers.get("cache-control") != "no-store", response.request.url
    private = [client.get("/auth/me", headers=me), client.get("/cash", headers=me),
               client.get("/projects/0", headers=me), client.get("/admin/participants", headers=me),
               client.get("/auth/me", headers={"Authorization": "Bearer not-a-token"}),
               client.post("/orders", headers=me, json={"instrument": "?"}),
               client.get("/methodologies", headers=me)]
    for response in private:
        assert response.headers["x-content-type-options"] == "nosniff", response.request.url
        assert response.headers["cache-control"] == "no-store", response.request.url


def test_an_unexpected_error_and_a_refused_body_carry_the_headers_too(registry: Registry, backend: Any,
                                                                      settings: Settings) -> None:
    app = create_app(settings, registry=registry, kv=backend.kv)

    @app.get("/test-only/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    with TestClient(app, raise_server_exceptions=False) as client:
        failed = client.get("/test-only/boom", headers={"Authorization": "Bearer whatever"})
        assert failed.status_code == 500
        assert failed.headers["x-content-type-options"] == "nosniff"
        assert failed.headers["cache-control"] == "no-store"
        too_big = client.post("/projects", content=b"x" * (1024 * 1024 + 1),
                              headers={"Content-Type": "application/json", "Authorization": "Bearer whatever"})
        assert too_big.status_code == 413
        assert too_big.headers["x-content-type-options"] == "nosniff"
        assert too_big.headers["cache-control"] == "no-store"


# ---- /docs from this origin only ----


class _References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0
        self.inline_styles = 0
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]
        self.inline_styles += tag == "style" or "style" in found
        self._in_script = tag == "script" and "src" not in found

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts += 1

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False


def test_the_docs_page_loads_nothing_from_another_origin(bare_client: TestClient) -> None:
    response = bare_client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    policy = response.headers["content-security-policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["default-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert response.headers["x-content-type-options"] == "nosniff"
    page = _References()
    page.feed(response.text)
    assert page.inline_scripts == 0 and page.inline_styles == 0
    assert page.urls and all(url.startswith("/") and not url.startswith("//") for url in page.urls), page.urls
    assert "cdn" not in response.text.lower() and "http" not in response.text.lower()
    for url in page.urls:
        asset = bare_client.get(url)
        assert asset.status_code == 200, url
        assert asset.headers["x-content-type-options"] == "nosniff"
        assert asset.headers["content-security-policy"] == policy
        expected = ("text/javascript" if url.endswith(".js") else "text/css" if url.endswith(".css")
                    else "image/png")
        assert asset.headers["content-type"].startswith(expected), url
        assert len(asset.content) > 0
        assert bare_client.get(url, headers={"If-None-Match": asset.headers["etag"]}).status_code == 304
    assert {url.rsplit("/", 1)[1] for url in page.urls} >= set(ASSET_TYPES)


def test_the_docs_start_script_reads_this_apps_openapi_document(bare_client: TestClient) -> None:
    script = bare_client.get("/docs/start.js").text
    assert '"url": "/openapi.json"' in script and '"validatorUrl": null' in script
    assert bare_client.get("/openapi.json").json()["info"]["title"].startswith("Jiaxing")


@pytest.mark.parametrize("path", ["/redoc", "/docs/oauth2-redirect", "/docs/assets/redoc.standalone.js",
                                  "/docs/assets/..%2f__init__.py", "/docs/assets/%00"])
def test_nothing_else_of_the_docs_is_served(bare_client: TestClient, path: str) -> None:
    assert bare_client.get(path).status_code == 404


def test_the_app_has_no_cdn_page_left(bare_client: TestClient) -> None:
    app: FastAPI = bare_client.app  # type: ignore[assignment]
    assert app.docs_url is None and app.redoc_url is None
