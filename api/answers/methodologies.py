"""Methodologies as the API answers them: a version with its review steps open to the caller, a methodology
with its versions, and a calculation with its trace."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from registry.orm import Methodology, MethodologyVersion
from registry.principals import Principal
from registry.services.methodologies import CalculationResult
from rules import review_flow


class VersionOut(BaseModel):
    id: int
    methodology_id: int
    code: str
    title_zh: str
    title_en: str
    field: str
    version: int
    status: str
    submitted_at: str
    notice_start: str | None
    notice_end: str | None
    registered_at: str | None
    rejection_reason: str | None
    definition: dict[str, Any]
    allowed_actions: list[str] = Field(default_factory=list,
                                       description="The review steps the caller's roles may take now.")


class MethodologyOut(BaseModel):
    id: int
    code: str
    title_zh: str
    title_en: str
    field: str
    versions: list[VersionOut]


class TraceLineOut(BaseModel):
    name: str
    label_zh: str
    label_en: str
    unit: str
    expression: str
    substituted: str
    value: str


class ParameterUsedOut(BaseModel):
    code: str
    version: int
    value: str
    source: str


class CalculationOut(BaseModel):
    result: str
    on: str
    trace: list[TraceLineOut]
    parameters: list[ParameterUsedOut]


def version_out(methodology: Methodology, version: MethodologyVersion, viewer: Principal | None = None) -> VersionOut:
    actions: list[str] = []
    if viewer is not None:
        for role in sorted(viewer.roles):
            actions += review_flow.allowed_actions(review_flow.METHODOLOGY_FLOW, version.status, role)
    return VersionOut(
        id=version.id, methodology_id=methodology.id, code=methodology.code, title_zh=methodology.title_zh,
        title_en=methodology.title_en, field=methodology.field, version=version.version, status=version.status,
        submitted_at=version.submitted_at.isoformat(),
        notice_start=version.notice_start.isoformat() if version.notice_start else None,
        notice_end=version.notice_end.isoformat() if version.notice_end else None,
        registered_at=version.registered_at.isoformat() if version.registered_at else None,
        rejection_reason=version.rejection_reason, definition=version.definition, allowed_actions=actions,
    )


def methodology_out(methodology: Methodology, versions: list[MethodologyVersion],
                    viewer: Principal | None) -> MethodologyOut:
    return MethodologyOut(id=methodology.id, code=methodology.code, title_zh=methodology.title_zh,
                          title_en=methodology.title_en, field=methodology.field,
                          versions=[version_out(methodology, v, viewer) for v in versions])


def calculation_out(result: CalculationResult) -> CalculationOut:
    calc = result.calculation
    return CalculationOut(
        result=format(calc.result, "f"),
        on=result.on.isoformat(),
        trace=[TraceLineOut(name=t.name, label_zh=t.label_zh, label_en=t.label_en, unit=t.unit,
                            expression=t.expression, substituted=t.substituted, value=format(t.value, "f"))
               for t in calc.trace],
        parameters=[ParameterUsedOut(code=c, version=v.version, value=format(v.value, "f"), source=v.source)
                    for c, v in sorted(result.parameter_versions.items())],
    )
