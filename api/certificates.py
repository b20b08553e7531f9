"""The retirement certificate as a PDF: the presentation of GET /retirements/{id}/certificate, drawn from the
same certificate data, with a QR code of its public verification page.

Chinese text needs a font with CJK glyphs. A TrueType font found on the machine (CARBONX_CERTIFICATE_FONT, else
the first of KNOWN_FONTS) is embedded as a subset, so any viewer shows the same glyphs. Without one the PDF
names Adobe's standard CID font STSong-Light, which is not embedded: viewers substitute a Chinese font of
their own (Acrobat and most readers have one; a bare machine may show nothing). Nothing is ever downloaded.
"""

from __future__ import annotations

import io
import logging
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from registry.clock import SHANGHAI

log = logging.getLogger("carbonx.certificates")

# TrueType CJK fonts of Debian packages (fonts-wqy-zenhei, fonts-wqy-microhei, fonts-arphic-uming). Noto CJK
# (fonts-noto-cjk) is not among them: its outlines are CFF, which reportlab cannot embed.
KNOWN_FONTS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/arphic/uming.ttc"),
)
FALLBACK_CID_FONT = "STSong-Light"

PURPOSES = {
    "event_neutrality": "大型活动碳中和 · Carbon neutrality of an event",
    "pilot_unit": "低（零）碳试点单位自身碳中和 · Self-neutrality of a low/zero-carbon pilot unit",
    "ecological_restoration": "生态环境损害替代性修复 · Alternative ecological restoration",
    "voluntary": "自愿注销 · Voluntary retirement",
}
# The fields of the purposes in api.routers.retirements, in the order a reader expects them.
DETAILS = {
    "event_name": "活动名称 Event",
    "event_place": "活动地点 Place",
    "event_start": "开始日期 From",
    "event_end": "结束日期 To",
    "event_emissions_tco2e": "活动排放量 Emissions (tCO2e)",
    "unit_name": "试点单位 Pilot unit",
    "case_reference": "案件编号 Case",
    "note": "备注 Note",
}


@lru_cache(maxsize=4)
def certificate_font(configured: Path | None) -> str:
    """Register the font for certificates once per process and return its name: the configured TrueType font,
    else the first known one on this machine, else the built-in (not embedded) CID font."""
    for path in [configured] if configured else KNOWN_FONTS:
        if not path.is_file():
            if configured:
                log.error("CARBONX_CERTIFICATE_FONT %s is not a file; certificates fall back to %s",
                          path, FALLBACK_CID_FONT)
            continue
        name = f"carbonx-cjk-{path.stem}"
        try:
            pdfmetrics.registerFont(TTFont(name, str(path), subfontIndex=0))
        except TTFError as exc:  # e.g. an OpenType font with CFF outlines, or not a font at all
            log.error("certificate font %s cannot be embedded (%s); trying the next", path, exc)
            continue
        return name
    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_CID_FONT))
    return FALLBACK_CID_FONT


def _qr(url: str, size: float) -> Drawing:
    widget = QrCodeWidget(url, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    return drawing


def _date(iso: str | None) -> str:
    return datetime.fromisoformat(iso).astimezone(SHANGHAI).date().isoformat() if iso else ""


def render_certificate(certificate: dict[str, Any], font_path: Path | None) -> bytes:
    """The certificate (as certificate_of in api.answers.retirements makes it) as an A4 PDF."""
    font = certificate_font(font_path)
    text = ParagraphStyle("text", fontName=font, fontSize=10, leading=14, wordWrap="CJK")
    small = ParagraphStyle("small", parent=text, fontSize=8, leading=11, textColor=colors.HexColor("#444444"))
    title = ParagraphStyle("title", parent=text, fontSize=20, leading=28, alignment=1)
    subtitle = ParagraphStyle("subtitle", parent=text, fontSize=11, leading=16, alignment=1)
    retirement = certificate["retirement"]

    def cell(value: object, style: ParagraphStyle = text) -> Paragraph:
        # User text goes through escape(): a beneficiary like "<b>" is text, not paragraph markup.
        return Paragraph(escape(str(value)).replace("\n", "<br/>"), style)

    details = retirement["details"]
    keys = [key for key in DETAILS if key in details] + [key for key in details if key not in DETAILS]
    purpose = [PURPOSES.get(retirement["purpose"], retirement["purpose"])]
    purpose += [f"{DETAILS.get(key, key)}: {details[key]}" for key in keys if details[key] not in ("", None)]
    rows = [
        ("证书编号 Certificate No.", certificate["certificate"]),
        ("受益方 Beneficiary", retirement["beneficiary"]),
        ("注销用途 Purpose", "\n".join(purpose)),
        ("注销数量 Quantity", f"{retirement['quantity_t']:,} 吨二氧化碳当量 tCO2e"),
        ("序列号 Serial numbers", "\n".join(retirement["serial_blocks"])),
        ("注销日期 Date of retirement", _date(retirement["executed_at"]) or certificate["issued_on"]),
        ("登记簿 Registry", certificate["registry"]),
    ]
    if retirement["revoked_batches"]:
        rows.append(("已收回批次 Revoked batches", "此后被收回（第二十六条）· revoked after retirement (Art. 26): "
                     + ", ".join(retirement["revoked_batches"])))
    grid = TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                       ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#eef3ee"))])
    summary = Table([[cell(label), cell(value)] for label, value in rows], colWidths=[48 * mm, 122 * mm])
    summary.setStyle(grid)
    source_rows: list[list[Paragraph]] = [[cell(h, small) for h in (
        "批次 Batch", "项目 Project", "方法学 Methodology", "年份 Vintage", "监测期 Monitoring period")]]
    for s in certificate["sources"]:
        methodology = (f"{s['methodology_code'] or ''} v{s['methodology_version'] or ''}\n"
                       f"{s['methodology_title_zh'] or ''}")
        source_rows.append([cell(s["batch_code"], small), cell(f"{s['project_code']}\n{s['project_title']}", small),
                            cell(methodology, small), cell(s["vintage"], small),
                            cell(" – ".join(s["monitoring_period"]), small)])
    sources = Table(source_rows, colWidths=[32 * mm, 46 * mm, 40 * mm, 18 * mm, 34 * mm], repeatRows=1)
    sources.setStyle(grid)
    url = retirement["verification_url"]
    verify = Table([[_qr(url, 32 * mm), [
        cell("扫码或访问以下网址核验本证书 · Scan or visit to verify this certificate:"), cell(url, small)]]],
        colWidths=[36 * mm, 134 * mm])
    verify.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    story: list[Flowable] = [
        cell("碳普惠减排量注销证明", title), cell("Certificate of retirement of carbon-inclusive credits", subtitle),
        Spacer(1, 6 * mm), summary, Spacer(1, 6 * mm), cell("来源 Sources", text), Spacer(1, 2 * mm), sources,
        Spacer(1, 8 * mm), verify,
    ]
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=18 * mm,
                                 bottomMargin=18 * mm, title=f"{certificate['certificate']} 注销证明",
                                 author=certificate["registry"], creator="carbonx")
    document.build(story)
    return buffer.getvalue()
