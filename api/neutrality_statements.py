"""The event neutrality statement (碳中和声明) as a PDF: the presentation of GET /events/{id}/statement, in
Chinese and English, with a QR code of its public page. Fonts as for retirement certificates."""

from __future__ import annotations

import io
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from api.answers.events import SOURCE_NAMES, StatementOut
from api.certificates import _qr, certificate_font


def render_statement(statement: StatementOut, font_path: Path | None) -> bytes:
    """The statement as an A4 PDF."""
    font = certificate_font(font_path)
    text = ParagraphStyle("text", fontName=font, fontSize=9.5, leading=13, wordWrap="CJK")
    small = ParagraphStyle("small", parent=text, fontSize=8, leading=11, textColor=colors.HexColor("#444444"))
    title = ParagraphStyle("title", parent=text, fontSize=18, leading=26, alignment=1)
    subtitle = ParagraphStyle("subtitle", parent=text, fontSize=11, leading=16, alignment=1)

    def cell(value: object, style: ParagraphStyle = text) -> Paragraph:
        # User text goes through escape(): an event called "<b>" is text, not paragraph markup.
        return Paragraph(escape(str(value)).replace("\n", "<br/>"), style)

    e = statement.event
    assert e.inventory is not None
    exclusions = "\n".join(f"{SOURCE_NAMES[k][0]} {SOURCE_NAMES[k][1]}: {v}" for k, v in e.inventory.exclusions.items())
    external = [f"{o.external_registry}: {o.external_serials} ({o.quantity_t} t, 外部 external — not counted)"
                for o in e.offsets if o.kind == "external"]
    rows = [
        ("声明编号 Statement No.", statement.statement_code),
        ("活动 Event", f"{e.name} ({statement.event_type_zh} {statement.event_type_en}) · {e.code}"),
        ("日期 Dates", f"{e.starts_on} – {e.ends_on}"),
        ("地点 Venue", f"{e.venue} ({e.venue_county})"),
        ("排除的排放源 Exclusions", exclusions or "无 none"),
        ("排放量 Emissions", f"{e.inventory.total_g:,} g = {e.inventory.total_t} 吨 tCO2e（向上取整 rounded up）"),
        ("减排措施 Reduction measures", e.reduction_measures or "—"),
        ("注销 Retirements", "\n".join(statement.retirements)),
        ("序列号 Serial numbers", "\n".join(statement.serial_blocks)),
        ("登记簿 Registries", "嘉兴市碳普惠登记簿 Jiaxing carbon-inclusive registry" + "".join(
            "\n" + x for x in external)),
        ("评定 Assessment", statement.assessor),
        ("结论 Conclusion", f"{statement.conclusion_zh}\n{statement.conclusion_en}"
         + (f"\n{e.conclusion}" if e.conclusion else "")),
    ]
    if e.replacement_needed:
        rows.insert(1, ("状态 Status", f"{e.status_zh} · {e.status_en}"))
    grid = TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                       ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#eef3ee"))])
    summary = Table([[cell(label), cell(value)] for label, value in rows], colWidths=[44 * mm, 126 * mm])
    summary.setStyle(grid)
    source_rows = [[cell(h, small) for h in ("排放源 Source", "克 g CO2e", "吨 t")]]
    source_rows += [[cell(f"{s['source_zh']} {s['source_en']}", small), cell(f"{s['emissions_g']:,}", small),
                     cell(s["tonnes"], small)] for s in statement.tonnes_by_source]
    sources = Table(source_rows, colWidths=[90 * mm, 45 * mm, 35 * mm], repeatRows=1)
    sources.setStyle(grid)
    factor_rows = [[cell(h, small) for h in ("因子 Factor", "来源 Source")]]
    factor_rows += [[cell(f["factor"], small), cell(f["citation"], small)] for f in statement.factors]
    factors = Table(factor_rows, colWidths=[40 * mm, 130 * mm], repeatRows=1)
    factors.setStyle(grid)
    url = statement.verification_url
    verify = Table([[_qr(url, 30 * mm), [cell("扫码或访问以下网址核验本声明 · Scan or visit to verify this statement:"),
                                         cell(url, small)]]], colWidths=[34 * mm, 136 * mm])
    verify.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    story: list[Flowable] = [
        cell(statement.title_zh, title), cell(statement.title_en, subtitle), Spacer(1, 5 * mm), summary,
        Spacer(1, 5 * mm), cell("分排放源 By source"), Spacer(1, 2 * mm), sources, Spacer(1, 5 * mm),
        cell("排放因子 Emission factors"), Spacer(1, 2 * mm), factors, Spacer(1, 6 * mm), verify,
    ]
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=16 * mm,
                      bottomMargin=16 * mm, title=f"{statement.statement_code} 碳中和声明",
                      author="嘉兴市碳普惠登记簿", creator="carbonx").build(story)
    return buffer.getvalue()
