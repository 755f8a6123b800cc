"""The data channel's past in the demo (``shuhui.channel``): a consumer that has used it for months,
so the consoles, the bureau's channel dashboard, the data-assets map (数据资产一张图) and the
leaders' dashboard have calls, revenue and sealed statements to show.

The account ``research`` (a market-research firm, for industry use: priced) was onboarded
:data:`HISTORY_DAYS` ago exactly as a consumer named ``{grant: …}`` is today
(:func:`shuhui.demo.city.grant_product`: registered, admitted to the public-governance zone,
granted the district statistics), issued a key the next day, and since then its research
system has called once a week through the gateway (:func:`shuhui.channel.gateway.call`: the
key, the grant, the privacy budget, the metering and the ledger as for any call), asking in
turn the few questions its reports need. Each month that is over was then billed by the demo
operator (:func:`shuhui.channel.billing.issue_statements`: sealed with the bureau's billing
seal). Made once: a consumer already registered is left alone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

from sqlalchemy.orm import Session

from shuhui.channel import billing, gateway, onboarding
from shuhui.channel import grants as channel_grants
from shuhui.channel import keys as channel_keys
from shuhui.channel.city import city_channel
from shuhui.channel.engine import Engine
from shuhui.core.clock import as_utc, local_today, utcnow
from shuhui.core.settings import Settings
from shuhui.datacore.store import DataCore
from shuhui.demo.approval import HISTORY_SEALS
from shuhui.demo.city import Prepared, grant_product
from shuhui.trust.identity.demo import DemoAccount

CONSUMER: Final = "research"
PRODUCT: Final = "district-statistics"
USE: Final = (
    "城市消费市场与人口结构分析报告",
    "《青岛市公共数据管理办法》第二十二条（公共数据有条件使用）；数据使用协议",
    "industry",
)
BILLER: Final = "operator"
# Each answer is a release of its own (its figures are as of the day asked), which spends ε of
# the privacy budget the grant allows for a version of the tables (5.0, 0.5 a release): a call a
# week for ten weeks spends it, and no more.
HISTORY_DAYS: Final = 70
CALL_WEEKDAYS: Final = (1,)  # Tuesdays
CALL_HOUR: Final = 2  # 10:00 in Qingdao (UTC+8)
# The questions its reports ask, in turn: the city, then by age band and by sex in two districts.
QUESTIONS: Final[tuple[dict[str, Any], ...]] = (
    {},
    {"age_band": "60+"},
    {"district_code": "370202", "age_band": "15-59"},
    {"district_code": "370212", "sex": "女"},
)


def prepare(
    db: Session,
    settings: Settings,
    core: DataCore,
    accounts: Sequence[DemoAccount],
    *,
    now: datetime | None = None,
) -> list[Prepared]:
    account = next((a for a in accounts if a.username == CONSUMER), None)
    if account is None or not account.credit_code or not core.tables():
        return []
    if onboarding.consumer_by_code(db, account.credit_code) is not None:
        return []
    now = as_utc(now or utcnow())
    city = city_channel(settings.city_content)
    start = now - timedelta(days=HISTORY_DAYS)
    # The bureau's billing seal in force from the history's first day, as it would have been.
    billing.billing_seal(
        db,
        settings.data_dir,
        city.billing_seal(local_today(start)),
        actor=HISTORY_SEALS,
        since=start,
    )
    granted = grant_product(db, city, accounts, replace(account, demo_use=USE), PRODUCT, now=start)
    consumer = onboarding.consumer_by_code(db, account.credit_code)
    assert consumer is not None  # registered just now
    grant_codes = [
        g.code
        for g in channel_grants.grants(db, consumer.id)
        if channel_grants.grant_active(g, start + timedelta(days=1))
    ]
    _, secret = channel_keys.issue_key(
        db,
        consumer,
        grant_codes=grant_codes,
        label="研究系统",
        actor=account.username,
        now=start + timedelta(days=1),
    )
    engine = Engine(core)
    answered = 0
    for asked, day in enumerate(_call_days(start + timedelta(days=2), now)):
        outcome = gateway.call(
            db,
            city,
            engine,
            api_key=secret,
            product_code=PRODUCT,
            payload={"purpose": USE[0], "params": QUESTIONS[asked % len(QUESTIONS)]},
            now=day,
        )
        answered += outcome.status == 200
    for month in _months_over(start, now):
        billing.issue_statements(
            db, city, settings.data_dir, month, actor=BILLER, now=_first_of_next(month)
        )
    product = city.products.get(PRODUCT)
    name = product.item.name_zh if product is not None else PRODUCT
    waiting = f"已获准使用“{name}”，{HISTORY_DAYS} 天来已调用 {answered} 次，往月对账单已出具"
    return [replace(granted, waiting=waiting, changed=True)]


def _call_days(first: datetime, before: datetime) -> list[datetime]:
    day = first.replace(hour=CALL_HOUR, minute=0, second=0, microsecond=0)
    days = []
    while day < before - timedelta(hours=1):
        if day.weekday() in CALL_WEEKDAYS and day >= first:
            days.append(day)
        day += timedelta(days=1)
    return days


def _months_over(start: datetime, now: datetime) -> list[date]:
    month = start.date().replace(day=1)
    this_month = now.date().replace(day=1)
    months = []
    while month < this_month:
        months.append(month)
        month = _first_of_next(month).date()
    return months


def _first_of_next(month: date) -> datetime:
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return datetime(following.year, following.month, 1, 1, tzinfo=UTC)
