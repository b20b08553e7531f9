"""Violation reports (举报, Art. 27): anyone reports, the bureau investigates and gives feedback.

The reporter's name and contact are for the bureau alone, so they never reach the audit log (which is read
more widely); neither does the receipt token, of which only the SHA-256 is stored.

`lodge` and `update` are use cases and commit once, at their end.
"""

from __future__ import annotations

import hashlib
import secrets

from registry.errors import InvalidInput, NotFound, RuleViolation, StateConflict
from registry.orm import ViolationReport
from registry.pagination import Page
from registry.repositories import reports as repository
from registry.unit_of_work import UnitOfWork
from rules.violations import Violation

SUBJECT_TYPE = "violation_report"
# What the bureau may move a report to: forward only, and closed is terminal.
NEXT_STATUSES = {"received": ("investigating", "closed"), "investigating": ("investigating", "closed")}


def receipt_hash(token: str) -> str:
    """What is stored of a receipt token: its SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def lodge(uow: UnitOfWork, *, reporter_name: str, reporter_contact: str, subject: str,
          details: str) -> tuple[ViolationReport, str]:
    """Record a report (the name and contact may be empty: anonymous); returns it and the receipt token,
    which is shown once and never stored."""
    token = secrets.token_urlsafe(24)
    now = uow.now()
    report = ViolationReport(receipt_hash=receipt_hash(token), reporter_name=reporter_name,
                             reporter_contact=reporter_contact, subject=subject, details=details,
                             status="received", feedback="", created_at=now, updated_at=now)
    uow.session.add(report)
    uow.session.flush()
    uow.audit("report.lodged", SUBJECT_TYPE, report.id, {"report_id": report.id, "status": report.status})
    uow.commit()
    return report, token


def by_receipt(uow: UnitOfWork, token: str) -> ViolationReport:
    """The report a receipt token was issued for; NotFound for any other token."""
    report = repository.report_with_receipt(uow.session, receipt_hash(token))
    if report is None:
        raise NotFound("No report has this receipt token.", "没有与该回执码对应的举报。")
    return report


def list_reports(uow: UnitOfWork, status: str | None, offset: int, limit: int) -> Page[ViolationReport]:
    """Reports, newest first, with the reporter's identity (the bureau only)."""
    return repository.report_page(uow.session, status, offset, limit)


def update(uow: UnitOfWork, report_id: int, *, status: str, feedback: str) -> ViolationReport:
    """The bureau moves a report on and tells the reporter; closing needs feedback, and closed is final.
    An empty `feedback` leaves the earlier feedback in place."""
    report = repository.report(uow.session, report_id, for_update=True)
    if report is None:
        raise NotFound(f"Report {report_id} not found.", f"未找到举报 {report_id}。")
    allowed = NEXT_STATUSES.get(report.status, ())
    if not allowed:
        raise StateConflict("This report is closed; it can no longer change.", "该举报已办结，不能再更改。")
    if status not in allowed:
        raise InvalidInput(f"A report cannot move from {report.status} to {status}.",
                           f"举报不能从 {report.status} 变为 {status}。")
    feedback = feedback.strip()
    if status == "closed" and not feedback:
        raise RuleViolation([Violation("JX-27", "Art. 27", "feedback", "办结举报须向举报人反馈处理结果。",
                                       "Closing a report must give the reporter feedback.")])
    previous = report.status
    report.status = status
    if feedback:
        report.feedback = feedback
    report.updated_at = uow.now()
    uow.audit("report.updated", SUBJECT_TYPE, report.id,
              {"report_id": report.id, "from": previous, "to": status})
    uow.commit()
    return report
