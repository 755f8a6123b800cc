"""The measures of the data-assets map (数据资产一张图, see ``shuhui.insight.measures``): the
catalog's coverage of the data core, sharing, opening and quality; the data channel's calls and
what they are billed; data assets registered and valued. Each reads its domain through that
domain's ``facts`` and ``service`` functions, never its tables.

Group codes: a providing department by its unified social credit code (``departments.yaml``), a
catalog theme by its code (``catalog-categories.yaml``), a data product by its code
(``data-products.yaml``) — every product an organisation hosts counted as one group, ``hosted``,
since those come and go at run time while an indicator names its groups in content — and an
asset by its kind. None of these figures has a district: the catalog, the channel and the
registry keep none (the data core's tables are city-wide, consumers and holders are
organisations)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date

from shuhui.assets import facts as asset_facts
from shuhui.catalog import facts as catalog_facts
from shuhui.catalog import service as catalog_service
from shuhui.channel import facts as channel_facts
from shuhui.channel.city import CityChannel, city_channel
from shuhui.core.display import NONE_SHOWN, yuan_text
from shuhui.core.facts import Fact
from shuhui.core.i18n import Text
from shuhui.insight.measures import Column, Inputs, Listing, Measure

Lister = Callable[[Inputs, date | None, date | None, str | None, int], Listing]

HOSTED = "hosted"  # the group of every product an organisation hosts


# --- the catalog -------------------------------------------------------------------------------


def _catalog(i: Inputs) -> catalog_service.CityCatalog:
    return catalog_service.city_catalog(i.settings.city_content)


ENTRY_COLUMNS = (
    Column("title", Text("数据资源", "Data resource")),
    Column("department", Text("提供部门", "Providing department")),
    Column("category", Text("主题分类", "Theme")),
    Column("share", Text("共享属性", "Sharing")),
    Column("open", Text("开放属性", "Opening")),
    Column("rows", Text("数据量（条）", "Records")),
    Column("quality", Text("质量评分", "Quality score")),
)


def _entries(*, public_only: bool = False, assessed_only: bool = False) -> Lister:
    def listing(
        i: Inputs, start: date | None, end: date | None, district: str | None, limit: int
    ) -> Listing:
        # The catalog is a stock: the months asked for do not narrow it, nor does a district
        # (the data core's tables are city-wide).
        themes = _catalog(i).categories
        found, total = catalog_facts.entries(
            i.db, public_only=public_only, assessed_only=assessed_only, limit=limit
        )
        rows = []
        for e in found:
            theme = themes.get(e.category)
            rows.append(
                {
                    "name": e.name,
                    "title": e.title,
                    "department": e.department,
                    "category": e.category if theme is None else Text(theme.name_zh, theme.name_en),
                    "share": e.share,
                    "open": e.open,
                    "rows": e.rows,
                    "quality": NONE_SHOWN if e.quality_score is None else e.quality_score,
                }
            )
        return Listing(ENTRY_COLUMNS, rows, total, personal=False)

    return listing


CATALOG = (
    Measure(
        name="catalog.coverage",
        how=Text(
            "逐一核对数据底座已发布的每张表（不含检验用的真值表），数据资源目录中有描述其当前版本的条目即为已编目；按表的提供部门统计已编目表数与表总数。",
            "Each table the data core publishes (truth tables aside) counts as catalogued when "
            "the catalog holds an entry describing its current version; catalogued tables and "
            "all tables, per providing department.",
        ),
        facts=lambda i: catalog_facts.coverage(i.db, i.core, _catalog(i)),
        tables=("*",),  # a new version of any table may be one the catalog does not describe
    ),
    Measure(
        name="catalog.resources",
        how=Text(
            "数据资源目录中的全部条目（数据资源类），含企业托管数据，按主题分类计数。",
            "Every entry (data-resource class) of the catalog, enterprises' hosted data "
            "included, counted per theme.",
        ),
        facts=lambda i: catalog_facts.by_category(i.db),
        listing=_entries(),
    ),
    Measure(
        name="catalog.shared",
        how=Text(
            "数据底座公共数据的目录条目中，共享属性为无条件共享或有条件共享的条目数，与条目总数相比，按提供部门统计。",
            "Of the catalog entries of the data core's public data, those shared "
            "unconditionally or on conditions, against all, per providing department.",
        ),
        facts=lambda i: catalog_facts.shared(i.db),
        listing=_entries(public_only=True),
    ),
    Measure(
        name="catalog.opened",
        how=Text(
            "数据底座公共数据的目录条目中，开放属性为无条件开放或有条件开放的条目数，与条目总数相比，按提供部门统计。",
            "Of the catalog entries of the data core's public data, those open or open on "
            "conditions, against all, per providing department.",
        ),
        facts=lambda i: catalog_facts.opened(i.db),
        listing=_entries(public_only=True),
    ),
    Measure(
        name="catalog.quality",
        how=Text(
            "每个公共数据集最近一次质量评估的综合得分（完整性、有效性、唯一性、一致性、及时性加权，0–100分）相加，除以已评估的数据集数，按提供部门统计；未评估的不计。",
            "The latest quality assessment's score of each public dataset (completeness, "
            "validity, uniqueness, consistency and timeliness weighted, 0–100), summed and "
            "divided by the datasets assessed, per providing department; unassessed ones "
            "left out.",
        ),
        facts=lambda i: catalog_facts.quality(i.db),
        listing=_entries(assessed_only=True),
    ),
)


# --- the data channel --------------------------------------------------------------------------


def _city(i: Inputs) -> CityChannel:
    # The city as the database holds it now: hosted products included, withdrawn ones too,
    # so every product ever called can be priced and grouped.
    return city_channel(i.settings.city_content).current(i.db)


def _by_product(city: CityChannel, facts: list[Fact]) -> list[Fact]:
    def group(code: str | None) -> str | None:
        product = None if code is None else city.products.get(code)
        return HOSTED if product is not None and product.kind == "hosted" else code

    return [replace(f, group=group(f.group)) for f in facts]


def _calls(i: Inputs) -> list[Fact]:
    return _by_product(_city(i), channel_facts.answered_calls(i.db))


def _billed(i: Inputs) -> list[Fact]:
    city = _city(i)
    return _by_product(city, channel_facts.billed(i.db, city))


CHANNEL = (
    Measure(
        name="channel.calls",
        how=Text(
            "数据通道网关计量的每次调用中，已应答的次数（拒绝的不计），按计费月份（北京时间）和数据产品统计；企业托管的数据产品合为一组。",
            "Calls the data channel's gateway metered and answered (refusals left out), per "
            "billing month (Beijing time) and data product; products enterprises host as one "
            "group.",
        ),
        facts=_calls,
    ),
    Measure(
        name="channel.revenue",
        how=Text(
            "每个调用单位每月的对账单金额：已出账的按加盖电子印章的对账单，未出账的按同一计价规则（产业用途按月累计阶梯计价，公共治理用途按其价格）计算，按月份和数据产品相加，单位为分。",
            "Each consumer's monthly statement: the sealed statement once issued, else "
            "computed by the same pricing (cumulative monthly tiers for industry use, the "
            "public-governance price otherwise), summed per month and data product, in fen.",
        ),
        facts=_billed,
    ),
)


# --- the data-asset registry -------------------------------------------------------------------

ASSET_COLUMNS = (
    Column("certificate_no", Text("登记证书编号", "Certificate no.")),
    Column("title", Text("数据资产", "Data asset")),
    Column("kind", Text("类型", "Kind")),
    Column("holder", Text("持有单位", "Holder")),
    Column("holder_code", Text("统一社会信用代码", "Credit code")),
    Column("registered_on", Text("登记日期", "Registered on")),
    Column("value", Text("评估价值（元）", "Valued at (yuan)")),
)


def _registrations(
    i: Inputs, start: date | None, end: date | None, district: str | None, limit: int
) -> Listing:
    # Holders are organisations, named as registered (a certificate is public); no district.
    found, total = asset_facts.registrations(i.db, start, end, limit=limit)
    rows = [
        {
            "code": r.code,
            "certificate_no": r.certificate_no or NONE_SHOWN,
            "title": r.title,
            "kind": Text(*asset_facts.KINDS.get(r.kind, (r.kind, r.kind))),
            "holder": r.holder_name,
            "holder_code": r.holder_code,
            "registered_on": NONE_SHOWN if r.registered_on is None else r.registered_on.isoformat(),
            "value": yuan_text(r.value),
        }
        for r in found
    ]
    return Listing(ASSET_COLUMNS, rows, total, personal=False)


ASSETS = (
    Measure(
        name="assets.registered",
        how=Text(
            "数据资产登记申请经审核通过、颁发登记证书的件数，按通过审核的月份（北京时间）和资产类型（数据集、数据产品）统计。",
            "Applications accepted with a registration certificate issued, per month of "
            "acceptance (Beijing time) and kind (dataset or data product).",
        ),
        facts=lambda i: asset_facts.registered(i.db),
        listing=_registrations,
    ),
    Measure(
        name="assets.value",
        how=Text(
            "已登记数据资产最近一次估值的评估结论（成本法、收益法、市场法按权重协调后的价值，单位为元）相加，按资产类型统计；尚未估值的不计。",
            "The concluded value of each registered asset's latest valuation (cost, income "
            "and market methods reconciled by weight, in yuan), summed per kind; assets not "
            "yet valued left out.",
        ),
        facts=lambda i: asset_facts.valued(i.db),
        listing=lambda i, start, end, district, limit: _registrations(
            i, None, None, district, limit
        ),
    ),
)

MEASURES: tuple[Measure, ...] = (*CATALOG, *CHANNEL, *ASSETS)
