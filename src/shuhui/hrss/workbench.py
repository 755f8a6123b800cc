"""The HR & social-security services on the workbench: for the bureau's officers, the
work-injury applications whose decision is due within the warning days or overdue. Counts only."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from shuhui.core.clock import local_today
from shuhui.core.workbench import Todo
from shuhui.hrss import certificates, injury
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role


def todos(db: Session, user: User, *, content: Path) -> list[Todo]:
    if Role.officer not in user.role_set:
        return []
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
        )
    ]
