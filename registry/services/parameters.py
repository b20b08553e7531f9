"""Key parameters (emission factors and the like), versioned with source and effective period (Art. 11).

The bureau's use cases (`propose_parameter`, `propose_version`, `publish_version`) and an objection
(`lodge_objection`) commit their unit of work once, at their end; the other functions are steps and never commit."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

from registry.errors import NotFound, RuleViolation, StateConflict
from registry.orm import Objection, Parameter, ParameterVersion
from registry.repositories import objections as objection_repository
from registry.repositories import parameters as repository
from registry.services import reviews
from registry.services.rule_sets import rule_set_in_force
from registry.unit_of_work import UnitOfWork
from rules.violations import Violation


def create_parameter(uow: UnitOfWork, *, code: str, name_zh: str, name_en: str, unit: str) -> Parameter:
    if repository.parameter(uow.session, code) is not None:
        raise StateConflict(f"Parameter {code} already exists.", f"参数 {code} 已存在。")
    parameter = Parameter(code=code, name_zh=name_zh, name_en=name_en, unit=unit, created_at=uow.now())
    uow.session.add(parameter)
    uow.session.flush()
    uow.audit("parameter.created", "parameter", code, {"name_zh": name_zh, "name_en": name_en, "unit": unit})
    return parameter


def get_parameter(uow: UnitOfWork, code: str) -> Parameter:
    parameter = repository.parameter(uow.session, code)
    if parameter is None:
        raise NotFound(f"Parameter {code} not found.", f"未找到参数 {code}。")
    return parameter


def add_version(
    uow: UnitOfWork,
    *,
    code: str,
    value: Decimal,
    source: str,
    effective_from: date,
    effective_to: date | None,
    notice_days: int | None,
) -> ParameterVersion:
    """A new value for a parameter. With notice_days it goes to public notice (Art. 11: updated and
    re-published); without, it is recorded as already published by its source (importing history)."""
    get_parameter(uow, code)
    if effective_to is not None and effective_to < effective_from:
        raise RuleViolation([Violation("JX-11", "Art. 11", "effective_to", "失效日期早于生效日期。",
                                       "effective_to is before effective_from.")])
    last = repository.last_version_number(uow.session, code)
    version = ParameterVersion(
        parameter_code=code,
        version=last + 1,
        value=value,
        source=source,
        effective_from=effective_from,
        effective_to=effective_to,
        status="public_notice" if notice_days else "published",
        notice_end=uow.today() + timedelta(days=notice_days) if notice_days else None,
        created_by=uow.actor.user_id if uow.actor else None,
        created_at=uow.now(),
    )
    uow.session.add(version)
    uow.session.flush()
    uow.audit("parameter.version_added", "parameter_version", version.id,
              {"parameter": code, "version": version.version, "value": value, "source": source,
               "effective_from": effective_from, "effective_to": effective_to, "status": version.status,
               "notice_end": version.notice_end})
    return version


def publish_version(uow: UnitOfWork, version_id: int) -> ParameterVersion:
    """Publish a parameter version after its public notice ended with no open objection (bureau)."""
    version = repository.version(uow.session, version_id, for_update=True)
    if version is None:
        raise NotFound(f"Parameter version {version_id} not found.", f"未找到参数版本 {version_id}。")
    if version.status != "public_notice":
        raise StateConflict(f"Parameter version is {version.status}, not in public notice.",
                            f"参数版本状态为 {version.status}，不在公示期。")
    assert version.notice_end is not None
    if uow.today() <= version.notice_end:
        raise RuleViolation([Violation("JX-11", "Art. 11", None,
                                       f"公示期至 {version.notice_end} 结束，之后方可发布。",
                                       f"The public notice runs until {version.notice_end}; publish after it.")])
    if objection_repository.open_objection_count(uow.session, "parameter_version", version_id):
        raise StateConflict("Open objections must be ruled on first.", "存在未处理的异议，须先处理。")
    version.status = "published"
    uow.audit("parameter.version_published", "parameter_version", version_id,
              {"parameter": version.parameter_code, "version": version.version})
    uow.commit()
    return version


def versions_in_force(uow: UnitOfWork, codes: Iterable[str], on: date) -> dict[str, ParameterVersion]:
    """For each code the published version in force on `on` (the newest version wins an overlap)."""
    codes = list(codes)
    chosen: dict[str, ParameterVersion] = {}
    for row in repository.published_versions_on(uow.session, codes, on):
        chosen[row.parameter_code] = row
    missing = [c for c in codes if c not in chosen]
    if missing:
        raise RuleViolation([
            Violation("JX-11", "Art. 11", f"parameters.{c}",
                      f"参数 {c} 在 {on} 没有已发布的有效取值。",
                      f"Parameter {c} has no published value in force on {on}.")
            for c in missing
        ])
    return chosen


def history(uow: UnitOfWork, code: str, include_unpublished: bool) -> list[ParameterVersion]:
    """A parameter's versions, oldest first: those published or in notice, or all of them."""
    return repository.versions_of(uow.session, code,
                                  states=None if include_unpublished else ("published", "public_notice"))


def list_parameters(uow: UnitOfWork) -> list[Parameter]:
    return repository.parameters(uow.session)


def propose_parameter(uow: UnitOfWork, *, code: str, name_zh: str, name_en: str, unit: str, value: Decimal,
                      source: str, effective_from: date, effective_to: date | None) -> Parameter:
    """The bureau creates a parameter; its first value goes to public notice like every later one."""
    notice_days = rule_set_in_force(uow, uow.today()).notice_days
    parameter = create_parameter(uow, code=code, name_zh=name_zh, name_en=name_en, unit=unit)
    add_version(uow, code=code, value=value, source=source, effective_from=effective_from,
                effective_to=effective_to, notice_days=notice_days)
    uow.commit()
    return parameter


def propose_version(uow: UnitOfWork, *, code: str, value: Decimal, source: str, effective_from: date,
                    effective_to: date | None) -> ParameterVersion:
    """The bureau updates a parameter (Art. 11): a new version, in public notice first."""
    notice_days = rule_set_in_force(uow, uow.today()).notice_days
    version = add_version(uow, code=code, value=value, source=source, effective_from=effective_from,
                          effective_to=effective_to, notice_days=notice_days)
    uow.commit()
    return version


def lodge_objection(uow: UnitOfWork, version_id: int, *, objector_name: str, objector_contact: str,
                    text: str) -> Objection:
    """Anyone objects to a parameter value during its public notice."""
    version = repository.version(uow.session, version_id, for_update=True)
    if version is None or version.status == "rejected":
        raise NotFound(f"Parameter version {version_id} not found.", f"未找到参数版本 {version_id}。")
    objection = reviews.lodge_objection(uow, "parameter_version", version.id, version.status, version.notice_end,
                                        objector_name=objector_name, objector_contact=objector_contact, text=text)
    uow.commit()
    return objection
