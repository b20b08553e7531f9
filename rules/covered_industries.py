"""Industries under national carbon-market allowance management (Art. 13(2)), by GB/T 4754-2017 class.

Taken from annex 1 (温室气体重点排放行业及代码) of seed 001 (the Shaoxing
carbon-emission-rights plan). Its note 1 says the scope is exactly the four-digit classes of the table,
so the two- and three-digit headings (44, 30, 261, 262 ...) are not themselves codes here. Under
chemicals the annex lists the classes of groups 261, 262, 263 and 265 one by one; group 264 (coatings,
inks, pigments: 2641–2646) lies between 2611 and 2659 but is NOT in the annex, so it is not covered.
Note 2 limits biomass power (4417) to plants co-firing fossil fuel; a class code cannot tell that apart,
so 4417 is treated as covered (the conservative reading: refuse rather than admit).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType

_CLASS_CODE = re.compile(r"[0-9]{4}")


@dataclass(frozen=True, slots=True)
class CoveredIndustry:
    """One GB/T 4754-2017 four-digit class in the national carbon market's scope."""

    code: str
    name_zh: str
    name_en: str
    sector_zh: str
    sector_en: str
    note_zh: str = ""
    note_en: str = ""


_POWER = ("发电", "Power generation")
_BUILDING = ("建材", "Building materials")
_STEEL = ("钢铁", "Iron and steel")
_NONFERROUS = ("有色", "Non-ferrous metals")
_PETRO = ("石化", "Petrochemicals")
_CHEM = ("化工", "Chemicals")
_PAPER = ("造纸", "Paper")
_AVIATION = ("民航", "Civil aviation")


def _row(code: str, name_zh: str, name_en: str, sector: tuple[str, str], note_zh: str = "",
         note_en: str = "") -> CoveredIndustry:
    return CoveredIndustry(code, name_zh, name_en, sector[0], sector[1], note_zh, note_en)


COVERED_INDUSTRIES: tuple[CoveredIndustry, ...] = (
    _row("4411", "火力发电", "Thermal power generation", _POWER),
    _row("4412", "热电联产", "Combined heat and power generation", _POWER),
    _row("4417", "生物质能发电", "Biomass power generation", _POWER,
         "附件1备注2：掺烧化石燃料的生物质发电企业纳入，纯生物质发电企业不纳入。",
         "Annex 1 note 2: plants co-firing fossil fuel are covered, pure biomass plants are not."),
    _row("3011", "水泥制造", "Cement manufacturing", _BUILDING),
    _row("3041", "平板玻璃制造", "Flat glass manufacturing", _BUILDING),
    _row("3110", "炼铁", "Iron smelting", _STEEL),
    _row("3120", "炼钢", "Steelmaking", _STEEL),
    _row("3130", "钢压延加工", "Steel rolling and processing", _STEEL),
    _row("3211", "铜冶炼", "Copper smelting", _NONFERROUS),
    _row("3216", "铝冶炼", "Aluminium smelting", _NONFERROUS),
    _row("2511", "原油加工及石油制品制造", "Crude oil processing and petroleum products", _PETRO),
    _row("2611", "无机酸制造", "Inorganic acid manufacturing", _CHEM),
    _row("2612", "无机碱制造", "Inorganic alkali manufacturing", _CHEM),
    _row("2613", "无机盐制造", "Inorganic salt manufacturing", _CHEM),
    _row("2614", "有机化学原料制造", "Organic chemical raw materials manufacturing", _CHEM),
    _row("2619", "其他基础化学原料制造", "Other basic chemical raw materials manufacturing", _CHEM),
    _row("2621", "氮肥制造", "Nitrogen fertiliser manufacturing", _CHEM),
    _row("2622", "磷肥制造", "Phosphate fertiliser manufacturing", _CHEM),
    _row("2623", "钾肥制造", "Potash fertiliser manufacturing", _CHEM),
    _row("2624", "复混肥料制造", "Compound and mixed fertiliser manufacturing", _CHEM),
    _row("2625", "有机肥料及微生物肥料制造", "Organic and microbial fertiliser manufacturing", _CHEM),
    _row("2629", "其他肥料制造", "Other fertiliser manufacturing", _CHEM),
    _row("2631", "化学农药制造", "Chemical pesticide manufacturing", _CHEM),
    _row("2632", "生物化学农药及微生物农药制造", "Biochemical and microbial pesticide manufacturing", _CHEM),
    _row("2651", "初级形态塑料及合成树脂制造", "Primary plastics and synthetic resin manufacturing", _CHEM),
    _row("2652", "合成橡胶制造", "Synthetic rubber manufacturing", _CHEM),
    _row("2653", "合成纤维单（聚合）体制造", "Synthetic fibre monomer and polymer manufacturing", _CHEM),
    _row("2659", "其他合成材料制造", "Other synthetic materials manufacturing", _CHEM),
    _row("2211", "木竹浆制造", "Wood and bamboo pulp manufacturing", _PAPER),
    _row("2212", "非木竹浆制造", "Non-wood pulp manufacturing", _PAPER),
    _row("2221", "机制纸及纸板制造", "Machine-made paper and paperboard manufacturing", _PAPER),
    _row("5631", "机场", "Airports", _AVIATION),
)

COVERED_BY_CODE: MappingProxyType[str, CoveredIndustry] = MappingProxyType(
    {row.code: row for row in COVERED_INDUSTRIES}
)

COVERED_INDUSTRY_CODES: frozenset[str] = frozenset(COVERED_BY_CODE)


def is_industry_code(industry_code: str) -> bool:
    """True when the text is shaped like a GB/T 4754-2017 class code (exactly four ASCII digits)."""
    return _CLASS_CODE.fullmatch(industry_code) is not None


def is_covered(industry_code: str) -> bool:
    """True when the GB/T 4754-2017 class is under national carbon-market allowances (Art. 13(2))."""
    return industry_code.strip() in COVERED_BY_CODE


def as_list() -> list[dict[str, str]]:
    """The covered classes as JSON-safe dicts, in the annex's order."""
    return [
        {
            "code": row.code,
            "name_zh": row.name_zh,
            "name_en": row.name_en,
            "sector_zh": row.sector_zh,
            "sector_en": row.sector_en,
            "note_zh": row.note_zh,
            "note_en": row.note_en,
        }
        for row in COVERED_INDUSTRIES
    ]
