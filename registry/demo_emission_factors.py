"""The demo emission-factor release: every value is a DEMO value, not an official one.

None of the seed texts (`/work/shared/seeds/`) prints a factor, and no value here could be checked against its
published document while this set was written, so none is presented as official: each is flagged `demo`, every
citation of it starts with "[DEMO — not an official value]", and the publisher names the demo. The bureau replaces
them by typing in the published values (for electricity, the national and provincial averages the Ministry of
Ecology and Environment and the National Bureau of Statistics announce) with their document numbers, in a new
release that goes through public notice.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from registry.services.emission_factors import FactorDraft

DEMO_PUBLISHER = "演示数据（非官方）/ demo data, not official"
DEMO_DATASET = "嘉兴碳普惠演示排放因子 / Jiaxing carbon-inclusive demo factors"
DEMO_FROM = date(2024, 1, 1)

# (code, activity, sector, unit, name_zh, name_en, region, value_kg)
_ROWS = (
    ("ELEC-GRID-CN", "electricity_grid", "energy", "kWh", "电网电力（全国，演示）", "Grid electricity (China, demo)",
     "CN", "0.5703"),
    ("ELEC-GRID-ZJ", "electricity_grid", "energy", "kWh", "电网电力（浙江，演示）", "Grid electricity (Zhejiang, demo)",
     "CN-ZJ", "0.55213"),
    ("HEAT-PURCHASED", "heat_purchased", "energy", "GJ", "外购热力（演示）", "Purchased heat (demo)", "CN", "110"),
    ("NATGAS-VENUE", "natural_gas_combustion", "energy", "m3", "天然气燃烧（演示）", "Natural gas burnt (demo)", "CN",
     "2.162"),
    ("RAIL-HSR", "rail_high_speed", "transport", "passenger-km", "高铁出行（演示）", "High-speed rail (demo)", "CN",
     "0.04137"),
    ("BUS-COACH", "bus_coach", "transport", "passenger-km", "大巴出行（演示）", "Coach travel (demo)", "CN", "0.0336"),
    ("CAR-PETROL", "car_petrol", "transport", "vehicle-km", "汽油小汽车（演示）", "Petrol car (demo)", "CN", "0.2079"),
    ("AIR-DOMESTIC", "air_domestic", "transport", "passenger-km", "国内航班（演示）", "Domestic flight (demo)", "CN",
     "0.1462"),
    ("HOTEL-NIGHT", "accommodation_room_night", "services", "room-night", "酒店住宿（演示）", "Hotel night (demo)",
     "CN", "14.7325"),
    ("MEAL", "catering_meal", "services", "meal", "餐饮（演示）", "Meal (demo)", "CN", "2.3417"),
    ("PAPER", "paper_material", "materials", "kg", "纸质物料（演示）", "Paper material (demo)", "CN", "1.24"),
    ("WASTE-LANDFILL", "waste_landfill", "waste", "kg", "垃圾填埋（演示）", "Landfilled waste (demo)", "CN", "0.562"),
)


def demo_drafts() -> list[FactorDraft]:
    """The demo release's factors, each flagged demo."""
    return [FactorDraft(code=code, activity=activity, sector=sector, unit=unit, name_zh=zh, name_en=en, region=region,
                        data_year=2022, value_kg=Decimal(value), gases={}, gwp_basis="AR5", effective_from=DEMO_FROM,
                        effective_to=None, publisher=DEMO_PUBLISHER, dataset=DEMO_DATASET, document_number=None,
                        link=None, uncertainty_pct=None, quality_flags=("demo",), demo=True)
            for code, activity, sector, unit, zh, en, region, value in _ROWS]


DEMO_RELEASE_TITLE = "演示因子库 / demo factor release (not official)"
DEMO_RELEASE_NOTE = __doc__ or ""
