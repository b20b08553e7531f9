"""Correction orders (责令限期改正, Art. 26): the bureau orders, the owner answers, the bureau decides; a
rejected or missed correction disqualifies the owner and takes the credits back, with a public notice."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import Field, StringConstraints

from api.answers.corrections import CorrectionOrderOut, correction_out
from api.deps import PUBLIC, Services, allow, get_services
from api.exchange.routing import withdraw_batch_from_market, withdraw_from_market
from api.schemas import NoControl, PageOut, PathId, QueryId, Sha256, Strict, page_out, page_params
from registry.principals import Principal
from registry.services import corrections
from rules import corrections as correction_rules

router = APIRouter(tags=["correction orders"])


class CorrectionOrderIn(Strict):
    finding: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=4000), NoControl] = \
        Field(description="What is false or missing in the material, and what must be corrected.")
    deadline_days: int = Field(ge=0, le=3650, description=(
        f"Whole days after today to answer ({correction_rules.MIN_DEADLINE_DAYS}–"
        f"{correction_rules.MAX_DEADLINE_DAYS}; outside that range refused with JX-26)."))


class CorrectionResponseIn(Strict):
    explanation: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=4000),
                           NoControl]
    documents: list[Sha256] = Field(default_factory=list, max_length=20,
                                    description="The corrected material, uploaded first.")


class CorrectionDecisionIn(Strict):
    decision: Literal["accept", "reject", "lapse"]
    comment: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=1500), NoControl]
    notice: Annotated[str, StringConstraints(strip_whitespace=True, max_length=3500), NoControl] = Field(
        default="", description="The public notice (公开通报); needed to reject or find the deadline passed.")


@router.post("/batches/{batch_id}/corrections", status_code=201, response_model=CorrectionOrderOut)
def order_correction(batch_id: PathId, body: CorrectionOrderIn, principal: Principal = Depends(allow("bureau")),
                     services: Services = Depends(get_services)) -> CorrectionOrderOut:
    """Order the batch's owner to correct false material within a deadline (责令限期改正, Art. 26)."""
    with services.registry.uow(principal) as uow:
        order = corrections.order_correction(uow, principal, batch_id, finding=body.finding,
                                             deadline_days=body.deadline_days)
        return correction_out(order, principal)


@router.post("/corrections/{order_id}/response", response_model=CorrectionOrderOut)
def respond_to_correction(order_id: PathId, body: CorrectionResponseIn, principal: Principal = Depends(allow("owner")),
                          services: Services = Depends(get_services)) -> CorrectionOrderOut:
    """The owner answers with corrected material, up to and including the deadline."""
    with services.registry.uow(principal) as uow:
        order = corrections.respond_to_order(uow, principal, order_id, explanation=body.explanation,
                                             document_digests=body.documents)
        return correction_out(order, principal)


@router.post("/corrections/{order_id}/decision", response_model=CorrectionOrderOut)
def decide_correction(order_id: PathId, body: CorrectionDecisionIn, principal: Principal = Depends(allow("bureau")),
                      services: Services = Depends(get_services)) -> CorrectionOrderOut:
    """Accept the corrected material (closed), reject it, or find the deadline passed unanswered (`lapse`, from
    the day after the deadline): the last two disqualify the owner, take the credits back and withdraw
    everything the owner has on the exchange; the batch is frozen first and whatever holds its credits on
    the exchange withdrawn, so that every unretired tonne is taken back (503 while a book does not answer)."""
    with services.registry.uow(principal) as uow:
        frozen = corrections.freeze_for_sanction(uow, principal, order_id, decision=body.decision,
                                                 notice=body.notice)
    if frozen is not None:
        withdraw_batch_from_market(services.exchange, principal, frozen)
    with services.registry.uow(principal) as uow:
        decided = corrections.decide_order(uow, principal, order_id, decision=body.decision, comment=body.comment,
                                           notice=body.notice)
        answer, owner_id = correction_out(decided.order, principal), decided.order.participant_id
    if decided.disqualified:
        withdraw_from_market(services.exchange, principal, owner_id)
    return answer


@router.get("/corrections", response_model=PageOut[CorrectionOrderOut])
def list_corrections(status: Literal["ordered", "responded", "accepted", "rejected", "lapsed", "superseded"]
                     | None = None, batch_id: QueryId = None, page: tuple[int, int] = Depends(page_params),
                     viewer: Principal | None = Depends(PUBLIC),
                     services: Services = Depends(get_services)) -> PageOut[CorrectionOrderOut]:
    """Correction orders: the public sees those that ended in disqualification (the public notice); the
    owner also its own; the bureau all."""
    with services.registry.uow(viewer) as uow:
        result = corrections.list_orders(uow, viewer, status=status, batch_id=batch_id, offset=page[0],
                                         limit=page[1])
        return page_out(result, lambda o: correction_out(o, viewer))


@router.get("/corrections/{order_id}", response_model=CorrectionOrderOut)
def get_correction(order_id: PathId, viewer: Principal | None = Depends(PUBLIC),
                   services: Services = Depends(get_services)) -> CorrectionOrderOut:
    with services.registry.uow(viewer) as uow:
        return correction_out(corrections.get_visible(uow, viewer, order_id), viewer)
