"""What the public sees without logging in: the portal itself, the market summary with a week of trading in its
chart, a retirement found by the serial number of one of its tonnes, and the certificate PDF whose QR code
leads back to the portal's verification page. Screenshots of the public pages go to artifacts/screenshots/."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pypdfium2
import pytest
import zxingcpp
from playwright.sync_api import expect

from tests.e2e.conftest import Portal

Login = Callable[[Any, str], None]
Shot = Callable[[Any, str], Path]

INSTRUMENT = "JXCI-2025"
# A week of closing prices (fen), each within the 10 % band around the previous close.
WEEK = [6000, 6150, 6080, 6240, 6310]


@pytest.fixture(scope="module")
def market_week(portal: Portal) -> Iterator[dict[str, Any]]:
    """Five trading days of the mill selling 20 t a day to the events company, then the mill retiring 25 t
    for an event (executed by the operations center). Set up through the API; the pages are what is tested."""
    for day, price in enumerate(WEEK):
        if day:
            portal.clock.advance(timedelta(days=1))  # tokens are minted after each move of the clock
        with portal.api("owner") as owner, portal.api("buyer") as buyer:
            sell = owner.post("/orders", json={"instrument": INSTRUMENT, "client_order_id": f"week-sell-{day}",
                                               "side": "sell", "price_fen": price, "quantity_t": 20})
            buy = buyer.post("/orders", json={"instrument": INSTRUMENT, "client_order_id": f"week-buy-{day}",
                                              "side": "buy", "price_fen": price, "quantity_t": 20})
            assert sell.status_code == buy.status_code == 201, (sell.text, buy.text)
            assert buy.json()["filled_t"] == 20, buy.text
    with portal.api("owner") as owner, portal.api("operator") as operator:
        requested = owner.post("/retirements", json={
            "quantity_t": 25, "beneficiary": "海宁某某纺织有限公司",
            "purpose": {"purpose": "event_neutrality", "event_name": "嘉兴马拉松 2026", "event_start": "2026-12-06",
                        "event_end": "2026-12-06", "event_place": "嘉兴南湖", "event_emissions_tco2e": "24.3"}})
        assert requested.status_code == 201, requested.text
        executed = operator.post(f"/retirements/{requested.json()['id']}/execute")
        assert executed.status_code == 200, executed.text
    yield executed.json()


def test_the_portal_is_served_and_loads(portal: Portal, page: Any, shot: Shot) -> None:
    root = httpx.get(portal.url + "/", follow_redirects=False, timeout=60)
    assert root.status_code in (302, 307) and root.headers["location"].endswith("/portal/")
    page.goto("/")
    expect(page).to_have_url(f"{portal.url}/portal/#/home")
    expect(page.locator("#header")).to_contain_text("嘉兴碳普惠登记与交易")
    expect(page.locator("#nav")).to_contain_text("市场行情")
    expect(page.locator("#nav")).not_to_contain_text("运营管理")  # no desk for the anonymous
    shot(page, "public-home")


def test_the_market_summary_charts_the_week(market_week: dict[str, Any], page: Any, shot: Shot) -> None:
    page.goto("/portal/#/market")
    stats = page.locator(".stats")
    expect(stats).to_contain_text("20 tCO2e")  # today's volume
    expect(stats).to_contain_text("¥1,262.00")  # today's turnover: 20 t at ¥63.10
    chart = page.locator("svg.chart")
    expect(chart.locator("rect")).to_have_count(len(WEEK))  # one volume bar a day
    expect(chart).to_contain_text("¥63.10")  # the last close, marked at the right
    shot(page, "public-market")
    # An earlier day, chosen in the date field.
    page.locator("input[name=day]").fill("2026-11-24")
    page.get_by_role("button", name="查看该日").click()
    expect(page.locator(".stats")).to_contain_text("¥1,230.00")  # 20 t at ¥61.50
    page.locator(".lang-switch").click()
    expect(page.locator("h1")).to_contain_text("Market summary")
    shot(page, "public-market-en")


def test_the_public_finds_a_retirement_by_serial_number(market_week: dict[str, Any], page: Any,
                                                        shot: Shot) -> None:
    block = market_week["serial_blocks"][0]  # JXCI-2025-B000001-<first>-<last>
    serial = block.rsplit("-", 1)[0]
    page.goto("/portal/#/home")
    page.locator("#home-serial").fill(serial)
    page.locator("#home-serial").press("Enter")
    result = page.locator(".serial-result")
    expect(result).to_contain_text(market_week["code"])
    expect(result).to_contain_text("海宁某某纺织有限公司")
    expect(result).to_contain_text("嘉兴马拉松 2026")
    shot(page, "public-serial")
    page.goto("/portal/#/retirements")
    expect(page.locator("#view")).to_contain_text(market_week["code"])
    shot(page, "public-retirements")


def test_the_certificate_pdf_downloads_and_its_qr_code_resolves(
    portal: Portal, market_week: dict[str, Any], new_page: Callable[[], Any], login: Login, shot: Shot
) -> None:
    owner = new_page()
    login(owner, "owner")
    owner.goto("/portal/#/retire")
    row = owner.locator("tr", has_text=market_week["code"])
    with owner.expect_download() as started:
        row.get_by_role("link", name="下载 PDF").click()
    data = Path(started.value.path()).read_bytes()
    assert data.startswith(b"%PDF")
    image = pypdfium2.PdfDocument(io.BytesIO(data))[0].render(scale=3).to_pil()
    [code] = zxingcpp.read_barcodes(image)
    expected = f"{portal.url}/portal/#/certificates/{market_week['id']}"
    assert code.text == expected
    public = new_page()
    public.goto(code.text)
    expect(public.locator(".verified")).to_be_visible()
    expect(public.locator("#view")).to_contain_text(market_week["code"])
    shot(public, "public-certificate-from-qr")


@pytest.mark.parametrize("name", ["methodologies", "projects", "notices", "issuances", "revocations", "report"])
def test_screenshots_of_the_public_pages(market_week: dict[str, Any], page: Any, shot: Shot, name: str) -> None:
    page.goto(f"/portal/#/{name}")
    expect(page.locator("#view h1")).to_be_visible()
    expect(page.locator("#view .loading")).to_have_count(0)
    shot(page, f"public-{name}")
