"""Struggling enterprises on the workbench: for the HR officer, those of the latest run with no
measure started; for an enterprise, the measures started for it. Counts only."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from shuhui.core.workbench import Todo
from shuhui.programs.distress import service
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role

# The department that runs the score (the rule's), named so the card needs no rule book.
DEPARTMENT = "青岛市人力资源和社会保障局"


def todos(db: Session, user: User, *, content: Path) -> list[Todo]:
    out: list[Todo] = []
    roles = user.role_set
    if Role.officer in roles and user.department == DEPARTMENT:
        waiting = service.count_not_started(db, content)
        out.append(
            Todo(
                "programs.distress",
                "待安排纾困措施的困难企业",
                "Enterprises in difficulty awaiting a measure",
                waiting,
                "/hrss/distress",
                "大数据识别出的困难企业，选择适合的措施启动",
                "Enterprises the score found struggling; start a measure that suits them",
                urgent=waiting > 0,
            )
        )
    if Role.enterprise in roles and user.credit_code:
        n = service.count_offered(db, user.credit_code)
        out.append(
            Todo(
                "programs.distress.mine",
                "为本企业安排的纾困措施",
                "Relief measures arranged for you",
                n,
                "/hrss/distress/mine",
                "人社部门为本企业安排的援企稳岗措施",
                "Measures the HR bureau arranged for your enterprise",
            )
        )
    return out
