"""Approval on the workbench (工作台): for an officer, the open steps of their department by
role (受理, 审查, 会签, 决定, 办结出证), urgent where a case is due soon or overdue; for an
applicant, the cases awaiting their correction (urgent: the department is waiting) and the
drafts not yet submitted. Counts only: one grouped query for the officer, one for the applicant.
"""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from shuhui.approval.models import Case
from shuhui.approval.process import ROLES
from shuhui.approval.queues import queue_counts
from shuhui.core.workbench import Todo
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role

WORKBENCH = "/approval/workbench"
MY_CASES = "/approval/cases"


def count_for_applicant(db: Session, user: User) -> dict[str, int]:
    """The user's cases awaiting correction and their drafts (as applicant, agent or maker)."""
    ids = [s for s in (user.citizen_id, user.credit_code) if s]
    mine = [Case.applicant_id.in_(ids), Case.created_by == user.username]
    if user.citizen_id:
        mine.append(Case.agent_id == user.citizen_id)
    rows = db.execute(
        select(Case.state, func.count())
        .where(or_(*mine), Case.state.in_(("correction", "draft")))
        .group_by(Case.state)
    )
    counts = {"correction": 0, "draft": 0}
    counts.update({str(state): int(n) for state, n in rows})
    return counts


def todos(db: Session, user: User) -> list[Todo]:
    out: list[Todo] = []
    roles = user.role_set
    if roles & {Role.citizen, Role.enterprise}:
        mine = count_for_applicant(db, user)
        out += [
            Todo(
                "approval.corrections",
                "待补正的办件",
                "Cases awaiting your correction",
                mine["correction"],
                f"{MY_CASES}?state=correction",
                "部门已一次性告知需要补正的内容，补正后重新提交",
                "The department listed what to correct: correct it and resubmit",
                urgent=mine["correction"] > 0,
            ),
            Todo(
                "approval.drafts",
                "未提交的申请",
                "Applications not yet submitted",
                mine["draft"],
                f"{MY_CASES}?state=draft",
                "已自动填好的申请表，核对后即可提交",
                "Forms already filled in for you: check and submit",
            ),
        ]
    if Role.officer in roles and user.department:
        counts = queue_counts(db, user.department)
        for role, count in counts.items():
            zh, en = ROLES.get(role, (role, role))
            out.append(
                Todo(
                    f"approval.{role}",
                    f"待{zh}的办件",
                    f"Cases waiting for {en.lower()}",
                    count.open,
                    f"{WORKBENCH}?role={role}",
                    f"其中 {count.urgent} 件即将超期或已超期" if count.urgent else "",
                    f"{count.urgent} due soon or overdue" if count.urgent else "",
                    urgent=count.urgent > 0,
                )
            )
        if not counts:
            out.append(
                Todo(
                    "approval.tasks",
                    "审批待办",
                    "Approval steps waiting",
                    0,
                    WORKBENCH,
                    "本部门暂无待办理的审批环节",
                    "No approval step waits for your department",
                )
            )
    return out
