"""Key parameters as the API answers them (Art. 11): a version with its source and period, a parameter with
its history."""

from __future__ import annotations

from pydantic import BaseModel

from registry.orm import Parameter, ParameterVersion


class VersionOut(BaseModel):
    id: int
    parameter_code: str
    version: int
    value: str
    source: str
    effective_from: str
    effective_to: str | None
    status: str
    notice_end: str | None


class ParameterOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    unit: str
    versions: list[VersionOut]


def version_out(v: ParameterVersion) -> VersionOut:
    return VersionOut(id=v.id, parameter_code=v.parameter_code, version=v.version, value=format(v.value, "f"),
                      source=v.source, effective_from=v.effective_from.isoformat(),
                      effective_to=v.effective_to.isoformat() if v.effective_to else None, status=v.status,
                      notice_end=v.notice_end.isoformat() if v.notice_end else None)


def parameter_out(p: Parameter, versions: list[ParameterVersion]) -> ParameterOut:
    return ParameterOut(code=p.code, name_zh=p.name_zh, name_en=p.name_en, unit=p.unit,
                        versions=[version_out(v) for v in versions])
