"""Reduction filings: file a monitoring period, commission a verifier, verify, apply, review, issue."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import Field, StringConstraints, model_validator

from api.answers.disclosure import BatchOut
from api.answers.filings import FilingOut, filing_out, issued_batch_out
from api.answers.objections import ObjectionOut, objection_out
from api.deps import PUBLIC, Services, allow, get_services
from api.schemas import (
    REVIEWERS,
    BoundedDate,
    DecimalString,
    Identifier,
    LongText,
    ObjectionIn,
    OneLine,
    PageOut,
    PathId,
    QueryId,
    ReviewActionOut,
    ReviewIn,
    Sha256,
    Strict,
    page_out,
    page_params,
)
from registry.principals import Principal
from registry.services import filings as service
from registry.services import issuance, reviews
from registry.services.disclosure import batch_context

router = APIRouter(prefix="/filings", tags=["filings"])

Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
DocumentKind = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$"), OneLine]


class FilingIn(Strict):
    project_id: Id
    monitoring_start: BoundedDate
    monitoring_end: BoundedDate
    inputs: dict[Identifier, DecimalString] = Field(max_length=50)
    report_sha256: Sha256 = Field(description="The accounting report (核算报告), uploaded first.")
    report_preparer_participant_id: Id = Field(description="The organisation that prepared the report.")

    @model_validator(mode="after")
    def _order(self) -> FilingIn:
        if self.monitoring_end < self.monitoring_start:
            raise ValueError("monitoring_end must not be before monitoring_start")
        return self


class CommissionIn(Strict):
    verifier_participant_id: Id


class VerificationIn(Strict):
    verified_tco2e: DecimalString
    statement_sha256: Sha256 = Field(description="The verification statement (核证表), uploaded first.")
    reason: LongText | None = None


class DocumentIn(Strict):
    kind: DocumentKind
    sha256: Sha256


class ApplyIn(Strict):
    documents: list[DocumentIn] = Field(max_length=30)


class IssueIn(Strict):
    comment: LongText = ""


@router.post("", status_code=201, response_model=FilingOut)
def create_filing(body: FilingIn, principal: Principal = Depends(allow("owner")),
                  services: Services = Depends(get_services)) -> FilingOut:
    """File a monitoring period; the reductions are computed now and the calculation table kept."""
    with services.registry.uow(principal) as uow:
        filing = service.create(uow, principal, project_id=body.project_id, monitoring_start=body.monitoring_start,
                                monitoring_end=body.monitoring_end,
                                inputs={k: Decimal(v) for k, v in body.inputs.items()},
                                report_sha256=body.report_sha256,
                                report_preparer_participant_id=body.report_preparer_participant_id)
        return filing_out(uow, filing, principal)


@router.post("/{filing_id}/commission", response_model=FilingOut)
def commission_verifier(filing_id: PathId, body: CommissionIn, principal: Principal = Depends(allow("owner")),
                        services: Services = Depends(get_services)) -> FilingOut:
    """Commission a verifier (Art. 15): not the report's preparer, not yourself (JX-15)."""
    with services.registry.uow(principal) as uow:
        filing = service.commission(uow, principal, filing_id, body.verifier_participant_id)
        return filing_out(uow, filing, principal)


@router.post("/{filing_id}/verification", response_model=FilingOut)
def submit_verification(filing_id: PathId, body: VerificationIn, principal: Principal = Depends(allow("verifier")),
                        services: Services = Depends(get_services)) -> FilingOut:
    """The commissioned verifier's statement: a verified quantity never above the claim."""
    with services.registry.uow(principal) as uow:
        filing = service.verify(uow, principal, filing_id, verified_tco2e=Decimal(body.verified_tco2e),
                                statement_sha256=body.statement_sha256, reason=body.reason)
        return filing_out(uow, filing, principal)


@router.post("/{filing_id}/apply", response_model=FilingOut)
def apply_for_filing(filing_id: PathId, body: ApplyIn, principal: Principal = Depends(allow("owner")),
                     services: Services = Depends(get_services)) -> FilingOut:
    """Apply for filing with the Art. 16 documents (application_letter, application_form,
    supporting_evidence; the report and statement are already attached)."""
    with services.registry.uow(principal) as uow:
        filing = service.apply(uow, principal, filing_id, [d.model_dump() for d in body.documents])
        return filing_out(uow, filing, principal)


@router.post("/{filing_id}/review", response_model=FilingOut)
def review_filing(filing_id: PathId, body: ReviewIn, principal: Principal = Depends(allow(*REVIEWERS)),
                  services: Services = Depends(get_services)) -> FilingOut:
    """One Art. 17 review step (the same actions as for methodologies)."""
    with services.registry.uow(principal) as uow:
        filing = service.review(uow, principal, filing_id, body.action, body.comment)
        return filing_out(uow, filing, principal)


@router.post("/{filing_id}/issue", status_code=201, response_model=BatchOut)
def issue_filing(filing_id: PathId, body: IssueIn, principal: Principal = Depends(allow("bureau")),
                 services: Services = Depends(get_services)) -> BatchOut:
    """Issue the certified reductions (签发): whole tonnes, rounded down, one serial block."""
    with services.registry.uow(principal) as uow:
        batch = issuance.issue(uow, principal, filing_id, body.comment)
        return issued_batch_out(batch_context(uow, batch))


@router.post("/{filing_id}/objections", status_code=201, response_model=ObjectionOut)
def object_to_filing(filing_id: PathId, body: ObjectionIn, viewer: Principal | None = Depends(PUBLIC),
                     services: Services = Depends(get_services)) -> ObjectionOut:
    """Object to a filing in public notice."""
    with services.registry.uow(viewer) as uow:
        return objection_out(service.lodge_objection(uow, viewer, filing_id, **body.model_dump()))


@router.get("", response_model=PageOut[FilingOut])
def list_filings(mine: bool = False, status: Annotated[str | None, Query(max_length=20), OneLine] = None,
                 project_id: QueryId = None, page: tuple[int, int] = Depends(page_params),
                 viewer: Principal | None = Depends(PUBLIC),
                 services: Services = Depends(get_services)) -> PageOut[FilingOut]:
    """Filings in public notice and after (everyone); your own with mine=true; all for reviewers."""
    with services.registry.uow(viewer) as uow:
        result = service.list_filings(uow, viewer, mine=mine, status=status, project_id=project_id,
                                      offset=page[0], limit=page[1])
        return page_out(result, lambda f: filing_out(uow, f, viewer))


@router.get("/{filing_id}", response_model=FilingOut)
def get_filing(filing_id: PathId, viewer: Principal | None = Depends(PUBLIC),
               services: Services = Depends(get_services)) -> FilingOut:
    with services.registry.uow(viewer) as uow:
        return filing_out(uow, service.get_filing(uow, viewer, filing_id), viewer)


@router.get("/{filing_id}/history", response_model=list[ReviewActionOut])
def filing_history(filing_id: PathId, viewer: Principal | None = Depends(PUBLIC),
                   services: Services = Depends(get_services)) -> list[ReviewActionOut]:
    with services.registry.uow(viewer) as uow:
        service.get_filing(uow, viewer, filing_id)
        return [ReviewActionOut.of(a) for a in reviews.history(uow, "filing", filing_id)]
