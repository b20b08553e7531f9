"""Violation reports (举报, Art. 27): anyone reports and follows the case by a receipt token; the reporter's
identity is for the bureau alone."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path
from pydantic import StringConstraints

from api.answers.reports import (
    ReceiptOut,
    ReportDetailOut,
    ReportStatusOut,
    detail_out,
    receipt_out,
    status_out,
)
from api.deps import PUBLIC, Services, allow, get_services
from api.schemas import NoControl, OneLine, PageOut, Strict, page_out, page_params
from registry.principals import Principal
from registry.services import reports as service

router = APIRouter(prefix="/reports", tags=["reports"])

ReporterName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100), OneLine]
ReporterContact = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), OneLine]
Subject = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=300), OneLine]
Details = Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=8000), NoControl]
Feedback = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000), NoControl]
ReceiptToken = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$",
                                   description="The receipt token given when the report was lodged."), OneLine]

class ReportIn(Strict):
    reporter_name: ReporterName = ""
    reporter_contact: ReporterContact = ""
    subject: Subject
    details: Details


class ReportUpdateIn(Strict):
    status: Literal["investigating", "closed"]
    feedback: Feedback = ""


@router.post("", status_code=201, response_model=ReceiptOut)
def lodge_report(body: ReportIn, _: Principal | None = Depends(PUBLIC),
                 services: Services = Depends(get_services)) -> ReceiptOut:
    """Report a violation (anyone, anonymously if you like); the answer carries your receipt token."""
    # No actor: a logged-in reporter's user id would otherwise name them in the audit log.
    with services.registry.uow() as uow:
        return receipt_out(*service.lodge(uow, **body.model_dump()))


@router.get("/receipt/{token}", response_model=ReportStatusOut)
def follow_report(token: ReceiptToken, _: Principal | None = Depends(PUBLIC),
                  services: Services = Depends(get_services)) -> ReportStatusOut:
    """The status of your report and the bureau's feedback, by its receipt token."""
    with services.registry.uow() as uow:
        return status_out(service.by_receipt(uow, token))


@router.get("", response_model=PageOut[ReportDetailOut])
def list_reports(status: Literal["received", "investigating", "closed"] | None = None,
                 page: tuple[int, int] = Depends(page_params), principal: Principal = Depends(allow("bureau")),
                 services: Services = Depends(get_services)) -> PageOut[ReportDetailOut]:
    """Reports with the reporter's name and contact (the bureau only)."""
    with services.registry.uow(principal) as uow:
        result = service.list_reports(uow, status, *page)
        return page_out(result, detail_out)


@router.post("/{report_id}", response_model=ReportDetailOut)
def update_report(report_id: Annotated[int, Path(ge=1, le=2**31 - 1)], body: ReportUpdateIn,
                  principal: Principal = Depends(allow("bureau")),
                  services: Services = Depends(get_services)) -> ReportDetailOut:
    """Move a report on (investigating, closed) with feedback for the reporter; closing needs feedback."""
    with services.registry.uow(principal) as uow:
        report = service.update(uow, report_id, status=body.status, feedback=body.feedback)
        return detail_out(report)
