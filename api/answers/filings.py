"""Reduction filings as the API answers them, and the batch an issuance made."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from api.answers.disclosure import BatchOut
from registry.orm import Filing
from registry.principals import Principal
from registry.services import filings as filing_service
from registry.unit_of_work import UnitOfWork
from rules import review_flow


class FilingOut(BaseModel):
    id: int
    code: str | None
    project_id: int
    status: str
    methodology_version_id: int
    monitoring_start: str
    monitoring_end: str
    inputs: dict[str, str]
    calculation: dict[str, Any]
    calculated_tco2e: str
    verified_tco2e: str | None
    verification_reason: str | None
    verifier_participant_id: int | None
    report_preparer_participant_id: int
    application_date: str | None
    notice_end: str | None
    rejection_reason: str | None
    documents: list[dict[str, str]]
    allowed_actions: list[str]


def filing_out(uow: UnitOfWork, filing: Filing, viewer: Principal | None) -> FilingOut:
    insider = viewer is not None and (viewer.is_reviewer or viewer.participant_id in (
        filing.owner_participant_id, filing.verifier_participant_id))
    actions: list[str] = []
    if viewer is not None and filing.status in review_flow.FILING_FLOW.states:
        for role in sorted(viewer.roles):
            actions += review_flow.allowed_actions(review_flow.FILING_FLOW, filing.status, role)
    return FilingOut(
        id=filing.id, code=filing.code, project_id=filing.project_id, status=filing.status,
        methodology_version_id=filing.methodology_version_id,
        monitoring_start=filing.monitoring_start.isoformat(), monitoring_end=filing.monitoring_end.isoformat(),
        inputs=filing.inputs, calculation=filing.calculation, calculated_tco2e=format(filing.calculated_tco2e, "f"),
        verified_tco2e=format(filing.verified_tco2e, "f") if filing.verified_tco2e is not None else None,
        verification_reason=filing.verification_reason, verifier_participant_id=filing.verifier_participant_id,
        report_preparer_participant_id=filing.report_preparer_participant_id,
        application_date=filing.application_date.isoformat() if filing.application_date else None,
        notice_end=filing.notice_end.isoformat() if filing.notice_end else None,
        rejection_reason=filing.rejection_reason,
        # Document digests are evidence for insiders; the public sees which kinds were filed.
        documents=[{"kind": d.kind, **({"sha256": d.sha256} if insider else {})}
                   for d in filing_service.documents_of(uow, filing.id)],
        allowed_actions=actions,
    )


def issued_batch_out(context: dict[str, Any]) -> BatchOut:
    """The batch an issuance made, as the public sees it (`registry.services.disclosure.batch_context`)."""
    return BatchOut(**context)
