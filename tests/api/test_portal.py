"""The web portal's serving: content types, caching, the Content-Security-Policy, containment in api/web/,
and the static guarantees the CSP relies on (no inline script, style or handler; nothing from the internet)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api import portal
from registry.context import Registry
from registry.services import participants
from tests.api.test_methodologies import grid_factor, people, submit  # noqa: F401 - fixtures
from tests.support import People, bearer, make_user, participant_id, user_id

WEB = portal.WEB_ROOT


@pytest.fixture(scope="module")
def bare() -> TestClient:
    """The portal's routes alone: serving needs no registry."""
    app = FastAPI()
    portal.install(app)
    return TestClient(app)


def web_files(suffix: str) -> list[Path]:
    return sorted(WEB.rglob(f"*{suffix}"))


@pytest.mark.parametrize(("path", "content_type"), [
    ("/portal/", "text/html; charset=utf-8"),
    ("/portal/index.html", "text/html; charset=utf-8"),
    ("/portal/app.js", "text/javascript; charset=utf-8"),
    ("/portal/lib.js", "text/javascript; charset=utf-8"),
    ("/portal/style.css", "text/css; charset=utf-8"),
])
def test_files_are_served_with_their_content_type_and_security_headers(bare: TestClient, path: str,
                                                                       content_type: str) -> None:
    answer = bare.get(path)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == content_type
    assert answer.headers["content-security-policy"] == portal.CONTENT_SECURITY_POLICY
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["cache-control"] == "no-cache"


def test_the_policy_allows_only_the_portals_own_origin() -> None:
    directives = dict(d.strip().split(" ", 1) for d in portal.CONTENT_SECURITY_POLICY.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["connect-src"] == "'self' ws: wss:"
    assert directives["img-src"] == "'self' data:"
    assert directives["object-src"] == "'none'"
    assert "script-src" not in directives and "style-src" not in directives  # both fall back to 'self'
    assert "unsafe-inline" not in portal.CONTENT_SECURITY_POLICY


def test_every_page_module_is_served(bare: TestClient) -> None:
    modules = web_files(".js")
    assert {"app.js", "lib.js"} <= {m.name for m in modules}
    for module in modules:
        answer = bare.get(f"/portal/{module.relative_to(WEB).as_posix()}")
        assert answer.status_code == 200, module
        assert answer.content == module.read_bytes()


def test_an_unchanged_file_is_revalidated_with_a_304(bare: TestClient) -> None:
    first = bare.get("/portal/app.js")
    etag = first.headers["etag"]
    again = bare.get("/portal/app.js", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    stale = bare.get("/portal/app.js", headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200


@pytest.mark.parametrize("path", [
    "/portal/../api/app.py",
    "/portal/..%2fportal.py",
    "/portal/%2e%2e/portal.py",
    "/portal/pages/../../portal.py",
    "/portal/.hidden.js",
    "/portal/missing.js",
    "/portal/pages",
    "/portal/README.md",
])
def test_nothing_outside_the_web_root_or_of_another_kind_is_served(bare: TestClient, path: str) -> None:
    answer = bare.get(path)
    assert answer.status_code == 404
    assert b"__future__" not in answer.content and b"private" not in answer.content


def test_resolve_refuses_escapes_even_through_a_symlink(tmp_path: Path) -> None:
    root = tmp_path / "web"
    root.mkdir()
    (root / "app.js").write_text("export {};")
    (tmp_path / "secret.js").write_text("secret")
    (root / "link.js").symlink_to(tmp_path / "secret.js")
    (root / "notes.txt").write_text("private")
    assert portal.resolve("app.js", root) == (root / "app.js").resolve()
    assert portal.resolve("", root) is None  # no index.html in this root
    assert portal.resolve("link.js", root) is None
    assert portal.resolve("notes.txt", root) is None
    assert portal.resolve("../secret.js", root) is None
    assert portal.resolve("a//app.js", root) is None


def test_the_app_redirects_to_the_portal_and_keeps_api_errors(client: TestClient) -> None:
    root = client.get("/", follow_redirects=False)
    assert root.status_code == 307
    assert root.headers["location"] == "/portal/"
    bare_prefix = client.get("/portal", follow_redirects=False)
    assert bare_prefix.headers["location"] == "/portal/"
    page = client.get("/portal/")
    assert page.status_code == 200
    assert "content-security-policy" in page.headers
    assert client.get("/health").headers.get("content-security-policy") is None
    assert "/portal/" not in client.get("/openapi.json").json()["paths"]


def test_index_loads_only_external_module_files_of_the_portal() -> None:
    html = (WEB / "index.html").read_text()
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    assert scripts, "index.html loads the app"
    for attrs, body in scripts:
        assert 'type="module"' in attrs and "src=" in attrs
        assert body.strip() == ""  # an inline script would be refused by the CSP
    assert "<style" not in html
    assert not re.search(r"\son[a-z]+\s*=", html)  # no inline event handler attributes
    assert not re.search(r"\sstyle\s*=", html)


@pytest.mark.parametrize("suffix", [".html", ".js", ".css"])
def test_no_asset_comes_from_the_internet(suffix: str) -> None:
    for path in web_files(suffix):
        text = path.read_text()
        # Links to other sites are fine in text; loading from them is not (imports, url(), src/href).
        assert not re.search(r"""(import\s*\(?\s*['"]https?:|url\(\s*['"]?https?:|(src|href)\s*=\s*['"]https?:|"""
                             r"""@import\s+['"]?https?:)""", text), path
        assert "fonts.googleapis" not in text and "cdn" not in text.lower(), path


def test_scripts_never_write_inline_styles_or_evaluate_strings() -> None:
    for path in web_files(".js"):
        text = path.read_text()
        assert "innerHTML" not in text, path  # every text goes through textContent / DOM nodes
        assert not re.search(r"\beval\s*\(|new Function\s*\(", text), path
        assert not re.search(r"setAttribute\(\s*['\"](style|on[a-z]+)['\"]", text), path


def test_an_owner_lists_the_active_verifier_organisations_to_commission(client: TestClient,
                                                                        registry: Registry) -> None:
    owner = bearer(client, make_user(registry, "mill", ["owner"]))
    make_user(registry, "audit_firm", ["verifier"])
    make_user(registry, "struck_off", ["verifier"])
    make_user(registry, "consultancy", ["trader"])
    bureau_id = make_user(registry, "bureau_user", ["bureau"])
    struck_off = participant_id(registry, "struck_off")
    with registry.uow() as uow:
        bureau = participants.load_principal(uow, bureau_id)
        assert bureau is not None
        participants.set_participant_status(uow, bureau, struck_off, "suspended",
                                            "licence withdrawn")
        uow.commit()
    answer = client.get("/reference/verifiers", headers=owner)
    assert answer.status_code == 200
    assert answer.json() == [{"participant_id": participant_id(registry, "audit_firm"), "name": "audit_firm org"}]
    verifier = bearer(client, user_id(registry, "audit_firm"))
    assert client.get("/reference/verifiers", headers=verifier).status_code == 403


@pytest.mark.usefixtures("grid_factor")
def test_a_methodology_version_names_the_review_steps_the_caller_may_take(client: TestClient,
                                                                         people: People) -> None:  # noqa: F811
    """The review queue offers exactly the buttons the flow allows; nobody else sees any."""
    version = submit(client, people["owner"])
    assert version["allowed_actions"] == []  # the proposer reviews nothing
    path = f"/methodology-versions/{version['id']}"
    assert client.get(path, headers=people["center"]).json()["allowed_actions"] == ["center_approve", "center_reject"]
    assert client.get(path, headers=people["bureau"]).json()["allowed_actions"] == []
    assert client.get(path, headers=people["expert"]).json()["allowed_actions"] == []
    listed = client.get("/methodologies", params={"status": "submitted"}, headers=people["center"]).json()
    assert [v["allowed_actions"] for v in listed["items"]] == [["center_approve", "center_reject"]]
    moved = client.post(f"{path}/review", headers=people["center"], json={"action": "center_approve", "comment": "ok"})
    assert moved.json()["allowed_actions"] == []  # the answer is the center's view of the next state
    assert client.get(path, headers=people["bureau"]).json()["allowed_actions"] == [
        "convene_experts", "bureau_approve", "bureau_reject"]
