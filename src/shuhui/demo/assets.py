"""Data-asset registration in the demo (``shuhui.assets``): the data bureau's first entries in
its registry, so the registry (/catalog/assets), the data-assets map (数据资产一张图) and the
leaders' dashboard have assets registered and valued. Over the past months the demo operator
applied to register four of the city's datasets for the departments that provide them; the
second operator accepted three (each certificate sealed with the registry's seal) and the
fourth waits on that operator's workbench; the operator valued the first two. Every step
through :mod:`shuhui.assets.service`, with the ledger entries the pages would write, in the
caller's transaction. Made once: a registry with entries already is left alone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from shuhui.assets import service
from shuhui.assets.schemas import ApplicationIn, CostIn, ValuationIn
from shuhui.catalog import service as catalog_service
from shuhui.core.clock import as_utc, utcnow
from shuhui.core.settings import Settings
from shuhui.demo.approval import HISTORY_SEALS
from shuhui.demo.city import Prepared
from shuhui.trust.identity.demo import DemoAccount
from shuhui.trust.identity.service import get_user_by_username

APPLICANT, REVIEWER = "operator", "operator2"


@dataclass(frozen=True)
class Entry:
    """One dataset's registration: what the application says, when it was made, and the
    valuation's inputs in yuan (None: not valued yet; ``accepted`` False: still waiting)."""

    dataset: str
    days_ago: int
    sources: str
    processing: str
    scenarios: str
    costs: tuple[str, str, str] | None = None  # acquisition, processing, security
    incomes: tuple[str, ...] = ()
    accepted: bool = True


# Datasets that neither a demo flow nor a browser test registers itself.
ENTRIES = (
    Entry(
        "enterprise_tax",
        days_ago=110,
        sources="国家税务总局青岛市税务局金税系统按月申报数据，经公共数据平台每月汇聚",
        processing="按统一社会信用代码关联企业登记信息，只保留申报税额与纳税信用等级，按月汇总",
        scenarios="企业经营状况监测、困难企业识别、金融机构授信辅助（“可用不可见”）",
        costs=("180000", "120000", "30000"),
        incomes=("150000", "160000", "170000"),
    ),
    Entry(
        "district_population",
        days_ago=75,
        sources="公安户籍登记与统计部门年度人口抽样调查",
        processing="按区（市）汇总常住人口与年龄结构，小于10人的分组不单列",
        scenarios="公共服务设施规划、人口老龄化研究、养老服务资源配置",
        costs=("60000", "40000", "10000"),
        incomes=("50000", "50000", "50000"),
    ),
    Entry(
        "transit_trips",
        days_ago=40,
        sources="公交、地铁刷卡与扫码乘车记录，按日汇聚",
        processing="去除个人身份信息，按线路、站点、时段汇总客流",
        scenarios="公交线网优化、通勤分析、城市规划",
    ),
    Entry(
        "digital_economy_output",
        days_ago=3,
        sources="统计部门数字经济核心产业企业按季联网直报数据",
        processing="按产业分类与区（市）汇总营业收入，企业名称不对外提供",
        scenarios="数字经济产业监测、产业政策评估",
        accepted=False,
    ),
)
REVIEW_DAYS = 6  # from an application to the reviewer's acceptance
VALUATION_DAYS = 14  # from the registration to its valuation


def prepare(
    db: Session,
    settings: Settings,
    accounts: Sequence[DemoAccount],
    *,
    now: datetime | None = None,
) -> list[Prepared]:
    names = {a.username for a in accounts}
    if not {APPLICANT, REVIEWER} <= names:
        return []
    applicant = get_user_by_username(db, APPLICANT)
    reviewer = get_user_by_username(db, REVIEWER)
    if applicant is None or reviewer is None:
        return []
    if any(service.counts_by_status(db, reviewer).values()):  # an operator sees them all
        return []
    now = as_utc(now or utcnow())
    registrar = service.city_registrar(settings.city_content, now.date())
    # In force from the first application on, as the registry's seal would have been.
    first = now - timedelta(days=max(e.days_ago for e in ENTRIES))
    service.ensure_registry_seal(db, settings.data_dir, registrar, actor=HISTORY_SEALS, since=first)
    waiting = 0
    for entry in ENTRIES:
        dataset = catalog_service.find_dataset(db, entry.dataset)
        if dataset is None:  # a city without this table
            continue
        holder = dataset.resource_class.organisation
        applied_at = now - timedelta(days=entry.days_ago)
        row = service.apply(
            db,
            ApplicationIn(
                kind="dataset",
                dataset=dataset.name,
                title=dataset.title,
                holder_name=holder.title,
                holder_code=holder.code,
                rights=["holding", "processing", "operation"],
                sources=entry.sources,
                processing=entry.processing,
                scenarios=entry.scenarios,
            ),
            applicant=applicant,
            now=applied_at,
        )
        if not entry.accepted:
            waiting += 1
            continue
        accepted_at = applied_at + timedelta(days=REVIEW_DAYS)
        service.review(
            db,
            settings.data_dir,
            registrar,
            row.code,
            decision="accept",
            reason="",
            reviewer=reviewer.username,
            now=accepted_at,
        )
        if entry.costs is not None:
            acquisition, processing, security = entry.costs
            service.value(
                db,
                settings.city_content,
                row.code,
                ValuationIn(
                    cost=CostIn(acquisition=acquisition, processing=processing, security=security),
                    incomes=list(entry.incomes),
                    discount_rate="0.08",
                    useful_life_years=5,
                ),
                valuer=applicant.username,
                today=(accepted_at + timedelta(days=VALUATION_DAYS)).date(),
            )
    if not waiting:
        return []
    reviewer_account = next(a for a in accounts if a.username == REVIEWER)
    return [
        Prepared(
            username=REVIEWER,
            member=reviewer_account.display_name,
            waiting=f"数据资产登记申请 {waiting} 件待审核（/catalog/assets）",
            changed=True,
        )
    ]
