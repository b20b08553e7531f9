"""Violation reports as the API answers them (Art. 27): the reporter's receipt, what the holder of a receipt
token sees (never who reported), and the bureau's full view."""

from __future__ import annotations

from pydantic import BaseModel

from registry.orm import ViolationReport

RECEIPT_ADVICE_EN = ("Keep this receipt token: it is the only way to follow your report and read the bureau's "
                     "feedback, and it cannot be shown again.")
RECEIPT_ADVICE_ZH = "请妥善保存回执码：这是查询举报进展和生态环境局反馈的唯一凭证，且不会再次显示。"


class ReceiptOut(BaseModel):
    id: int
    receipt_token: str
    status: str
    message_en: str
    message_zh: str


class ReportStatusOut(BaseModel):
    """What the holder of a receipt token sees: never who reported."""

    status: str
    subject: str
    feedback: str
    created_at: str
    updated_at: str


class ReportDetailOut(BaseModel):
    id: int
    status: str
    reporter_name: str
    reporter_contact: str
    subject: str
    details: str
    feedback: str
    created_at: str
    updated_at: str


def receipt_out(r: ViolationReport, token: str) -> ReceiptOut:
    return ReceiptOut(id=r.id, receipt_token=token, status=r.status, message_en=RECEIPT_ADVICE_EN,
                      message_zh=RECEIPT_ADVICE_ZH)


def status_out(r: ViolationReport) -> ReportStatusOut:
    return ReportStatusOut(status=r.status, subject=r.subject, feedback=r.feedback,
                           created_at=r.created_at.isoformat(), updated_at=r.updated_at.isoformat())


def detail_out(r: ViolationReport) -> ReportDetailOut:
    return ReportDetailOut(id=r.id, status=r.status, reporter_name=r.reporter_name,
                           reporter_contact=r.reporter_contact, subject=r.subject, details=r.details,
                           feedback=r.feedback, created_at=r.created_at.isoformat(),
                           updated_at=r.updated_at.isoformat())
