"""The data channel on the workbench: the review queues of the data bureau and the providing
departments, and a consumer's grants, keys and calls this month. Counts over indexed columns;
a providing department's queue reads only the applications awaiting the departments (each
names its products, whose providers are content)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from shuhui.channel import grants, onboarding
from shuhui.channel.city import CityChannel
from shuhui.channel.common import ANSWERED, month_of
from shuhui.channel.models import AccessApplication, ApiKey, Call, Grant, Membership
from shuhui.core.clock import as_utc, utcnow
from shuhui.core.workbench import Todo
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role

KEYS_EXPIRING_WITHIN: Final = timedelta(days=30)


def _count(db: Session, *where: ColumnElement[bool]) -> int:
    return int(db.scalar(select(func.count()).where(*where)) or 0)


def count_department_reviews(db: Session, city: CityChannel, department: str | None) -> int:
    """Access applications waiting for ``department``'s approval as a providing department."""
    if not department:
        return 0
    waiting = grants.applications(db, statuses=["department_review"])
    return sum(grants.reviewer_step(city, a, department, False) == "department" for a in waiting)


def _bureau(db: Session) -> list[Todo]:
    applications = _count(db, AccessApplication.status == "bureau_review")
    memberships = _count(db, Membership.status == "pending")
    return [
        Todo(
            "channel.bureau_review",
            "待大数据局审核的数据使用申请",
            "Data-use applications awaiting the bureau",
            applications,
            "/channel/review",
            "提供部门已同意，等待大数据局批准、退回或不予批准",
            "The providing departments agreed: approve, return or reject",
            urgent=applications > 0,
        ),
        Todo(
            "channel.memberships",
            "待审核的专区入驻申请",
            "Zone memberships to review",
            memberships,
            "/channel/review",
            "机构申请加入金融、医疗等专区",
            "Institutions asking to join a zone",
        ),
    ]


def _consumer(db: Session, user: User, now: datetime) -> list[Todo]:
    consumer = onboarding.consumer_by_code(db, user.credit_code) if user.credit_code else None
    if consumer is None:
        return [
            Todo(
                "channel.register",
                "登记机构信息",
                "Register your organisation",
                1,
                "/channel",
                "登记后才能申请加入专区、使用数据产品",
                "Register before joining a zone or using data products",
                urgent=True,
            )
        ]
    of = consumer.id
    live = (Grant.consumer_id == of, Grant.status == "active", Grant.valid_to > now)
    active = _count(db, *live)
    quota = int(db.scalar(select(func.sum(Grant.monthly_quota)).where(*live)) or 0)
    expiring = _count(
        db,
        ApiKey.consumer_id == of,
        ApiKey.revoked_at.is_(None),
        ApiKey.expires_at > now,
        ApiKey.expires_at <= now + KEYS_EXPIRING_WITHIN,
    )
    returned = _count(
        db, AccessApplication.consumer_id == of, AccessApplication.status == "returned"
    )
    calls = _count(
        db,
        Call.consumer_id == of,
        Call.at >= now - timedelta(days=31),
        Call.month == month_of(now),
        Call.status == ANSWERED,
    )
    return [
        Todo(
            "channel.returned",
            "退回待补充的数据使用申请",
            "Applications returned to you",
            returned,
            "/channel",
            "按审核意见补充后重新提交",
            "Add what the reviewers asked for and submit again",
            urgent=returned > 0,
        ),
        Todo(
            "channel.keys_expiring",
            "30 天内到期的接口密钥",
            "API keys ending within 30 days",
            expiring,
            "/channel",
            "到期前轮换密钥，避免调用中断",
            "Rotate them before they end so calls do not stop",
            urgent=expiring > 0,
        ),
        Todo(
            "channel.grants",
            "有效的数据使用授权",
            "Active data-use grants",
            active,
            "/channel",
        ),
        Todo(
            "channel.calls",
            "本月已成功调用（次）",
            "Calls answered this month",
            calls,
            "/channel",
            f"有效授权每月额度合计 {quota:,} 次",
            f"Monthly quota of the active grants: {quota:,} calls",
        ),
    ]


def todos(db: Session, user: User, city: CityChannel, *, now: datetime | None = None) -> list[Todo]:
    now = as_utc(now or utcnow())
    out: list[Todo] = []
    roles = user.role_set
    if Role.data_operator in roles:
        out += _bureau(db)
    if Role.officer in roles:
        out.append(
            Todo(
                "channel.department_review",
                "待本部门审核的数据使用申请",
                "Data-use applications awaiting your department",
                count_department_reviews(db, city, user.department),
                "/channel/review",
                "申请使用本部门提供的数据产品，须先经本部门同意",
                "Applications to use your department's data products",
            )
        )
    if Role.consumer in roles:
        out += _consumer(db, user, now)
    return out
