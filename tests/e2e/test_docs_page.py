"""The API documentation page in a real browser: Swagger UI starts from this origin's files alone, under the
page's Content-Security-Policy (a refusal fails the test through the new_page fixture), and lists the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import expect

from tests.e2e.conftest import Portal


def test_swagger_ui_runs_from_this_origin_only(new_page: Callable[[], Any], portal: Portal) -> None:
    page = new_page()
    origin = urlsplit(portal.url).netloc
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto("/docs")
    # The operations are drawn from /openapi.json, with the roles each route declares (x-roles).
    expect(page.locator(".opblock-summary-path", has_text="/auth/login").first).to_be_visible()
    expect(page.locator(".information-container .title")).to_contain_text("Jiaxing")
    page.locator(".opblock-summary-path", has_text="/methodologies").first.click()
    expect(page.locator(".opblock-body").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    elsewhere = [url for url in requested if not url.startswith("data:") and urlsplit(url).netloc != origin]
    assert elsewhere == []
    assert any(url.endswith("/openapi.json") for url in requested)
