"""Data-asset registration on the workbench: applications to review (never one's own), assets
registered but not yet valued, and one's own applications returned for changes."""

from __future__ import annotations

from sqlalchemy.orm import Session

from shuhui.assets import service
from shuhui.core.workbench import Todo
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role


def todos(db: Session, user: User) -> list[Todo]:
    out: list[Todo] = []
    if service.is_operator(user):
        reviews = service.count_pending_reviews(db, user)
        out += [
            Todo(
                "assets.review",
                "待审核的数据资产登记",
                "Data-asset registrations to review",
                reviews,
                "/catalog/assets",
                "他人提交的登记申请；本人提交的须由其他运营人员审核",
                "Submitted by others; your own are reviewed by a colleague",
                urgent=reviews > 0,
            ),
            Todo(
                "assets.valuation",
                "待评估价值的数据资产",
                "Registered assets not yet valued",
                service.count_unvalued(db, user),
                "/catalog/assets",
                "已登记发证，尚未做价值评估",
                "Registered and certified, not valued yet",
            ),
        ]
    if user.role_set & {Role.data_operator, Role.enterprise, Role.officer}:
        out.append(
            Todo(
                "assets.returned",
                "退回待修改的资产登记",
                "Asset applications returned to you",
                service.count_returned(db, user),
                "/catalog/assets",
                "按审核意见修改后重新提交",
                "Change them as the reviewer asked and submit again",
            )
        )
    return out
