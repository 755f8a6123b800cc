"""Fund-risk checks on the workbench of the HRSS bureau's officers: alerts to check, checks
under way, recoveries open. Counts only, one grouped query."""

from __future__ import annotations

from sqlalchemy.orm import Session

from shuhui.core.workbench import Todo
from shuhui.programs.fundrisk.service import DEPARTMENT, todo_counts
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role


def todos(db: Session, user: User) -> list[Todo]:
    if Role.officer not in user.role_set or user.department != DEPARTMENT:
        return []
    counts = todo_counts(db)
    return [
        Todo(
            "fundrisk.new",
            "待核查的基金风险疑点",
            "Fund-risk alerts to check",
            counts["new"],
            "/hrss/fundrisk?state=new#alerts",
            "检测发现的疑点，请核查后确认或排除",
            "Findings of the detectors: check, then confirm or dismiss",
            urgent=counts["new"] > 0,
        ),
        Todo(
            "fundrisk.checking",
            "核查中的基金风险疑点",
            "Fund-risk alerts being checked",
            counts["checking"],
            "/hrss/fundrisk?state=checking#alerts",
            "已开始核查、尚未确认或排除的疑点",
            "Checks under way",
        ),
        Todo(
            "fundrisk.recovering",
            "待追回的基金",
            "Funds to recover",
            counts["recovering"],
            "/hrss/fundrisk?state=recovering#alerts",
            "已确认违规、尚未全部追回的疑点",
            "Confirmed alerts not yet fully recovered",
        ),
    ]
