"""The review flow shared by methodologies (Art. 10) and reduction filings (Art. 17): each step by its
role, with comments, a public notice (公示) with objections the bureau rules on, then registration."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from registry.errors import NotFound, RuleViolation, StateConflict
from registry.orm import Filing, MethodologyVersion, Objection, ReviewAction
from registry.principals import Principal
from registry.repositories import methodologies as methodology_repository
from registry.repositories import objections as objection_repository
from registry.repositories import reviews as repository
from registry.unit_of_work import UnitOfWork
from rules import duties, review_flow
from rules.violations import Violation


class Reviewable(Protocol):
    """What the flow needs of a reviewed row (a methodology version, a filing)."""

    id: Any
    status: Any
    notice_start: Any
    notice_end: Any
    rejection_reason: Any


@dataclass(frozen=True, slots=True)
class Subject:
    kind: str  # "methodology_version", "filing": the subject_type stored with actions and objections
    flow: review_flow.Flow
    row: Reviewable


def open_objection_count(uow: UnitOfWork, subject_type: str, subject_id: int) -> int:
    return objection_repository.open_objection_count(uow.session, subject_type, subject_id)


def interested_parties(uow: UnitOfWork, subject: Subject) -> set[int]:
    """The organisations with a stake in the subject: a filing's owner; a methodology version's proposer and
    the organisation that submitted the version."""
    row = subject.row
    if subject.kind == "filing" and isinstance(row, Filing):
        return {row.owner_participant_id}
    if subject.kind == "methodology_version" and isinstance(row, MethodologyVersion):
        parties = set()
        methodology = methodology_repository.methodology(uow.session, row.methodology_id)
        if methodology is not None:
            parties.add(methodology.proposer_participant_id)
        submitter = methodology_repository.submitting_organisation(uow.session, row)
        if submitter is not None:
            parties.add(submitter)
        return parties
    return set()


_OBJECTION_STEPS = {"filing": duties.FILING_OBJECTION, "methodology_version": duties.METHODOLOGY_OBJECTION}
_REVIEW_STEPS = {"filing": duties.FILING_REVIEW, "methodology_version": duties.METHODOLOGY_REVIEW}


def require_independent(uow: UnitOfWork, principal: Principal, subject: Subject, action: str) -> None:
    """Separation of duties: refuse a step on what the principal's own organisation filed or proposed."""
    if action == "issue":
        step = duties.ISSUE
    elif action == "uphold_objection":
        step = _OBJECTION_STEPS[subject.kind]
    else:
        step = _REVIEW_STEPS[subject.kind]
    problems = duties.check_own_interest(step, principal.participant_id, interested_parties(uow, subject))
    if problems:
        raise RuleViolation(problems)


def apply_action(uow: UnitOfWork, principal: Principal, subject: Subject, action: str, comment: str,
                 notice_days: int) -> str:
    """Move the subject one step along its flow; refuse a step that is not this role's or not now."""
    row = subject.row
    state = row.status
    try:
        role = review_flow.role_for(subject.flow, state, action, principal.roles)
        new_state = review_flow.next_state(subject.flow, state, action, role)
    except review_flow.TransitionError as exc:
        raise RuleViolation(exc.violations) from exc
    require_independent(uow, principal, subject, action)
    today = uow.today()
    if new_state == "public_notice":
        row.notice_start = today
        row.notice_end = review_flow.notice_end(today, notice_days)
    if action == "register":
        problems = review_flow.check_register(row.notice_end, today)
        if problems:
            raise RuleViolation(problems)
        if open_objection_count(uow, subject.kind, row.id):
            raise StateConflict(
                "Objections lodged during the public notice must be ruled on before registration.",
                "公示期内提出的异议须先处理，方可登记。",
            )
    if new_state == "rejected":
        if not comment.strip():
            raise RuleViolation([Violation("FLOW", "Art. 10/17", "comment", "驳回须说明理由。",
                                           "A rejection must give its reasons.")])
        row.rejection_reason = comment
    row.status = new_state
    uow.session.add(ReviewAction(subject_type=subject.kind, subject_id=row.id, action=action, from_state=state,
                                 to_state=new_state, actor_user_id=principal.user_id, actor_role=role,
                                 comment=comment, at=uow.now()))
    uow.audit(f"{subject.kind}.{action}", subject.kind, row.id,
              {"from": state, "to": new_state, "role": role, "comment": comment,
               "notice_end": row.notice_end})
    return new_state


def history(uow: UnitOfWork, subject_type: str, subject_id: int) -> list[ReviewAction]:
    return repository.review_actions(uow.session, subject_type, subject_id)


def lodge_objection(uow: UnitOfWork, subject_type: str, subject_id: int, status: str, notice_end: date | None,
                    *, objector_name: str, objector_contact: str, text: str) -> Objection:
    """Anyone may object while the subject is in public notice; the contact stays with the bureau."""
    if status != "public_notice" or notice_end is None or uow.today() > notice_end:
        raise StateConflict("Objections are accepted only during the public notice period.",
                            "仅在公示期内受理异议。")
    objection = Objection(subject_type=subject_type, subject_id=subject_id, objector_name=objector_name,
                          objector_contact=objector_contact, text=text, lodged_at=uow.now(), status="open")
    uow.session.add(objection)
    uow.session.flush()
    # The objector's name and contact are kept out of the audit payload: the audit log is read more widely.
    uow.audit("objection.lodged", subject_type, subject_id, {"objection_id": objection.id})
    return objection


def get_objection(uow: UnitOfWork, objection_id: int) -> Objection:
    objection = objection_repository.objection(uow.session, objection_id, for_update=True)
    if objection is None:
        raise NotFound(f"Objection {objection_id} not found.", f"未找到异议 {objection_id}。")
    return objection


def rule_on_objection(uow: UnitOfWork, principal: Principal, objection: Objection, subject: Subject | None,
                      *, uphold: bool, ruling: str) -> Objection:
    """The bureau rules: an upheld objection rejects the subject (its flow's uphold step)."""
    if objection.status != "open":
        raise StateConflict("This objection was already ruled on.", "该异议已处理。")
    if subject is not None:
        require_independent(uow, principal, subject, "uphold_objection")
    objection.status = "upheld" if uphold else "dismissed"
    objection.ruling = ruling
    objection.ruled_by = principal.user_id
    objection.ruled_at = uow.now()
    uow.audit("objection.ruled", objection.subject_type, objection.subject_id,
              {"objection_id": objection.id, "status": objection.status, "ruling": ruling})
    if uphold and subject is not None:
        apply_action(uow, principal, subject, "uphold_objection", ruling, notice_days=0)
    return objection
