"""The enterprise platform in the demo: the demo enterprise has posted two needs (诉求) in the
past days — a digital-transformation need the industry and IT bureau's officer took and closed
(so the enterprise has one to rate), and a market-expansion need waiting at the commerce bureau
(so its officer has one to take) — each matched when posted, as the platform matches any need.

It also hosts one file of its own data (数据托管): its monthly orders by district, offered to
financial institutions on conditional terms through the data channel; the demo bank has applied
to use it for credit checks, so the enterprise has an application to review (then the data
bureau's operator approves, the bank issues a key and calls, the enterprise sees the calls on
its statement and can withdraw the data).

The rest of the enterprise's flows start from its own pages: its file, the assessment with its
answers pre-filled, a new need, another file to host. Run again, nothing changes: the needs are
posted once (when the enterprise has none), the file hosted once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Final

from sqlalchemy.orm import Session

from shuhui.approval.lookups import lookups_for
from shuhui.catalog import service as catalog_service
from shuhui.channel import grants as channel_grants
from shuhui.channel import onboarding
from shuhui.channel.city import city_channel
from shuhui.core.clock import SHANGHAI, local_today
from shuhui.core.settings import Settings
from shuhui.datacore.store import DataCore
from shuhui.demo.city import Prepared
from shuhui.demo.history import working_days_before
from shuhui.enterprise import custody, monthly, needs, service
from shuhui.enterprise.custody_schemas import ColumnIn, HostIn
from shuhui.enterprise.platforms import load as load_platforms
from shuhui.enterprise.schemas import NeedCloseIn, NeedIn, NeedStepIn
from shuhui.programs.service import Library
from shuhui.trust.identity.demo import DemoAccount
from shuhui.trust.identity.service import list_users

ENTERPRISE: Final = "enterprise"
BANK: Final = "bank"
BUREAU_OFFICER: Final = "industry"
COMMERCE_OFFICER: Final = "commerce"

DIGITAL = NeedIn(
    kind="digital",
    title="订单、采购和库存管理想上云",
    detail="目前订单、采购和库存都靠表格记录，账实不符、交期经常延误，项目现场的设备也说不清"
    "在哪里、用得怎样。希望上一套云端的业务管理和供应链协同系统，预算二十万元以内。",
)
MARKET = NeedIn(
    kind="market",
    title="希望参加展会开拓海外市场",
    detail="企业产品想进入东南亚市场，希望了解今年市里组织的境外展会和出口信用保险支持政策，"
    "以及跨境电商平台的对接渠道。",
)


def _at(day_offset: int, hour: int) -> datetime:
    day = working_days_before(local_today(), day_offset + 1)[day_offset]
    return datetime.combine(day, time(hour, 0), tzinfo=SHANGHAI)


def prepare(
    db: Session, settings: Settings, core: DataCore, accounts: Sequence[DemoAccount]
) -> list[Prepared]:
    wanted = {a.username for a in accounts}
    if not {ENTERPRISE, BUREAU_OFFICER, COMMERCE_OFFICER} <= wanted:
        return []
    users = {u.username: u for u in list_users(db)}
    enterprise = users.get(ENTERPRISE)
    if enterprise is None or not enterprise.credit_code:
        return []
    lookups = monthly.register(lookups_for(core))
    name = service.enterprise_name(lookups, enterprise)
    member = f"{name}（{enterprise.credit_code}）"
    if needs.needs_of(db, enterprise.credit_code, limit=1):
        return [Prepared(ENTERPRISE, member, "诉求已在演示中提出", changed=False)]
    content = settings.city_content
    catalogue = load_platforms(content)
    library = Library(settings, core)
    posted = [
        needs.post(
            db,
            enterprise,
            enterprise.credit_code,
            name,
            given,
            matches=service.preview(
                lookups, catalogue, library, enterprise, given, content=content
            ).as_list(),
            content=content,
            now=_at(offset, 10),
        )
        for given, offset in ((DIGITAL, 12), (MARKET, 1))
    ]
    officer = users[BUREAU_OFFICER]
    digital = posted[0]
    needs.take(
        db,
        officer,
        digital.code,
        NeedStepIn(note="已联系企业，安排专家上门诊断"),
        content=content,
        now=_at(10, 15),
    )
    needs.close(
        db,
        officer,
        digital.code,
        NeedCloseIn(
            note="已组织工业互联网平台服务商上门诊断，推荐设备联网与生产排产方案，"
            "企业可申报数字化转型专项资金；诉求办结。"
        ),
        content=content,
        now=_at(3, 16) - timedelta(minutes=30),
    )
    return [
        Prepared(
            ENTERPRISE,
            member,
            "一件诉求已办结待评价，一件在商务局待办理；托管的订单数据有银行申请使用待审核",
            changed=True,
        ),
        Prepared(COMMERCE_OFFICER, "商务局", "一件市场开拓诉求待受理", changed=True),
    ]


ORDERS_SLUG: Final = "orders"
ORDERS_COLUMNS: Final = (
    {"name": "month", "title": "所属月份", "type": "date", "required": True},
    {"name": "district", "title": "区县代码", "type": "string", "required": True},
    {"name": "orders", "title": "订单数", "type": "int64", "required": True},
    {"name": "amount", "title": "订单金额（元）", "type": "float64", "required": True},
)
DISTRICTS: Final = ("370202", "370203", "370211", "370212", "370213")
BANK_PURPOSE: Final = "贷前调查中核实借款企业的订单流水"
BANK_BASIS: Final = "借款企业书面同意；《中华人民共和国商业银行法》第三十五条（贷款调查）"


def orders_csv(credit_code: str, months: int = 24) -> bytes:
    """The enterprise's monthly orders by district, as its sales system would export them:
    made from its code (the same file each run), growing with the seasons."""
    seed = sum(ord(ch) for ch in credit_code)
    today = local_today()
    lines = ["month,district,orders,amount"]
    for back in range(months, 0, -1):
        year, month = divmod(today.year * 12 + today.month - 1 - back, 12)
        for i, district in enumerate(DISTRICTS):
            orders = 20 + (seed * (i + 3) + back * 7) % 60 + (12 if month + 1 in (6, 11, 12) else 0)
            amount = orders * (850 + (seed + i * 37) % 400)
            lines.append(f"{year:04d}-{month + 1:02d}-01,{district},{orders},{amount:.2f}")
    return ("\n".join(lines) + "\n").encode()


def host_orders(
    db: Session, settings: Settings, core: DataCore, accounts: Sequence[DemoAccount]
) -> list[Prepared]:
    """The enterprise's orders hosted, and the bank's application waiting for its review
    (what this run did, for the command to say; the accounts' table keeps their flows)."""
    users = {u.username: u for u in list_users(db)}
    enterprise = users.get(ENTERPRISE)
    bank = next((a for a in accounts if a.username == BANK), None)
    if enterprise is None or not enterprise.credit_code or bank is None or not bank.credit_code:
        return []
    content = settings.city_content
    city = city_channel(content)
    if custody.hostings(db, enterprise):
        return []
    given = HostIn(
        slug=ORDERS_SLUG,
        title="订单月度汇总（分区县）",
        description="本企业近两年各区县每月的订单数与订单金额，由企业销售系统导出；"
        "供金融机构在信贷审批中核实经营流水。",
        columns=[ColumnIn.model_validate(c) for c in ORDERS_COLUMNS],
        keys=["district"],
        category="11",
        zone="finance",
        terms="conditional",
        condition="仅限金融机构经本企业同意后用于信贷审批",
        price="0.50",
    )
    hosted = custody.host(
        db,
        core=core,
        catalog=catalog_service.city_catalog(content),
        city=city,
        user=enterprise,
        given=given,
        data=orders_csv(enterprise.credit_code),
    )
    consumer = onboarding.consumer_by_code(db, bank.credit_code)
    if consumer is None:
        return [Prepared(ENTERPRISE, hosted.title, "数据已托管", changed=True)]
    channel_grants.apply_access(
        db,
        city.current(db),  # the channel with the products hosted a moment ago
        consumer,
        products=[hosted.table_name],
        fields=None,
        purpose=BANK_PURPOSE,
        legal_basis=BANK_BASIS,
        usage="industry",
        days=365,
        actor=BANK,
    )
    return [
        Prepared(
            BANK, bank.department or BANK, f"已申请使用“{hosted.title}”，待企业审核", changed=True
        )
    ]
