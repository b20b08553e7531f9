"""The bureau's rulings on objections lodged during a public notice, whatever the subject. `rule` is the
bureau's use case and commits once, at its end."""

from __future__ import annotations

from registry.errors import NotFound
from registry.orm import Objection
from registry.pagination import Page
from registry.principals import Principal
from registry.repositories import filings as filing_repository
from registry.repositories import methodologies as methodology_repository
from registry.repositories import objections as repository
from registry.repositories import parameters as parameter_repository
from registry.services import emission_factors, filings, methodologies, reviews
from registry.unit_of_work import UnitOfWork


def rule(uow: UnitOfWork, principal: Principal, objection_id: int, *, uphold: bool, ruling: str) -> Objection:
    """Dismiss an objection, or uphold it and so reject what it objected to."""
    objection = reviews.get_objection(uow, objection_id)
    subject = None
    if objection.subject_type == "methodology_version":
        version = methodology_repository.version(uow.session, objection.subject_id, for_update=True)
        if version is None:
            raise NotFound("The objection's subject is gone.", "异议对象不存在。")
        subject = methodologies.subject(version)
    elif objection.subject_type == "filing":
        filing = filing_repository.filing(uow.session, objection.subject_id, for_update=True)
        if filing is None:
            raise NotFound("The objection's subject is gone.", "异议对象不存在。")
        subject = filings.subject(filing)
        if uphold:
            filings.release_assets(uow, filing.id)
    elif objection.subject_type == "parameter_version" and uphold:
        parameter_version = parameter_repository.version(uow.session, objection.subject_id, for_update=True)
        if parameter_version is not None and parameter_version.status == "public_notice":
            parameter_version.status = "rejected"
            uow.audit("parameter.version_rejected", "parameter_version", parameter_version.id,
                      {"objection_id": objection.id, "ruling": ruling})
    elif objection.subject_type == "factor_release" and uphold:
        emission_factors.reject_on_objection(uow, objection.subject_id, objection.id, ruling)
    ruled = reviews.rule_on_objection(uow, principal, objection, subject, uphold=uphold, ruling=ruling)
    uow.commit()
    return ruled


def list_objections(uow: UnitOfWork, status: str | None, offset: int, limit: int) -> Page[Objection]:
    return repository.objection_page(uow.session, status, offset, limit)
