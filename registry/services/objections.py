"""The bureau's rulings on objections lodged during a public notice, whatever the subject."""

from __future__ import annotations

from sqlalchemy import select

from registry.errors import NotFound
from registry.orm import Filing, MethodologyVersion, Objection, ParameterVersion
from registry.pagination import Page, paginate
from registry.principals import Principal
from registry.services import emission_factors, filings, methodologies, reviews
from registry.unit_of_work import UnitOfWork


def rule(uow: UnitOfWork, principal: Principal, objection_id: int, *, uphold: bool, ruling: str) -> Objection:
    """Dismiss an objection, or uphold it and so reject what it objected to."""
    objection = reviews.get_objection(uow, objection_id)
    subject = None
    if objection.subject_type == "methodology_version":
        version = uow.session.get(MethodologyVersion, objection.subject_id, with_for_update=True)
        if version is None:
            raise NotFound("The objection's subject is gone.", "异议对象不存在。")
        subject = methodologies.subject(version)
    elif objection.subject_type == "filing":
        filing = uow.session.get(Filing, objection.subject_id, with_for_update=True)
        if filing is None:
            raise NotFound("The objection's subject is gone.", "异议对象不存在。")
        subject = filings.subject(filing)
        if uphold:
            filings.release_assets(uow, filing.id)
    elif objection.subject_type == "parameter_version" and uphold:
        parameter_version = uow.session.get(ParameterVersion, objection.subject_id, with_for_update=True)
        if parameter_version is not None and parameter_version.status == "public_notice":
            parameter_version.status = "rejected"
            uow.audit("parameter.version_rejected", "parameter_version", parameter_version.id,
                      {"objection_id": objection.id, "ruling": ruling})
    elif objection.subject_type == "factor_release" and uphold:
        emission_factors.reject_on_objection(uow, objection.subject_id, objection.id, ruling)
    return reviews.rule_on_objection(uow, principal, objection, subject, uphold=uphold, ruling=ruling)


def list_objections(uow: UnitOfWork, status: str | None, offset: int, limit: int) -> Page[Objection]:
    query = select(Objection)
    if status:
        query = query.where(Objection.status == status)
    return paginate(uow.session, query.order_by(Objection.id.desc()), offset, limit)
