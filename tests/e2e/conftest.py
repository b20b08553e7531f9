"""End-to-end wiring: a live server with the demo data, Debian's Chromium driven by Playwright, and helpers to
log in as a demo user and to save screenshots.

Chromium is the distribution's package (`make test` installs it as root); no browser is ever downloaded.
Without it, or without the playwright package, these tests skip, unless CARBONX_REQUIRE_SERVICES=1 (CI),
where that is a failure. Each test module gets its own server and database, so a module may move the
clock without disturbing another.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.kv import MemoryStore
from api.settings import Settings
from registry.clock import FixedClock
from registry.context import Registry
from registry.database import make_engine, make_session_factory
from registry.demo import load_demo
from registry.documents import DocumentStore
from tests.conftest import REQUIRE, TEST_NOW
from tests.support import free_port, served

CHROMIUM = Path(os.environ.get("CARBONX_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
# Timeouts are generous: other test runs share this machine's two cores.
TIMEOUT_MS = 30_000


def _missing(reason: str) -> None:
    if REQUIRE:
        pytest.fail(f"CARBONX_REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@dataclass
class Portal:
    """The live server of one test module: its address, its registry and its (fixed, movable) clock."""

    url: str
    registry: Registry
    clock: FixedClock
    settings: Settings

    def api(self, username: str | None = None) -> httpx.Client:
        """An HTTP client of the API, logged in as a demo user when named (for set-up and checks)."""
        headers = {}
        if username:
            answer = httpx.post(f"{self.url}/auth/login", timeout=60,
                                json={"username": username, "password": f"{username}-demo-pass"})
            assert answer.status_code == 200, answer.text
            headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
        return httpx.Client(base_url=self.url, timeout=60, headers=headers)


@pytest.fixture(scope="module")
def portal(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    """The app on a free port with `make run`'s demo data (SQLite, in-process stand-ins, the tests' clock)."""
    workdir = tmp_path_factory.mktemp("portal")
    path = workdir / "registry.sqlite3"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    clock = FixedClock(TEST_NOW)
    registry = Registry(engine=engine, session_factory=make_session_factory(engine), clock=clock,
                        documents=DocumentStore(workdir / "documents"))
    load_demo(registry)
    port = free_port()
    settings = Settings(database_url=f"sqlite:///{path}", data_dir=workdir,  # type: ignore[arg-type]
                        jwt_secret="e2e-secret-0123456789abcdef0123456789abcdef", allow_clock_travel=True,
                        market_always_open=True, public_base_url=f"http://127.0.0.1:{port}",
                        rate_limit_per_minute=100_000, login_attempts_per_minute=1000)
    app = create_app(settings, registry=registry, kv=MemoryStore())
    with served(app, port) as url:
        yield Portal(url, registry, clock, settings)
    engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium, one per test module (closed before the rest of the suite runs on)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        _missing(f"the playwright package is missing ({exc}); pip install -e '.[dev]'")
    if not CHROMIUM.exists():
        _missing(f"{CHROMIUM} is missing; run `make test` as root or apt-get install chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@dataclass
class PageErrors:
    """What went wrong inside the page: uncaught exceptions and refusals by the Content-Security-Policy."""

    messages: list[str] = field(default_factory=list)

    def watch(self, page: Any) -> None:
        page.on("pageerror", lambda error: self.messages.append(f"uncaught: {error}"))
        page.on("console", self._console)

    def _console(self, message: Any) -> None:
        # A refused API call (4xx) is logged by Chromium as a failed resource: that is the page's business.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.messages.append(f"console: {message.text}")


@pytest.fixture
def new_page(browser: Any, portal: Portal) -> Iterator[Callable[[], Any]]:
    """Open a fresh browser context (its own session storage: another person) on the portal; every page opened
    fails the test on an uncaught script error or a CSP refusal."""
    contexts: list[Any] = []
    errors = PageErrors()

    def open_page() -> Any:
        context = browser.new_context(base_url=portal.url, viewport={"width": 1280, "height": 860},
                                      locale="zh-CN", timezone_id="Asia/Shanghai", accept_downloads=True)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        errors.watch(page)
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not errors.messages, "\n".join(errors.messages)


@pytest.fixture
def page(new_page: Callable[[], Any]) -> Any:
    return new_page()


def _login(page: Any, username: str) -> None:
    page.goto("/portal/#/login")
    page.evaluate("sessionStorage.clear()")
    page.reload()
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(f"{username}-demo-pass")
    page.locator("form button[type=submit]").click()
    # The header names the signed-in user. (No wait_for_function: the page's CSP refuses eval.)
    page.locator("#header .user").wait_for()
    page.wait_for_load_state("networkidle")


@pytest.fixture
def login() -> Callable[[Any, str], None]:
    """login(page, 'buyer'): sign in through the portal's login form with the demo password."""
    return _login


def _shot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.png"
    page.wait_for_load_state("networkidle")
    page.evaluate("window.scrollTo(0, 0)")  # else the sticky header is drawn where the page was scrolled to
    page.screenshot(path=str(target), full_page=True)
    return target


@pytest.fixture
def shot() -> Callable[[Any, str], Path]:
    """shot(page, 'market'): a full-page PNG in artifacts/screenshots/ (kept by CI as an artifact)."""
    return _shot
