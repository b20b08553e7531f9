"""Correction orders (责令限期改正, Art. 26): the bureau orders the owner of a batch to correct false material
by a deadline; the owner answers with corrected material; the bureau accepts it (closed), or rejects it, or
finds the deadline passed unanswered, and then the owner is disqualified and the unretired credits are taken
back through the revocation machinery, with a public notice naming the order."""

from __future__ import annotations

from dataclasses import dataclass

from registry import numbering
from registry.errors import NotFound, RuleViolation
from registry.orm import Batch, CorrectionOrder
from registry.pagination import Page
from registry.principals import Principal
from registry.repositories import corrections as correction_repo
from registry.services import documents, revocations
from registry.unit_of_work import UnitOfWork
from rules import corrections, duties


def order(uow: UnitOfWork, principal: Principal, batch_id: int, *, finding: str,
          deadline_days: int) -> CorrectionOrder:
    """The bureau orders the batch's owner to correct its material within `deadline_days` (1–90)."""
    batch = revocations.lock_batch(uow, batch_id)
    owner_id = revocations.owner_of(uow, batch)
    problems = duties.check_own_interest(duties.CORRECTION, principal.participant_id, {owner_id})
    open_orders = correction_repo.open_orders_count(uow.session, batch.id)
    problems += corrections.check_order(deadline_days, open_orders=open_orders)
    if problems:
        raise RuleViolation(problems)
    today = uow.today()
    correction = CorrectionOrder(
        code=f"JXC-{today.year}-{numbering.take(uow, 'correction'):05d}", batch_id=batch.id,
        filing_id=batch.filing_id, participant_id=owner_id, finding=finding, deadline_days=deadline_days,
        ordered_on=today, deadline=corrections.deadline_of(today, deadline_days), status=corrections.ORDERED,
        ordered_by=principal.user_id, created_at=uow.now(), response_documents=[])
    uow.session.add(correction)
    uow.session.flush()
    uow.audit("correction.ordered", "correction_order", correction.id,
              {"code": correction.code, "batch_id": batch.id, "participant_id": owner_id, "finding": finding,
               "deadline_days": deadline_days, "deadline": correction.deadline})
    return correction


def _get(uow: UnitOfWork, order_id: int, for_update: bool = False) -> CorrectionOrder:
    found = correction_repo.correction_order(uow.session, order_id, for_update=for_update)
    if found is None:
        raise NotFound(f"Correction order {order_id} not found.", f"未找到责令改正 {order_id}。")
    return found


def can_see(viewer: Principal | None, correction: CorrectionOrder) -> bool:
    """The bureau and the ordered owner see an order; the public sees those that ended in a sanction (the
    public notice, 公开通报)."""
    if correction.status in corrections.SANCTIONED:
        return True
    return viewer is not None and (viewer.has("bureau") or viewer.participant_id == correction.participant_id)


def get_visible(uow: UnitOfWork, viewer: Principal | None, order_id: int) -> CorrectionOrder:
    correction = _get(uow, order_id)
    if not can_see(viewer, correction):
        raise NotFound(f"Correction order {order_id} not found.", f"未找到责令改正 {order_id}。")
    return correction


def respond(uow: UnitOfWork, principal: Principal, order_id: int, *, explanation: str,
            document_digests: list[str]) -> CorrectionOrder:
    """The owner answers with corrected material (an explanation and documents) by the deadline."""
    correction = _get(uow, order_id, for_update=True)
    if correction.participant_id != principal.participant_id:
        raise NotFound(f"Correction order {order_id} not found.", f"未找到责令改正 {order_id}。")
    problems = corrections.check_response(correction.status, correction.deadline, uow.today())
    if problems:
        raise RuleViolation(problems)
    for index, digest in enumerate(document_digests):
        documents.require_usable(uow, principal, digest, f"documents[{index}]", article="JX-26")
    correction.response = explanation
    correction.response_documents = sorted(set(document_digests))
    correction.responded_by = principal.user_id
    correction.responded_at = uow.now()
    correction.status = corrections.RESPONDED
    uow.audit("correction.responded", "correction_order", correction.id,
              {"code": correction.code, "documents": correction.response_documents})
    return correction


def decide(uow: UnitOfWork, principal: Principal, order_id: int, *, decision: str, comment: str,
           notice: str) -> CorrectionOrder:
    """The bureau accepts the corrected material (closed), rejects it, or finds the deadline passed: the last
    two disqualify the owner and take the unretired credits back, with a public notice naming the order."""
    batch, correction = _decidable(uow, principal, order_id, decision=decision, notice=notice)
    status = corrections.outcome(decision)
    correction.status = status
    correction.decision_comment = comment
    correction.decided_by = principal.user_id
    correction.decided_at = uow.now()
    if status in corrections.SANCTIONED:
        line = corrections.correction_notice_line(correction.code, correction.ordered_on, correction.deadline,
                                                  status)
        correction.notice = corrections.with_line(notice, line)
        reason = f"{correction.code} {corrections.STATUS_NAMES[status][1]}: {comment}"[:2000]
        revocation = revocations.take_back(uow, principal, batch, quantity_t=None, reason=reason,
                                           notice=correction.notice, nothing_left_ok=True)
        correction.revocation_id = revocation.id if revocation is not None else None
    uow.audit("correction.decided", "correction_order", correction.id,
              {"code": correction.code, "decision": decision, "status": status, "comment": comment,
               "notice": correction.notice, "revocation_id": correction.revocation_id})
    return correction


def _decidable(uow: UnitOfWork, principal: Principal, order_id: int, *, decision: str,
               notice: str) -> tuple[Batch, CorrectionOrder]:
    """The order's batch and the order, locked, once the decision is found allowed (else refused)."""
    batch_id = correction_repo.batch_id_of(uow.session, order_id)
    if batch_id is None:
        raise NotFound(f"Correction order {order_id} not found.", f"未找到责令改正 {order_id}。")
    batch = revocations.lock_batch(uow, batch_id)  # the batch first, as a revocation locks them
    correction = _get(uow, order_id, for_update=True)
    problems = duties.check_own_interest(duties.CORRECTION, principal.participant_id, {correction.participant_id})
    problems += corrections.check_decision(correction.status, decision, correction.deadline, uow.today(),
                                           notice=notice)
    if problems:
        raise RuleViolation(problems)
    return batch, correction


def freeze_for_sanction(uow: UnitOfWork, principal: Principal, order_id: int, *, decision: str,
                        notice: str) -> int | None:
    """Before a decision that takes the credits back (a rejection, a lapse): freeze the order's batch (see
    revocations.freeze) once the decision is found allowed, and commit, so that the exchange can withdraw
    what holds its credits before `decide_order` takes them back. The frozen batch's id (None: the decision
    takes nothing back)."""
    if corrections.outcome(decision) not in corrections.SANCTIONED:
        return None
    batch, _ = _decidable(uow, principal, order_id, decision=decision, notice=notice)
    revocations.freeze(uow, principal, batch.id)
    uow.commit()
    return batch.id


def list_orders(uow: UnitOfWork, viewer: Principal | None, *, status: str | None, batch_id: int | None,
                offset: int, limit: int) -> Page[CorrectionOrder]:
    """The bureau sees every order, an owner its own and the sanctioned ones, the public the sanctioned ones."""
    return correction_repo.orders_page(
        uow.session, visible_to_participant=viewer.participant_id if viewer is not None else None,
        everything=viewer is not None and viewer.has("bureau"), status=status, batch_id=batch_id, offset=offset,
        limit=limit)


# The use cases of the API: each commits once.

def order_correction(uow: UnitOfWork, principal: Principal, batch_id: int, *, finding: str,
                     deadline_days: int) -> CorrectionOrder:
    """Order a correction (see `order`) and commit."""
    correction = order(uow, principal, batch_id, finding=finding, deadline_days=deadline_days)
    uow.commit()
    return correction


def respond_to_order(uow: UnitOfWork, principal: Principal, order_id: int, *, explanation: str,
                     document_digests: list[str]) -> CorrectionOrder:
    """Answer a correction order (see `respond`) and commit."""
    correction = respond(uow, principal, order_id, explanation=explanation, document_digests=document_digests)
    uow.commit()
    return correction


@dataclass(frozen=True, slots=True)
class Decided:
    """A decided order, and whether the decision disqualified its owner (who must then leave the exchange)."""

    order: CorrectionOrder
    disqualified: bool


def decide_order(uow: UnitOfWork, principal: Principal, order_id: int, *, decision: str, comment: str,
                 notice: str) -> Decided:
    """Decide a correction order (see `decide`) and commit."""
    correction = decide(uow, principal, order_id, decision=decision, comment=comment, notice=notice)
    uow.commit()
    return Decided(correction, correction.status in corrections.SANCTIONED)
