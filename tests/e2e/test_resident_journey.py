"""A resident on a phone: points, history by behaviour, consents and a redemption; the operator's scenario page
with refusals by code (issue 18)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from registry.demo_points import load_points_demo
from tests.e2e.conftest import Portal

Login = Callable[[Any, str], None]
Shot = Callable[[Any, str], Path]
PHONE = {"width": 390, "height": 844}


def test_a_resident_sees_points_and_redeems_on_a_phone(portal: Portal, page: Any, login: Login, shot: Shot) -> None:
    load_points_demo(portal.registry)
    page.set_viewport_size(PHONE)
    login(page, "resident1")
    page.goto("/portal/#/points")
    page.locator("main[data-page='points'][data-ready]").wait_for()
    available = page.locator(".stat .value").first.inner_text()
    assert int(available.replace(",", "")) > 0
    page.locator("table tbody tr").nth(19).wait_for()  # the history (20 newest) loads after the page
    page.locator("button", has_text="兑换").first.click()
    page.locator(".notice", has_text="已兑换").wait_for()
    shot(page, "resident-points-phone")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"the page scrolls sideways on a phone: {width}px"


def test_the_operator_sees_refusals_by_code_and_files_a_month(portal: Portal, page: Any, login: Login,
                                                              shot: Shot) -> None:
    load_points_demo(portal.registry)
    login(page, "metro")
    page.goto("/portal/#/scenarios")
    page.locator("main[data-page='scenarios'][data-ready]").wait_for()
    page.locator("h2", has_text="JX-METRO-DEMO").wait_for()
    shot(page, "operator-scenarios")
