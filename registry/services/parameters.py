"""Key parameters (emission factors and the like), versioned with source and effective period (Art. 11)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, or_, select

from registry.errors import NotFound, RuleViolation, StateConflict
from registry.orm import Objection, Parameter, ParameterVersion
from registry.unit_of_work import UnitOfWork
from rules.violations import Violation


def create_parameter(uow: UnitOfWork, *, code: str, name_zh: str, name_en: str, unit: str) -> Parameter:
    if uow.session.get(Parameter, code) is not None:
        raise StateConflict(f"Parameter {code} already exists.", f"参数 {code} 已存在。")
    parameter = Parameter(code=code, name_zh=name_zh, name_en=name_en, unit=unit, created_at=uow.now())
    uow.session.add(parameter)
    uow.session.flush()
    uow.audit("parameter.created", "parameter", code, {"name_zh": name_zh, "name_en": name_en, "unit": unit})
    return parameter


def get_parameter(uow: UnitOfWork, code: str) -> Parameter:
    parameter = uow.session.get(Parameter, code)
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
    last = uow.session.scalar(
        select(func.max(ParameterVersion.version)).where(ParameterVersion.parameter_code == code)
    )
    version = ParameterVersion(
        parameter_code=code,
        version=(last or 0) + 1,
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
    version = uow.session.get(ParameterVersion, version_id, with_for_update=True)
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
    open_objections = uow.session.scalar(
        select(func.count()).select_from(Objection).where(
            Objection.subject_type == "parameter_version", Objection.subject_id == version_id,
            Objection.status == "open")
    )
    if open_objections:
        raise StateConflict("Open objections must be ruled on first.", "存在未处理的异议，须先处理。")
    version.status = "published"
    uow.audit("parameter.version_published", "parameter_version", version_id,
              {"parameter": version.parameter_code, "version": version.version})
    return version


def versions_in_force(uow: UnitOfWork, codes: Iterable[str], on: date) -> dict[str, ParameterVersion]:
    """For each code the published version in force on `on` (the newest version wins an overlap)."""
    codes = list(codes)
    rows = uow.session.scalars(
        select(ParameterVersion)
        .where(
            ParameterVersion.parameter_code.in_(codes),
            ParameterVersion.status == "published",
            ParameterVersion.effective_from <= on,
            or_(ParameterVersion.effective_to.is_(None), ParameterVersion.effective_to >= on),
        )
        .order_by(ParameterVersion.parameter_code, ParameterVersion.version)
    )
    chosen: dict[str, ParameterVersion] = {}
    for row in rows:
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
    query = select(ParameterVersion).where(ParameterVersion.parameter_code == code)
    if not include_unpublished:
        query = query.where(ParameterVersion.status.in_(("published", "public_notice")))
    return list(uow.session.scalars(query.order_by(ParameterVersion.version)))


def list_parameters(uow: UnitOfWork) -> list[Parameter]:
    return list(uow.session.scalars(select(Parameter).order_by(Parameter.code)))
