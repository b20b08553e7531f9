"""Event carbon neutrality through the portal (issue 17): the public finds the demo's neutral forum and its
statement (both languages, retirements, serials, factors cited with version and the demo mark) and the factor
catalogue; the organiser registers an event, types its inventory, sees the live calculation to the gram and
saves it. Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

Login = Callable[[Any, str], None]
Shot = Callable[[Any, str], Path]

FIXTURE_LINES = "\n".join([
    "attendee_travel, rail_high_speed, 300, 500",
    "accommodation, accommodation_room_night, 400",
    "catering, catering_meal, 1500",
    "purchased_electricity, electricity_grid, 20000",
])
EXCLUSIONS = "\n".join(["venue_fuel: 全电气化场馆", "purchased_heat: 未供热", "service_vehicles: 公交接驳",
                        "materials: 物料复用", "waste: 场馆自行计入"])


def test_the_public_reads_a_neutrality_statement_and_the_factor_catalogue(page: Any, shot: Shot) -> None:
    page.goto("/portal/#/events")
    view = page.locator("#view")
    expect(view).to_contain_text("南湖数字经济论坛")
    shot(page, "public-events")
    view.get_by_role("link", name="JXN-").first.click()
    statement = page.locator(".statement")
    expect(statement).to_contain_text("JXN-")
    expect(statement).to_contain_text("32,859,150")
    expect(statement).to_contain_text("ELEC-GRID-ZJ@1")
    expect(statement).to_contain_text("[DEMO")
    expect(statement).to_contain_text("carbon neutral")
    expect(statement.get_by_role("link", name="下载声明 PDF")).to_be_visible()
    shot(page, "public-event-statement")
    page.goto("/portal/#/factors")
    expect(page.locator("#view")).to_contain_text("RAIL-HSR@1")
    expect(page.locator("#view")).to_contain_text("演示数据，非官方")
    shot(page, "public-factors")


def test_the_organiser_registers_an_event_and_sees_the_live_calculation(page: Any, login: Login, shot: Shot) -> None:
    login(page, "buyer")
    page.goto("/portal/#/events")
    expect(page.locator("#view")).to_contain_text("我组织的活动")
    form = page.locator("form.form")
    form.locator("input[name=name]").fill("秀洲运河文化节")
    form.locator("select[name=event_type]").select_option("performance")
    form.locator("input[name=venue]").fill("运河广场")
    form.locator("select[name=venue_county]").select_option("330411")
    form.locator("input[name=starts_on]").fill("2026-11-14")
    form.locator("input[name=ends_on]").fill("2026-11-15")
    form.locator("input[name=attendees]").fill("500")
    form.locator("button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text("秀洲运河文化节")
    page.locator("textarea[name=lines]").fill(FIXTURE_LINES)
    page.locator("textarea[name=exclusions]").fill(EXCLUSIONS)
    page.get_by_role("button", name="试算").click()
    expect(page.locator(".calc-result")).to_contain_text("32,859,150")
    shot(page, "organiser-event-calculation")
    page.get_by_role("button", name="保存清单").click()
    expect(page.locator("#view")).to_contain_text("已编制清单")
    expect(page.get_by_role("button", name="注销所缺部分")).to_be_visible()
    shot(page, "organiser-event")
