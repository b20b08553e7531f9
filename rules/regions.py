"""Jiaxing's county-level divisions (Art. 12: every reduction must be produced inside the Jiaxing area).

Codes are the six-digit administrative division codes (GB/T 2260) of the Ministry of Civil Affairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class County:
    """One county-level division: its code and its names."""

    code: str
    name_zh: str
    name_en: str


JIAXING_COUNTIES: tuple[County, ...] = (
    County("330402", "南湖区", "Nanhu District"),
    County("330411", "秀洲区", "Xiuzhou District"),
    County("330421", "嘉善县", "Jiashan County"),
    County("330424", "海盐县", "Haiyan County"),
    County("330481", "海宁市", "Haining City"),
    County("330482", "平湖市", "Pinghu City"),
    County("330483", "桐乡市", "Tongxiang City"),
)

COUNTIES_BY_CODE: MappingProxyType[str, County] = MappingProxyType({c.code: c for c in JIAXING_COUNTIES})

JIAXING_COUNTY_CODES: frozenset[str] = frozenset(COUNTIES_BY_CODE)


def county(code: str) -> County | None:
    """The Jiaxing county with this code, or None."""
    return COUNTIES_BY_CODE.get(code)


def as_list() -> list[dict[str, str]]:
    """The seven counties as JSON-safe dicts, in code order."""
    return [{"code": c.code, "name_zh": c.name_zh, "name_en": c.name_en} for c in JIAXING_COUNTIES]
