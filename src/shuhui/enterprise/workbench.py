"""The enterprise platform on the workbench: for an officer, the needs of their department
waiting to be taken or closed (the bureau: every department's), the overdue ones urgent; for an
enterprise, its closed needs still to rate and the applications to use its hosted data waiting
for its review. Counts only."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuhui.channel.city import CityChannel
from shuhui.core.workbench import Todo
from shuhui.enterprise import custody, needs
from shuhui.enterprise.access import is_bureau, kinds_departments
from shuhui.enterprise.models import Need
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role


def todos(db: Session, user: User, *, content: Path, city: CityChannel) -> list[Todo]:
    if Role.enterprise in user.role_set and user.credit_code:
        reviews = custody.pending_reviews(db, city, user.credit_code)
        to_rate = db.scalar(
            select(func.count()).where(
                Need.credit_code == user.credit_code,
                Need.state == "closed",
                Need.rating.is_(None),
            )
        )
        return [
            Todo(
                "enterprise.rate",
                "待评价的诉求",
                "Needs to rate",
                int(to_rate or 0),
                "/enterprise/needs",
                "诉求办结后请对办理情况进行评价",
                "Rate how your closed needs were handled",
            ),
            Todo(
                "enterprise.custody_reviews",
                "待审核的数据使用申请",
                "Applications to use our data",
                reviews,
                "/enterprise/data",
                "机构申请使用本企业托管的数据，须经本企业同意",
                "Institutions asking to use the data we host need our consent",
                urgent=reviews > 0,
            ),
        ]
    if Role.officer not in user.role_set:
        return []
    bureau = is_bureau(user, content)
    if not bureau and user.department not in kinds_departments(content):
        return []
    counts = needs.counts(db, None if bureau else user.department)
    waiting = counts["received"] + counts["handling"]
    return [
        Todo(
            "enterprise.needs",
            "待办理的企业诉求",
            "Enterprises' needs to handle",
            waiting,
            "/enterprise/desk",
            f"已受理 {counts['received']} 件，办理中 {counts['handling']} 件，"
            f"超期 {counts['overdue']} 件",
            f"{counts['received']} waiting, {counts['handling']} in hand, "
            f"{counts['overdue']} overdue",
            urgent=counts["overdue"] > 0,
        )
    ]
