"""Two real demo methodologies and their published parameters, as pure data (no imports from the registry).

The registry loads them as demo data: each methodology is an executable calculation table (Art. 14) over named
monitoring inputs and versioned parameters (Art. 11). Every parameter value cites the public document it comes
from; where we are not sure of a figure or a document number the comment says so. Values are strings so that
they become Decimals without passing through float.

Conservativeness (Art. 28) runs through the choices: baselines use the lower of the plausible values, and the
last step of each table is ``max(..., 0)`` so a reduction is never negative.
"""

from __future__ import annotations

from typing import Any

# --- parameters (Art. 11: key parameters from national published data, versioned) ----------------------

PARAMETERS: list[dict[str, Any]] = [
    {
        "code": "EF_GRID_CN",
        "name_zh": "全国电网平均二氧化碳排放因子",
        "name_en": "National average grid CO2 emission factor (China)",
        "unit": "tCO2/MWh",
        "versions": [
            {
                # 环办气候函〔2022〕111号 (MEE General Office, March 2022): the national grid average factor
                # for enterprise emission reports was lowered from 0.6101 to 0.5810 tCO2/MWh. The brief
                # attributed 0.5810 to "a 2023 notice"; to our knowledge it is this 2022 notice (doubt: not
                # re-checked against the original text). Applied from the earliest reduction date to 2022.
                "value": "0.5810",
                "source": (
                    "生态环境部办公厅《关于做好2022年企业温室气体排放报告管理相关重点工作的通知》"
                    "（环办气候函〔2022〕111号）：全国电网平均排放因子 0.5810 tCO2/MWh / MEE General Office "
                    "notice Huan Ban Qi Hou Han [2022] No. 111: national grid average emission factor "
                    "0.5810 tCO2/MWh"
                ),
                "effective_from": "2020-09-22",
                "effective_to": "2022-12-31",
            },
            {
                # 环办气候函〔2023〕43号 (MEE General Office, February 2023): the 2022 national grid average
                # factor, 0.5703 tCO2/MWh. The brief attributed 0.5703 to "an MEE announcement of 2024"; the
                # 2024 MEE/NBS announcements (公告2024年第12号 for 2021, and the December 2024 one for 2022)
                # publish a differently defined "national average electricity CO2 factor" (about 0.5568 and
                # 0.5366 as we recall, unverified here) and are NOT the source of 0.5703.
                "value": "0.5703",
                "source": (
                    "生态环境部办公厅《关于做好2023—2025年发电行业企业温室气体排放报告管理有关工作的通知》"
                    "（环办气候函〔2023〕43号）：2022年度全国电网平均排放因子 0.5703 tCO2/MWh / MEE General "
                    "Office notice Huan Ban Qi Hou Han [2023] No. 43: 2022 national grid average emission "
                    "factor 0.5703 tCO2/MWh"
                ),
                "effective_from": "2023-01-01",
                "effective_to": None,
            },
        ],
    },
    {
        "code": "FUEL_CAR_L_PER_100KM",
        "name_zh": "基准燃油乘用车百公里油耗",
        "name_en": "Baseline petrol passenger car fuel consumption",
        "unit": "L/100km",
        "versions": [
            {
                # The 2020 national fleet-average target for NEW passenger cars (NEDC cycle). Real on-road
                # consumption of the petrol cars an electric car replaces is higher (typically 6-8 L/100 km),
                # so the target is a deliberately low, conservative baseline (Art. 28). The per-model limits
                # of GB 19578-2021 (by curb mass) would be the next refinement.
                "value": "5.0",
                "source": (
                    "国务院《节能与新能源汽车产业发展规划（2012—2020年）》及 GB 27999-2014："
                    "到2020年当年生产的乘用车平均燃料消耗量降至 5.0 升/百公里（取低值，保守性） / "
                    "State Council Energy-Saving and "
                    "New Energy Vehicle Industry Plan 2012-2020 and GB 27999-2014: 2020 new passenger car "
                    "fleet-average target 5.0 L/100 km (a low, conservative baseline)"
                ),
                "effective_from": "2020-09-22",
                "effective_to": None,
            },
        ],
    },
    {
        "code": "GASOLINE_DENSITY_KG_PER_L",
        "name_zh": "车用汽油密度",
        "name_en": "Motor gasoline density",
        "unit": "kg/L",
        "versions": [
            {
                # GB 17930-2016 allows 720-775 kg/m3 at 20 °C for motor gasoline; the lower bound is the
                # conservative choice. (Doubt: the range is quoted from memory of the standard's table.)
                "value": "0.72",
                "source": (
                    "GB 17930-2016《车用汽油》：20℃密度 720–775 kg/m³，取下限（保守性） / "
                    "GB 17930-2016 Motor gasoline: density at 20 °C 720-775 kg/m3, "
                    "lower bound taken (conservative)"
                ),
                "effective_from": "2020-09-22",
                "effective_to": None,
            },
        ],
    },
    {
        "code": "GASOLINE_NCV_TJ_PER_GG",
        "name_zh": "车用汽油低位发热量",
        "name_en": "Motor gasoline net calorific value",
        "unit": "TJ/Gg",
        "versions": [
            {
                "value": "44.3",
                "source": (
                    "IPCC 2006 国家温室气体清单指南 第2卷第1章 表1.2：车用汽油低位发热量缺省值 44.3 TJ/Gg / "
                    "2006 IPCC Guidelines for National Greenhouse Gas Inventories, Vol. 2 Ch. 1 Table 1.2: "
                    "motor gasoline default NCV 44.3 TJ/Gg"
                ),
                "effective_from": "2020-09-22",
                "effective_to": None,
            },
        ],
    },
    {
        "code": "GASOLINE_EF_TCO2_PER_TJ",
        "name_zh": "车用汽油二氧化碳排放因子",
        "name_en": "Motor gasoline CO2 emission factor",
        "unit": "tCO2/TJ",
        "versions": [
            {
                # 69,300 kg/TJ is the IPCC default (95% range 67,500-73,000). CH4 and N2O from the baseline
                # car are left out, which also under-counts the baseline (conservative).
                "value": "69.3",
                "source": (
                    "IPCC 2006 国家温室气体清单指南 第2卷第3章 表3.2.1："
                    "车用汽油 CO2 缺省排放因子 69 300 kg/TJ / "
                    "2006 IPCC Guidelines, Vol. 2 Ch. 3 Table 3.2.1: motor gasoline default CO2 emission "
                    "factor 69,300 kg/TJ"
                ),
                "effective_from": "2020-09-22",
                "effective_to": None,
            },
        ],
    },
]


# --- methodologies ----------------------------------------------------------------------------------------

ROOFTOP_PV: dict[str, Any] = {
    "code": "JX-DEMO-PV-ROOFTOP",
    "title_zh": "分布式屋顶光伏发电替代电网电力碳普惠方法学（演示）",
    "title_en": "Distributed rooftop photovoltaics displacing grid electricity (demo)",
    "field": "renewable_energy",
    "description_zh": (
        "适用于嘉兴市行政区域内家庭、社区和中小微企业屋顶建设的分布式光伏。基准线情景为由电网提供同等电量；"
        "项目运行本身不产生排放。减排量 = 光伏净发电量（上网及自用）× 全国电网平均排放因子。"
        "电量以光伏发电计量表读数为准，资产标识为该电表表号。"
    ),
    "description_en": (
        "Distributed PV on the roofs of households, communities and small and micro enterprises in Jiaxing. "
        "Baseline: the grid supplies the same electricity; the PV system itself emits nothing in operation. "
        "Reduction = net PV generation (exported plus self-used) x national average grid emission factor. "
        "Generation is read from the PV generation meter, whose number is the asset identifier."
    ),
    "asset_identifier_kind": "electricity_meter_number",
    "inclusive_owner_kinds": ["individual", "household", "community", "micro", "small", "medium"],
    "inputs": [
        {
            "name": "net_generation_mwh",
            "unit": "MWh",
            "label_zh": "监测期内光伏净发电量（发电计量表读数差）",
            "label_en": "Net PV generation in the monitoring period (generation meter difference)",
        },
    ],
    "parameters": ["EF_GRID_CN"],
    "calculation": [
        {
            "name": "baseline_emissions_t",
            "expression": "net_generation_mwh * EF_GRID_CN",
            "label_zh": "基准线排放量：同等电量由电网提供时的排放",
            "label_en": "Baseline emissions: the grid supplying the same electricity",
            "unit": "tCO2",
        },
        {
            "name": "reduction_t",
            "expression": "max(baseline_emissions_t, 0)",
            "label_zh": "减排量（不为负）",
            "label_en": "Emission reduction (never negative)",
            "unit": "tCO2e",
        },
    ],
}

NEW_ENERGY_VEHICLE: dict[str, Any] = {
    "code": "JX-DEMO-NEV-PASSENGER",
    "title_zh": "纯电动乘用车替代燃油乘用车出行碳普惠方法学（演示）",
    "title_en": "Battery electric passenger cars displacing petrol cars (demo)",
    "field": "transport",
    "description_zh": (
        "适用于嘉兴市登记的个人及家庭纯电动乘用车。基准线情景为同等里程由燃油乘用车完成；项目排放为充电电量的"
        "电网排放。减排量 = 行驶里程 × 基准百公里油耗 ÷ 100 × 汽油密度 × 低位发热量 × 排放因子 − 充电电量 × "
        "电网排放因子。结构参照 T/CSAE 235-2021《电动汽车出行碳减排核算方法》（基准线排放 − 项目排放）。"
        "充电电量取充电桩电表读数（含充电损耗，保守）。资产标识为车牌号。"
    ),
    "description_en": (
        "Battery electric passenger cars of individuals and households registered in Jiaxing. Baseline: a "
        "petrol car drives the same distance; project emissions: grid emissions of the charging electricity. "
        "Reduction = distance x baseline L/100 km / 100 x gasoline density x NCV x CO2 factor - charging "
        "electricity x grid factor, following the structure of T/CSAE 235-2021 (baseline minus project "
        "emissions). Charging electricity is read at the charger meter, losses included (conservative). "
        "Asset identifier: the plate number."
    ),
    "asset_identifier_kind": "vehicle_plate_number",
    "inclusive_owner_kinds": ["individual", "household"],
    "inputs": [
        {
            "name": "distance_km",
            "unit": "km",
            "label_zh": "监测期内行驶里程（车载记录或里程表读数差）",
            "label_en": "Distance driven in the monitoring period (on-board log or odometer difference)",
        },
        {
            "name": "electricity_kwh",
            "unit": "kWh",
            "label_zh": "监测期内充电电量（充电桩电表读数）",
            "label_en": "Charging electricity in the monitoring period (charger meter readings)",
        },
    ],
    "parameters": [
        "FUEL_CAR_L_PER_100KM",
        "GASOLINE_DENSITY_KG_PER_L",
        "GASOLINE_NCV_TJ_PER_GG",
        "GASOLINE_EF_TCO2_PER_TJ",
        "EF_GRID_CN",
    ],
    "calculation": [
        {
            "name": "baseline_fuel_l",
            "expression": "distance_km * FUEL_CAR_L_PER_100KM / 100",
            "label_zh": "基准线燃油消耗量",
            "label_en": "Baseline petrol consumption",
            "unit": "L",
        },
        {
            "name": "baseline_emissions_t",
            "expression": (
                "baseline_fuel_l * GASOLINE_DENSITY_KG_PER_L * GASOLINE_NCV_TJ_PER_GG"
                " * GASOLINE_EF_TCO2_PER_TJ / 1000000"
            ),
            "label_zh": "基准线排放量：升 × 千克/升 × TJ/Gg × tCO2/TJ ÷ 10^6",
            "label_en": "Baseline emissions: L x kg/L x TJ/Gg x tCO2/TJ / 10^6",
            "unit": "tCO2",
        },
        {
            "name": "project_emissions_t",
            "expression": "electricity_kwh / 1000 * EF_GRID_CN",
            "label_zh": "项目排放量：充电电量的电网排放",
            "label_en": "Project emissions: grid emissions of the charging electricity",
            "unit": "tCO2",
        },
        {
            "name": "reduction_t",
            "expression": "max(baseline_emissions_t - project_emissions_t, 0)",
            "label_zh": "减排量（不为负）",
            "label_en": "Emission reduction (never negative)",
            "unit": "tCO2e",
        },
    ],
}

METHODOLOGIES: list[dict[str, Any]] = [ROOFTOP_PV, NEW_ENERGY_VEHICLE]
