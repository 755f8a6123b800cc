"""The modules people navigate between. A module shows as a link once its router is mounted."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NavItem:
    key: str
    path: str
    zh: str
    en: str
    summary_zh: str
    summary_en: str


MODULES: tuple[NavItem, ...] = (
    NavItem(
        "catalog",
        "/catalog",
        "数据目录",
        "Data catalog",
        "公共数据资源目录、数据资产登记与评估",
        "Public data-resource catalog, data-asset registration and valuation",
    ),
    NavItem(
        "channel",
        "/channel",
        "数据通道",
        "Data channel",
        "金融、医疗等专区，数据产品“可用不可见”",
        "Thematic zones and data products, usable but not visible",
    ),
    NavItem(
        "approval",
        "/approval",
        "智慧审批",
        "Smart approval",
        "表单智能预填、材料预审、电子印章与授权",
        "Pre-filled forms, material pre-checks, e-seals and authorisations",
    ),
    NavItem(
        "programs",
        "/hrss",
        "智慧人社",
        "Smart HR & social security",
        "政策找人、无感认证、基金风险防控",
        "Policy finds people, passive certification, fund-risk checks",
    ),
    NavItem(
        "enterprise",
        "/enterprise",
        "企业服务",
        "Enterprise services",
        "一企一档、工业互联网平台、诉求直达、数据托管",
        "Enterprise file, industrial-internet platforms, needs, data custody",
    ),
    NavItem(
        "monitor",
        "/monitor",
        "安全监测",
        "Safety monitoring",
        "基础设施台账、传感器接入、告警与处置",
        "Infrastructure registry, sensors, alarms and incidents",
    ),
    NavItem(
        "insight",
        "/dashboard",
        "领导驾驶舱",
        "Leaders' dashboard",
        "城市运行“五张图”",
        "The city's five maps",
    ),
)
