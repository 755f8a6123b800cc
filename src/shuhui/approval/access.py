"""Reading cases: who may see a case (its applicant, the agent, an officer of a department
with a part in it), a person's cases, and a case's fields, materials, steps, events and where
its process stands. An officer's look at an applicant's case is a ledger entry (谁用了我的数据);
the applicant's own look is not.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from shuhui.approval import process
from shuhui.approval.models import (
    CASE_CHANNELS,
    CASE_STATES,
    Case,
    CaseEvent,
    CaseField,
    CaseMaterial,
    CaseTask,
)
from shuhui.approval.schemas import CaseOut, CorrectionOut
from shuhui.core.errors import Problem
from shuhui.core.i18n import Text
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role
from shuhui.trust.ledger.service import record

NOT_FOUND = Text("没有找到这个办件", "no such case")


def fields_of(db: Session, case: Case) -> list[CaseField]:
    return list(db.scalars(select(CaseField).where(CaseField.case_id == case.id)))


def materials_of(db: Session, case: Case) -> list[CaseMaterial]:
    return list(db.scalars(select(CaseMaterial).where(CaseMaterial.case_id == case.id)))


# --- reading --------------------------------------------------------------------------------------


def get_case(db: Session, code: str) -> Case | None:
    return db.scalar(select(Case).where(Case.code == code))


def _own_ids(user: User) -> list[str]:
    return [s for s in (user.citizen_id, user.credit_code) if s]


def is_party(user: User, case: Case) -> bool:
    """The applicant, the agent who applied, or the account that made the draft — but not the
    officer who filed it at a window: that officer sees it as an officer of the department."""
    return (
        case.applicant_id in _own_ids(user)
        or (user.citizen_id is not None and case.agent_id == user.citizen_id)
        or (case.created_by == user.username and case.channel != "counter")
    )


def is_officer_of(db: Session, user: User, case: Case) -> bool:
    """An officer of the department that decides, or of one with a step in the case."""
    if Role.officer not in user.role_set or not user.department:
        return False
    if user.department == case.department:
        return True
    found = db.scalar(
        select(CaseTask.id)
        .where(CaseTask.case_id == case.id, CaseTask.department == user.department)
        .limit(1)
    )
    return found is not None


def case_for(db: Session, user: User, code: str) -> Case:
    """The case if ``user`` may see it (its applicant, the agent, an officer of a department
    with a part in it), else 404 (whether it exists is not told). An officer's look at the
    applicant's case is a ledger entry."""
    case = get_case(db, code)
    if case is None:
        raise Problem("not-found", detail=NOT_FOUND)
    if is_party(user, case):
        return case
    if case.state != "draft" and is_officer_of(db, user, case):
        record(
            db,
            user.username,
            "approval.case.viewed",
            subject=case.applicant_id,
            purpose=f"办理{case.item_name}",
            detail={"case": case.code, "item": case.item_code, "department": user.department},
        )
        return case
    raise Problem("not-found", detail=NOT_FOUND)


def party_case(db: Session, user: User, code: str) -> Case:
    """The case if ``user`` is its applicant, the agent or the account that made it; else 404
    (whether it exists is not told). What an applicant's routes and pages act on."""
    case = get_case(db, code[:32])
    if case is None or not is_party(user, case):
        raise Problem("not-found", detail=NOT_FOUND)
    return case


def cases_of(
    db: Session, user: User, *, limit: int = 20, offset: int = 0, state: str | None = None
) -> list[Case]:
    """The cases a person made or is the applicant of (as a person, an enterprise or an
    agent), newest first."""
    mine = [
        Case.applicant_id.in_(_own_ids(user)),
        and_(Case.created_by == user.username, Case.channel != "counter"),
    ]
    if user.citizen_id:
        mine.append(Case.agent_id == user.citizen_id)
    query = select(Case).where(or_(*mine))
    if state is not None:
        query = query.where(Case.state == state)
    query = query.order_by(Case.created_at.desc(), Case.id.desc()).limit(limit).offset(offset)
    return list(db.scalars(query))


def tasks_of(db: Session, case: Case) -> list[CaseTask]:
    return list(
        db.scalars(select(CaseTask).where(CaseTask.case_id == case.id).order_by(CaseTask.id))
    )


def events_of(db: Session, case: Case) -> list[CaseEvent]:
    return list(
        db.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id))
    )


def case_out(case: Case) -> CaseOut:
    """The case as the API and the pages show it."""
    correction = [CorrectionOut(**item) for item in case.correction] if case.correction else None
    return CaseOut(
        code=case.code,
        item_code=case.item_code,
        item_name=case.item_name,
        department=case.department,
        state=case.state,
        state_zh=CASE_STATES[case.state][0],
        applicant_kind=case.applicant_kind,
        applicant_name=case.applicant_name,
        channel=case.channel,
        channel_zh=CASE_CHANNELS[case.channel][0],
        created_at=case.created_at,
        submitted_at=case.submitted_at,
        accepted_at=case.accepted_at,
        decided_at=case.decided_at,
        issued_at=case.issued_at,
        promised_due=case.promised_due,
        statutory_due=case.statutory_due,
        paused=case.paused_since is not None,
        paused_days=case.paused_days or 0,
        correction=correction,
        decision=case.decision,
        decision_reason=case.decision_reason,
        licence_no=case.licence_no,
        first_pass=case.first_pass,
    )


def diagram_state(case: Case) -> tuple[set[str], set[str]]:
    """The BPMN elements a diagram of the case marks as current and as done (none before the
    case is submitted)."""
    if case.process_state is None:
        return set(), set()
    return process.progress(process.loads(case.process_state))


__all__ = [
    "NOT_FOUND",
    "case_for",
    "case_out",
    "cases_of",
    "diagram_state",
    "events_of",
    "fields_of",
    "get_case",
    "is_officer_of",
    "is_party",
    "materials_of",
    "party_case",
    "tasks_of",
]


def cases_of_item(
    db: Session, item_code: str, states: Sequence[str], *, limit: int = 200
) -> list[Case]:
    query = (
        select(Case)
        .where(Case.item_code == item_code, Case.state.in_(list(states)))
        .order_by(Case.submitted_at, Case.id)
        .limit(limit)
    )
    return list(db.scalars(query))
