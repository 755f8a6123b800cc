"""The officers' queues (待办) and the warnings before a time limit is breached.

A queue is the open tasks (``CaseTask`` rows with no ``closed_at``) of one department, by role
(受理, 审查, 会签, 决定, 办结出证), the most pressing first: the earliest promised due date,
then the longest waiting. A case is *due soon* when its promised due date is at most
``within`` working days away (2 by default) or already past, while its clock runs (accepted,
under review, approved and not yet issued; a case waiting for the applicant's correction has
its clock stopped).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import Session

from shuhui.approval import calendar
from shuhui.approval.models import Case, CaseTask
from shuhui.core.clock import local_today
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role

WARN_WITHIN = 2  # working days
# The states in which a case's time limit runs.
CLOCK_RUNS = ("accepted", "review", "approved")
ROLE_ORDER = ("accept", "review", "countersign", "decide", "issue")

DueWarning = Literal["overdue", "due_soon"]


@dataclass(frozen=True)
class QueueCount:
    open: int  # tasks waiting
    urgent: int  # of which the case is due soon or overdue


def warn_from(today: date | None = None, within: int = WARN_WITHIN) -> date:
    """The last promised due date that counts as due soon seen from ``today``."""
    return calendar.add_working_days(today or local_today(), within)


def _is_officer(user: User) -> bool:
    return Role.officer in user.role_set and bool(user.department)


def queue(
    db: Session,
    officer: User,
    *,
    role: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[tuple[CaseTask, Case]]:
    """The open tasks of the officer's department (of one role, or all), most pressing first;
    nothing for an account that is not a department's officer."""
    if not _is_officer(officer):
        return []
    query = (
        select(CaseTask, Case)
        .join(Case, CaseTask.case_id == Case.id)
        .where(CaseTask.department == officer.department, CaseTask.closed_at.is_(None))
    )
    if role is not None:
        query = query.where(CaseTask.role == role)
    query = (
        query.order_by(
            Case.promised_due.is_(None), Case.promised_due, CaseTask.opened_at, CaseTask.id
        )
        .limit(limit)
        .offset(offset)
    )
    return [(task, found) for task, found in db.execute(query)]


def queue_counts(
    db: Session, department: str | None, *, today: date | None = None, within: int = WARN_WITHIN
) -> dict[str, QueueCount]:
    """For each role with open tasks in the department: how many, and how many of them due
    soon or overdue (one grouped query over the queue's index)."""
    if not department:
        return {}
    threshold = warn_from(today, within)
    urgent = case(
        (and_(Case.state.in_(CLOCK_RUNS), Case.promised_due <= threshold), 1),
        else_=0,
    )
    rows = db.execute(
        select(CaseTask.role, func.count(), func.coalesce(func.sum(urgent), 0))
        .join(Case, CaseTask.case_id == Case.id)
        .where(CaseTask.department == department, CaseTask.closed_at.is_(None))
        .group_by(CaseTask.role)
    )
    found = {str(role): QueueCount(int(n), int(u)) for role, n, u in rows}
    return {role: found[role] for role in sorted(found, key=_role_rank)}


def _role_rank(role: str) -> tuple[int, str]:
    return (ROLE_ORDER.index(role) if role in ROLE_ORDER else len(ROLE_ORDER), role)


def due_soon(
    db: Session,
    *,
    department: str | None = None,
    within: int = WARN_WITHIN,
    today: date | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Case]:
    """The cases whose clock runs and whose promised due date is at most ``within`` working
    days away or past, the earliest first; with ``department``, those with a step open there."""
    query = select(Case).where(
        Case.state.in_(CLOCK_RUNS), Case.promised_due <= warn_from(today, within)
    )
    if department is not None:
        query = query.where(
            exists().where(
                CaseTask.case_id == Case.id,
                CaseTask.department == department,
                CaseTask.closed_at.is_(None),
            )
        )
    query = query.order_by(Case.promised_due, Case.id).limit(limit).offset(offset)
    return list(db.scalars(query))


def days_left(found: Case, today: date | None = None) -> int | None:
    """Working days to the promised due date (negative once past); None before acceptance."""
    if found.promised_due is None:
        return None
    return calendar.working_days_between(today or local_today(), found.promised_due)


def warning(
    found: Case, *, today: date | None = None, within: int = WARN_WITHIN
) -> DueWarning | None:
    """``overdue`` past the promised due date, ``due_soon`` within ``within`` working days of
    it, else None (and None while the clock stands or after the case ended)."""
    if found.state not in CLOCK_RUNS or found.promised_due is None:
        return None
    day = today or local_today()
    if found.promised_due < day:
        return "overdue"
    if found.promised_due <= warn_from(day, within):
        return "due_soon"
    return None


__all__ = [
    "CLOCK_RUNS",
    "ROLE_ORDER",
    "WARN_WITHIN",
    "DueWarning",
    "QueueCount",
    "days_left",
    "due_soon",
    "queue",
    "queue_counts",
    "warn_from",
    "warning",
]
