"""Retirement (注销, Art. 21): request, execution by the operations center, certificates; and the public
disclosure of issuances, revocations and the life of any serial number (Art. 24)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Response
from pydantic import Field, StringConstraints, model_validator

from api.answers.disclosure import BatchOut, RevocationOut, SerialLifeOut, revocation_out
from api.answers.retirements import CertificateOut, RetirementOut, certificate_of, retirement_out
from api.certificates import render_certificate
from api.deps import PUBLIC, Services, allow, get_services, marked_if_replayed
from api.schemas import (
    BoundedDate,
    DecimalString,
    IdempotencyKeyHeader,
    LongText,
    NoControl,
    OneLine,
    PageOut,
    PathId,
    QueryId,
    ShortText,
    Strict,
    page_out,
    page_params,
)
from registry import serials
from registry.errors import InvalidInput
from registry.principals import Principal
from registry.services import disclosure, idempotency, retirements

router = APIRouter(tags=["retirement and disclosure"])

Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=500), NoControl]


class EventNeutrality(Strict):
    """Carbon neutrality of a large event or meeting."""

    purpose: Literal["event_neutrality"]
    event_name: ShortText
    event_start: BoundedDate
    event_end: BoundedDate
    event_place: ShortText
    event_emissions_tco2e: DecimalString
    event_id: Id | None = Field(default=None, description="The registered event this retirement backs (one only).")

    @model_validator(mode="after")
    def _dates(self) -> EventNeutrality:
        if self.event_end < self.event_start:
            raise ValueError("event_end must not be before event_start")
        return self


class PilotUnit(Strict):
    """Self-neutrality of a low/zero-carbon pilot unit."""

    purpose: Literal["pilot_unit"]
    unit_name: ShortText


class EcologicalRestoration(Strict):
    """Alternative ecological restoration (替代性修复) ordered in a case."""

    purpose: Literal["ecological_restoration"]
    case_reference: ShortText


class Voluntary(Strict):
    purpose: Literal["voluntary"]
    note: LongText = ""


Purpose = Annotated[EventNeutrality | PilotUnit | EcologicalRestoration | Voluntary, Field(discriminator="purpose")]


class RetirementIn(Strict):
    quantity_t: Annotated[int, Field(ge=1, le=10**12)]
    beneficiary: ShortText
    purpose: Purpose
    account_id: Id | None = None
    batch_id: Id | None = None


class CancelIn(Strict):
    reason: Reason


@router.post("/retirements", status_code=201, response_model=RetirementOut)
def request_retirement(body: RetirementIn, response: Response, idempotency_key: IdempotencyKeyHeader = None,
                       principal: Principal = Depends(allow("owner", "trader")),
                       services: Services = Depends(get_services)) -> dict[str, Any]:
    """Ask to retire credits for a purpose; they are held until the operations center executes. With an
    Idempotency-Key a retry returns the first answer (marked `Idempotent-Replayed: true`) instead of retiring
    twice."""
    details = body.purpose.model_dump(mode="json", exclude_none=True)
    purpose = details.pop("purpose")
    digest = idempotency.request_hash(body.model_dump(mode="json"))
    with services.registry.uow(principal) as uow:
        answer = idempotency.replay_or_act(uow, principal.user_id, idempotency_key, digest, lambda: retirement_out(
            uow, retirements.request(uow, principal, account_id=body.account_id, quantity_t=body.quantity_t,
                                     batch_id=body.batch_id, purpose=purpose, beneficiary=body.beneficiary,
                                     details=details, auto_execute=services.settings.auto_execute_retirements),
            services.settings.public_base_url))
        return marked_if_replayed(response, answer)


@router.post("/retirements/{retirement_id}/execute", response_model=RetirementOut)
def execute_retirement(retirement_id: PathId, principal: Principal = Depends(allow("operator")),
                       services: Services = Depends(get_services)) -> dict[str, Any]:
    """The operations center retires the held credits on the platform (Art. 21)."""
    with services.registry.uow(principal) as uow:
        retirement = retirements.execute_request(uow, retirement_id)
        return retirement_out(uow, retirement, services.settings.public_base_url)


@router.post("/retirements/{retirement_id}/cancel", response_model=RetirementOut)
def cancel_retirement(retirement_id: PathId, body: CancelIn,
                      principal: Principal = Depends(allow("owner", "trader", "operator")),
                      services: Services = Depends(get_services)) -> dict[str, Any]:
    """Withdraw a request not yet executed (its holder, or the operations center)."""
    with services.registry.uow(principal) as uow:
        retirement = retirements.cancel_request(uow, principal, retirement_id, body.reason)
        return retirement_out(uow, retirement, services.settings.public_base_url)


@router.get("/retirements", response_model=PageOut[RetirementOut])
def list_retirements(status: Literal["requested", "executed", "cancelled"] | None = None, mine: bool = False,
                     purpose: Literal["event_neutrality", "pilot_unit", "ecological_restoration", "voluntary"]
                     | None = None,
                     page: tuple[int, int] = Depends(page_params), viewer: Principal | None = Depends(PUBLIC),
                     services: Services = Depends(get_services)) -> PageOut[dict[str, Any]]:
    """Executed retirements with beneficiary, purpose and serials (public); your requests with mine=true."""
    with services.registry.uow(viewer) as uow:
        result = retirements.list_retirements(uow, viewer, status=status, mine=mine, purpose=purpose,
                                              offset=page[0], limit=page[1])
        base = services.settings.public_base_url
        return page_out(result, lambda r: retirement_out(uow, r, base))


@router.get("/retirements/{retirement_id}", response_model=RetirementOut)
def get_retirement(retirement_id: PathId, viewer: Principal | None = Depends(PUBLIC),
                   services: Services = Depends(get_services)) -> dict[str, Any]:
    with services.registry.uow(viewer) as uow:
        return retirement_out(uow, retirements.get_visible(uow, viewer, retirement_id),
                              services.settings.public_base_url)


@router.get("/retirements/{retirement_id}/certificate", response_model=CertificateOut)
def retirement_certificate(retirement_id: PathId, _: Principal | None = Depends(PUBLIC),
                           services: Services = Depends(get_services)) -> dict[str, Any]:
    """The retirement certificate (JSON), the machine-readable proof behind the verification page."""
    with services.registry.uow() as uow:
        return certificate_of(uow, retirement_id, services.settings.public_base_url)


@router.get("/retirements/{retirement_id}/certificate.pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}, "description": "The certificate as a PDF."}})
def retirement_certificate_pdf(retirement_id: PathId, _: Principal | None = Depends(PUBLIC),
                               services: Services = Depends(get_services)) -> Response:
    """The retirement certificate as a PDF to print or archive, with a QR code of its verification page."""
    with services.registry.uow() as uow:
        certificate = certificate_of(uow, retirement_id, services.settings.public_base_url)
    pdf = render_certificate(certificate, services.settings.certificate_font)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f"attachment; filename={certificate['certificate']}.pdf"})


@router.get("/disclosure/issuances", response_model=PageOut[BatchOut])
def list_issuances(project_id: QueryId = None, page: tuple[int, int] = Depends(page_params),
                   _: Principal | None = Depends(PUBLIC),
                   services: Services = Depends(get_services)) -> PageOut[dict[str, Any]]:
    """Every issuance with its serial block, project and methodology (Art. 24)."""
    with services.registry.uow() as uow:
        return page_out(disclosure.issuances(uow, page[0], page[1], project_id),
                        lambda b: disclosure.batch_context(uow, b))


@router.get("/disclosure/revocations", response_model=PageOut[RevocationOut])
def list_revocations(page: tuple[int, int] = Depends(page_params), _: Principal | None = Depends(PUBLIC),
                     services: Services = Depends(get_services)) -> PageOut[dict[str, Any]]:
    """Revocations with their public notices (Art. 26)."""
    with services.registry.uow() as uow:
        return page_out(disclosure.revocations(uow, page[0], page[1]), lambda r: revocation_out(uow, r))


@router.get("/serials/{serial}", response_model=SerialLifeOut)
def serial_lookup(serial: Annotated[str, StringConstraints(max_length=40), OneLine],
                  _: Principal | None = Depends(PUBLIC), services: Services = Depends(get_services)) -> dict[str, Any]:
    """Any serial number (bare or labelled) → its batch, project, methodology and its life."""
    query = serials.parse_serial(serial)
    if query is None:
        raise InvalidInput("Not a serial number; use the number or its label JXCI-YYYY-B000000-0000000000.",
                           "不是有效的序列号。")
    with services.registry.uow() as uow:
        return disclosure.serial_life(uow, query)

