"""The retirement certificate as a PDF, on SQLite and on PostgreSQL: the same facts as the JSON certificate,
Chinese text that comes out of the PDF again, an embedded font, and a QR code that scans to the verification
page; visible exactly when the JSON certificate is."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pypdfium2
import pytest
import zxingcpp
from fastapi.testclient import TestClient
from pdfminer.high_level import extract_text

from api.certificates import FALLBACK_CID_FONT, certificate_font, render_certificate
from api.settings import Settings
from registry.context import Registry
from tests.support import bearer, issue_to, seed_ledger

BENEFICIARY = "2026 嘉兴马拉松组委会 <b>&"  # markup characters are text on a certificate
EVENT = {"purpose": "event_neutrality", "event_name": "第二届南湖低碳论坛", "event_start": "2026-11-01",
         "event_end": "2026-11-02", "event_place": "嘉兴南湖", "event_emissions_tco2e": "58.2"}


@pytest.fixture
def retired(client: TestClient, registry: Registry) -> dict[str, Any]:
    """A holder asks to retire 60 t for an event; the operations center executes it."""
    bureau, holders = seed_ledger(registry)
    batch = issue_to(registry, bureau, 100)
    holder = bearer(client, holders[0].user_id)
    asked = client.post("/retirements", headers=holder,
                        json={"quantity_t": 60, "beneficiary": BENEFICIARY, "purpose": EVENT})
    assert asked.status_code == 201, asked.text
    executed = client.post(f"/retirements/{asked.json()['id']}/execute", headers=bearer(client, bureau.user_id))
    assert executed.status_code == 200, executed.text
    return {"retirement": executed.json(), "batch": batch, "holder": holder}


def _page_image(pdf: bytes) -> Any:
    return pypdfium2.PdfDocument(pdf)[0].render(scale=3).to_pil()


def test_the_pdf_says_what_the_json_certificate_says(client: TestClient, retired: dict[str, Any],
                                                     settings: Settings) -> None:
    rid = retired["retirement"]["id"]
    certificate = client.get(f"/retirements/{rid}/certificate").json()
    url = certificate["retirement"]["verification_url"]
    assert url == f"{settings.public_base_url}/portal/#/certificates/{rid}"

    response = client.get(f"/retirements/{rid}/certificate.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == f"attachment; filename={certificate['certificate']}.pdf"
    text = extract_text(io.BytesIO(response.content))
    source = certificate["sources"][0]
    for fact in [certificate["certificate"], BENEFICIARY, "大型活动碳中和", "第二届南湖低碳论坛", "嘉兴南湖",
                 "2026-11-01", "2026-11-02", "58.2", "60 吨二氧化碳当量", certificate["retirement"]["serial_blocks"][0],
                 source["batch_code"], source["project_code"], source["methodology_code"], "嘉兴市碳普惠登记簿",
                 certificate["issued_on"], url]:
        assert fact in text, fact
    # The QR code on the rendered page scans to the verification page.
    assert [code.text for code in zxingcpp.read_barcodes(_page_image(response.content))] == [url]


def test_the_pdf_is_public_only_once_executed(client: TestClient, registry: Registry,
                                              retired: dict[str, Any]) -> None:
    asked = client.post("/retirements", headers=retired["holder"], json={
        "quantity_t": 5, "beneficiary": "某公司", "purpose": {"purpose": "voluntary"}})
    pending = asked.json()["id"]
    for path in (f"/retirements/{pending}/certificate", f"/retirements/{pending}/certificate.pdf"):
        for headers in ({}, retired["holder"]):  # the same rule as the JSON certificate: not even the holder
            refused = client.get(path, headers=headers)
            assert refused.status_code == 404
            assert refused.headers["content-type"].startswith("application/problem+json")
    assert client.get("/retirements/999999/certificate.pdf").status_code == 404
    assert client.get("/retirements/0/certificate.pdf").status_code == 422


def _certificate(**retirement: Any) -> dict[str, Any]:
    base = {"id": 7, "code": "JXR-2026-000007", "status": "executed", "quantity_t": 3, "purpose": "pilot_unit",
            "beneficiary": "南湖区低碳试点社区", "details": {"unit_name": "南湖区某社区"},
            "requested_at": "2026-11-23T02:00:00+00:00", "executed_at": "2026-11-23T17:30:00+00:00",
            "serial_blocks": ["JXCI-2023-B000001-0000000001-0000000003"], "revoked_batches": ["JXB-2026-000001"],
            "verification_url": "https://registry.example/portal/#/certificates/7"}
    return {"certificate": "JXR-2026-000007", "registry": "嘉兴市碳普惠登记簿", "issued_on": "2026-11-24",
            "retirement": base | retirement, "sources": []}


def test_a_chinese_truetype_font_is_embedded_when_the_machine_has_one() -> None:
    # make test installs Debian's fonts-wqy-zenhei when no known font is there (see the Makefile).
    configured = Settings().certificate_font
    assert certificate_font(configured) != FALLBACK_CID_FONT, "no CJK TrueType font: install fonts-wqy-zenhei"
    pdf = render_certificate(_certificate(), configured)
    assert b"/FontFile2" in pdf  # the glyphs travel with the document
    text = extract_text(io.BytesIO(pdf))
    # Executed at 01:30 on the 24th in Jiaxing; a later revocation of its batch is said on the certificate.
    assert "南湖区低碳试点社区" in text and "南湖区某社区" in text and "2026-11-24" in text
    assert "JXB-2026-000001" in text and "第二十六条" in text
    assert zxingcpp.read_barcodes(_page_image(pdf))[0].text == "https://registry.example/portal/#/certificates/7"


def test_without_a_usable_font_the_builtin_cid_font_still_carries_the_chinese(tmp_path: Path) -> None:
    not_a_font = tmp_path / "broken.ttf"
    not_a_font.write_bytes(b"not a font at all")
    for configured in (not_a_font, tmp_path / "missing.ttf"):
        assert certificate_font(configured) == FALLBACK_CID_FONT
        pdf = render_certificate(_certificate(), configured)
        assert b"/FontFile2" not in pdf and FALLBACK_CID_FONT.encode() in pdf
        assert "南湖区低碳试点社区" in extract_text(io.BytesIO(pdf))
