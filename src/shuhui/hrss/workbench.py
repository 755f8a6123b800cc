"""The HR & social-security services on the workbench: for the bureau's officers, the
work-injury applications whose decision is due within the warning days or overdue, and the
labour-capacity assessments waiting on the office; for the committee's experts, the assessments
whose panel they sit on that wait on them. Counts only."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from shuhui.core.clock import local_today
from shuhui.core.workbench import Todo
from shuhui.hrss import assessment, certificates, injury
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role

# The stages that wait on the office (drawing a panel, arranging, concluding) and on a panel.
OFFICE_STAGES = ("pending", assessment.PANEL, assessment.EXAMINED)
PANEL_STAGES = (assessment.SCHEDULED, assessment.EXAMINED)


def _assessments(db: Session, user: User, content: Path, stages: tuple[str, ...]) -> Todo:
    rows = [r for r in assessment.worklist(db, user, content) if r.state in stages]
    urgent = sum(r.warning or r.overdue for r in rows)
    days = assessment.rules(content).conclusion_days
    return Todo(
        "hrss.assessment",
        "待办的劳动能力鉴定",
        "Labour-capacity assessments to do",
        len(rows),
        "/hrss/assessments",
        f"受理之日起{days}日内作出鉴定结论；即将到期或超期 {urgent} 件",
        f"Concluded within {days} days of acceptance; {urgent} due soon or overdue",
        urgent=urgent > 0,
    )


def todos(db: Session, user: User, *, content: Path) -> list[Todo]:
    if Role.officer not in user.role_set:
        return []
    if assessment.is_expert(user, assessment.rules(content)):
        return [_assessments(db, user, content, PANEL_STAGES)]
    readers = certificates.document_kind(local_today(), content).readers
    if user.department not in readers:
        return []
    due = injury.due_soon(db, content)
    return [
        Todo(
            "hrss.injury",
            "即将到期的工伤认定",
            "Work-injury decisions due soon",
            due,
            "/hrss/injury",
            "受理后60日（事实清楚的15日）内须作出认定决定",
            "Decided within 60 days of acceptance (15 where the facts are clear)",
            urgent=due > 0,
        ),
        _assessments(db, user, content, OFFICE_STAGES),
    ]
