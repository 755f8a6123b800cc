"""The measures of the plan map (数字青岛建设一张图, see ``shuhui.insight.measures``): the
digital infrastructure against the plan's yearly targets, the safety alarms open now, and the
digital economy. Each reads its domain's own figures (``monitor.registry.facts``,
``monitor.alarms.facts``, ``enterprise.facts``), defined as that domain's pages define them, so
a leader's figure and the registry's, the wall's or the industry bureau's console agree."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from shuhui.core.clock import format_local
from shuhui.core.display import yuan
from shuhui.core.facts import Fact
from shuhui.core.i18n import Text
from shuhui.enterprise import facts as enterprise_facts
from shuhui.insight.engine import district_name
from shuhui.insight.measures import Column, Inputs, Listing, Measure
from shuhui.monitor.alarms import facts as alarm_facts
from shuhui.monitor.alarms import service as alarms
from shuhui.monitor.registry import facts as registry_facts
from shuhui.monitor.registry import progress

# --- the digital infrastructure (monitor.registry) ---------------------------------------------


def _registry_now(code: str) -> Callable[[Inputs], list[Fact]]:
    def facts(i: Inputs) -> list[Fact]:
        return registry_facts.now(i.core, i.settings.content_dir, i.settings.city, code)

    return facts


def _attainment(i: Inputs) -> list[Fact]:
    return registry_facts.attainment(i.core, i.settings.content_dir, i.settings.city)


_REGISTRY_HOW = (
    "数字基础设施台账中截至台账最新月末在用的设施，与数字基础设施监测页面同一算法，逐区（市）计算",
    "assets in use at the end of the registry's latest month, per district, computed by the "
    "registry's own progress (the infrastructure page's figures)",
)

# --- the safety alarms now (monitor.alarms) ----------------------------------------------------

_ALARM_COLUMNS = (
    Column("code", Text("告警编号", "Alarm")),
    Column("level_name", Text("级别", "Level")),
    Column("scenario_name", Text("场景", "Scenario")),
    Column("rule_name", Text("告警规则", "Rule")),
    Column("state_name", Text("状态", "State")),
    Column("site", Text("监测对象", "Site")),
    Column("district_name", Text("区（市）", "District")),
    Column("raised_at", Text("发生时间", "Raised at")),
)


def _open_alarms(by: alarm_facts.By) -> Callable[[Inputs], list[Fact]]:
    def facts(i: Inputs) -> list[Fact]:
        return alarm_facts.open_alarms(i.db, by)

    return facts


def _alarm_listing(
    i: Inputs, start: date | None, end: date | None, district: str | None, limit: int
) -> Listing:
    # A stock: the alarms open now, whatever months the page shows.
    rows, total = alarm_facts.open_list(i.db, district=district, limit=limit)
    catalogue = alarms.catalogue(i.settings)
    shown = [
        row
        | {
            "rule_name": catalogue.rule_name(row["rule"])[0],
            "district_name": str(district_name(row["district"])),
            "raised_at": format_local(row["raised_at"]),
        }
        for row in rows
    ]
    return Listing(_ALARM_COLUMNS, shown, total, personal=False)


_ALARMS_HOW = (
    "监测告警中尚未关闭的（待确认、已确认、已派发、已处置）告警条数，按告警所在区（市）和{by}分组，"
    "与监测大屏的计数同一口径",
    "alarms not closed (raised, acknowledged, dispatched, resolved), per district and {by_en}, "
    "counted as the monitoring wall counts them",
)

# --- the digital economy (enterprise) ----------------------------------------------------------

_PROJECT_COLUMNS = (
    Column("code", Text("项目编号", "Project")),
    Column("name", Text("项目名称", "Name")),
    Column("field", Text("重点领域", "Field")),
    Column("park", Text("园区", "Park")),
    Column("district_name", Text("区（市）", "District")),
    Column("investment", Text("计划总投资（元）", "Planned investment (yuan)")),
    Column("signed_date", Text("签约日期", "Signed")),
    Column("stage", Text("当前阶段", "Stage now")),
)


def _project_listing(
    i: Inputs, start: date | None, end: date | None, district: str | None, limit: int
) -> Listing:
    rows, total = enterprise_facts.projects(
        i.core, i.settings.city_content, start=start, end=end, district=district, limit=limit
    )
    shown = [
        row
        | {
            "district_name": str(district_name(row["district"])),
            "investment": yuan(row["investment_fen"]),
            "signed_date": row["signed_date"].isoformat(),
        }
        for row in rows
    ]
    return Listing(_PROJECT_COLUMNS, shown, total, personal=False)


MEASURES: tuple[Measure, ...] = (
    Measure(
        name="monitor.registry.base_stations",
        how=Text(
            "5G基站（设施类型 5g-base-station）的个数：" + _REGISTRY_HOW[0],
            "5G base stations: " + _REGISTRY_HOW[1],
        ),
        facts=_registry_now("5g-stations"),
        tables=progress.TABLES,
        operational=False,
    ),
    Measure(
        name="monitor.registry.village_coverage",
        how=Text(
            "村委会在覆盖距离（基础设施年度目标中规定）内有在用5G基站的行政村数，"
            "除以行政村名录中的行政村总数：" + _REGISTRY_HOW[0],
            "villages with a 5G station in use within the coverage distance the yearly targets "
            "set of the village committee, over all villages: " + _REGISTRY_HOW[1],
        ),
        facts=_registry_now("5g-village-coverage"),
        tables=progress.TABLES,
        operational=False,
    ),
    Measure(
        name="monitor.registry.attainment",
        how=Text(
            "数字基础设施年度目标的每项指标，取台账最新月末的数值除以当年目标，"
            "超过100%的按100%计，再求各项的平均值；各项数值与数字基础设施监测页面一致",
            "each indicator of the plan's yearly targets: its figure at the end of the registry's "
            "latest month over the year's target, capped at 100 %, averaged over the indicators; "
            "each figure as on the infrastructure page",
        ),
        facts=_attainment,
        tables=progress.TABLES,
        operational=False,
    ),
    Measure(
        name="monitor.alarms.open_by_level",
        how=Text(_ALARMS_HOW[0].format(by="告警级别"), _ALARMS_HOW[1].format(by_en="level")),
        facts=_open_alarms("level"),
        operational=True,
        listing=_alarm_listing,
    ),
    Measure(
        name="monitor.alarms.open_by_scenario",
        how=Text(_ALARMS_HOW[0].format(by="监测场景"), _ALARMS_HOW[1].format(by_en="scenario")),
        facts=_open_alarms("scenario"),
        operational=True,
        listing=_alarm_listing,
    ),
    Measure(
        name="enterprise.industry.revenue",
        how=Text(
            "数字经济核心产业企业月度主营业务收入按月份、重点领域求和，"
            "区（市）取企业登记的所在区（市）",
            "monthly revenue of the digital economy's core enterprises, summed by month and key "
            "field; the district is the enterprise's",
        ),
        facts=lambda i: enterprise_facts.revenue(i.core),
        tables=enterprise_facts.REVENUE_TABLES,
        operational=False,
    ),
    Measure(
        name="enterprise.industry.revenue_growth",
        how=Text(
            "统计期内各月主营业务收入之和，与上年同月之和相比的增减幅度；只计上年同月已有数据的月份。"
            "统计期取当年1月至最新月份时，即工信局产业看板的“当年累计同比增长”",
            "the months' revenue against the same months a year before, for months whose month a "
            "year before is held; over January to the latest month, the console's year-so-far "
            "growth",
        ),
        facts=lambda i: enterprise_facts.revenue_growth(i.core),
        tables=enterprise_facts.REVENUE_TABLES,
        operational=False,
    ),
    Measure(
        name="enterprise.industry.investment",
        how=Text(
            "数字经济重点项目库中统计期内签约项目的计划总投资，按签约月份、"
            "项目所在区（市）和项目目前到达的阶段（签约、开工、竣工、投产）求和",
            "planned investment of the projects signed in the period, by month of signing, the "
            "project's district and the furthest stage it has reached",
        ),
        facts=lambda i: enterprise_facts.investment(i.core),
        tables=enterprise_facts.PROJECT_TABLES,
        operational=False,
        listing=_project_listing,
    ),
    Measure(
        name="enterprise.industry.enablement",
        how=Text(
            "统计期内首次获工业互联网平台赋能的企业数，除以同期的目标进度："
            "年度目标按本市实有企业数折算（与工信局产业看板相同），按各区（市）存续企业占比分到各区、"
            "按月平均分到各月",
            "enterprises enabled for the first time in the period, over the target for the same "
            "months: the year's target scaled to this city as on the console, shared out to the "
            "districts by their enterprises in business and evenly to the months",
        ),
        facts=lambda i: enterprise_facts.enablement(i.core, i.settings.city_content),
        tables=enterprise_facts.ENABLEMENT_TABLES,
        operational=False,
    ),
)
