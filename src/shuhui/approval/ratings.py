"""Service evaluation (好差评): the applicant rates each finished case; a bad rating (1–2 stars)
opens a follow-up (差评整改) for the department that decided the case, which answers and closes it.

Who may rate: the applicant (the account whose citizen ID or credit code the case is for) or the
account that applied (an agent under a mandate), once per case, after the case is finished
(issued or rejected). Everyone else is told the case does not exist, as elsewhere: a case that
is not one's own is not shown. Only an officer of the follow-up's department may answer it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shuhui.approval.models import Case, FollowUp, Rating
from shuhui.approval.schemas import (
    BAD_STARS,
    MAX_COMMENT,
    MAX_REPLY,
    FollowUpCounts,
    FollowUpOut,
    RatingIn,
    RatingOut,
)
from shuhui.core.clock import as_utc, utcnow
from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role
from shuhui.trust.ledger import service as ledger

FINISHED: Final = ("issued", "rejected")
FollowUpState = Literal["open", "closed"]


def _not_found(code: str) -> Problem:
    return Problem("not-found", detail=f"办件 {code} 不存在")


def _conflict(field: str, zh: str, en: str) -> Problem:
    return Problem("conflict", detail=zh, errors=[FieldError(field, Text(zh, en))])


def _invalid(field: str, zh: str, en: str) -> Problem:
    return Problem("validation", errors=[FieldError(field, Text(zh, en))])


def may_rate(user: User, case: Case) -> bool:
    """The applicant's own account, or the account that applied for them."""
    own = case.applicant_id in {user.citizen_id, user.credit_code} - {None}
    return own or case.created_by == user.username


def _clean(text: str, limit: int, field: str) -> str:
    cleaned = text.strip()
    if len(cleaned) > limit:
        raise _invalid(field, f"最多 {limit} 个字", f"at most {limit} characters")
    if any(ord(c) < 32 and c not in "\n\t" for c in cleaned):
        raise _invalid(field, "含有不可见的控制字符", "contains control characters")
    return cleaned


def rating_of(db: Session, case: Case) -> Rating | None:
    return db.scalar(select(Rating).where(Rating.case_id == case.id))


def rate(
    db: Session, user: User, case_code: str, given: RatingIn, *, now: datetime | None = None
) -> Rating:
    """Records the rating; a bad one opens the department's follow-up. 404 for a case that is
    not the user's, 409 for one not finished or already rated."""
    case = db.scalar(select(Case).where(Case.code == case_code))
    if case is None or not may_rate(user, case):
        raise _not_found(case_code)
    if not 1 <= given.stars <= 5:
        raise _invalid("stars", "请选择 1 到 5 星", "1 to 5 stars")
    comment = _clean(given.comment, MAX_COMMENT, "comment")
    if case.state not in FINISHED:
        raise _conflict("case", "办件办结后才能评价", f"the case is {case.state}, not finished")
    if rating_of(db, case) is not None:
        raise _conflict("case", "这件办件已经评价过了", "the case is already rated")
    now = as_utc(now or utcnow())
    rating = Rating(
        case_id=case.id,
        department=case.department,
        stars=given.stars,
        comment=comment,
        rated_by=user.username,
        rated_at=now,
    )
    try:
        with db.begin_nested():
            db.add(rating)
            db.flush()
    except IntegrityError:  # rated at the same moment by another request
        raise _conflict("case", "这件办件已经评价过了", "the case is already rated") from None
    ledger.record(
        db,
        user.username,
        "approval.rating.given",
        subject=case.applicant_id,
        purpose="service evaluation",
        grant=case.code,
        detail={"stars": given.stars, "department": case.department, "item": case.item_code},
    )
    if given.stars <= BAD_STARS:
        followup = FollowUp(
            rating_id=rating.id, department=case.department, state="open", opened_at=now
        )
        db.add(followup)
        db.flush()
        ledger.record(
            db,
            user.username,
            "approval.followup.opened",
            subject=case.applicant_id,
            purpose="bad rating followed up by the department",
            grant=case.code,
            detail={"followup": followup.id, "department": case.department},
        )
    return rating


def rating_out(db: Session, rating: Rating) -> RatingOut:
    case = db.get(Case, rating.case_id)
    assert case is not None
    followup = db.scalar(select(FollowUp).where(FollowUp.rating_id == rating.id))
    return RatingOut(
        case_code=case.code,
        stars=rating.stars,
        comment=rating.comment,
        rated_at=rating.rated_at,
        followup_id=None if followup is None else followup.id,
        followup_state=None if followup is None else _state(followup.state),
    )


def _state(value: str) -> FollowUpState:
    return "closed" if value == "closed" else "open"


def _officer_department(user: User) -> str:
    if Role.officer not in user.role_set or not user.department:
        raise Problem("forbidden", detail="只有部门工作人员可以处理差评整改")
    return user.department


def reply_followup(
    db: Session, officer: User, followup_id: int, reply: str, *, now: datetime | None = None
) -> FollowUp:
    """The department's answer: closes the follow-up. 404 for another department's (it is not
    shown to them), 409 for one already closed."""
    department = _officer_department(officer)
    followup = db.get(FollowUp, followup_id)
    if followup is None or followup.department != department:
        raise Problem("not-found", detail=f"整改单 {followup_id} 不存在")
    text = _clean(reply, MAX_REPLY, "reply")
    if not text:
        raise _invalid("reply", "请填写答复内容", "write the reply")
    now = as_utc(now or utcnow())
    # One conditional update: of two officers answering at once, one closes it.
    closed = db.execute(
        update(FollowUp)
        .where(FollowUp.id == followup.id, FollowUp.state == "open")
        .values(state="closed", reply=text, closed_at=now, closed_by=officer.username)
        .execution_options(synchronize_session=False)
    )
    if int(getattr(closed, "rowcount", 0) or 0) != 1:
        raise _conflict("state", "这条差评已经答复办结", "the follow-up is already closed")
    db.refresh(followup)
    rating = db.get(Rating, followup.rating_id)
    case = None if rating is None else db.get(Case, rating.case_id)
    ledger.record(
        db,
        officer.username,
        "approval.followup.replied",
        subject=None if case is None else case.applicant_id,
        purpose="department answered a bad rating",
        grant=None if case is None else case.code,
        detail={"followup": followup.id, "department": department},
    )
    return followup


def followups(
    db: Session,
    officer: User,
    state: FollowUpState | None = None,
    *,
    limit: int = 50,
    offset: int = 0,
) -> list[FollowUpOut]:
    """The officer's department's follow-ups, the oldest open first (then the newest closed)."""
    department = _officer_department(officer)
    query = (
        select(FollowUp, Rating, Case)
        .join(Rating, Rating.id == FollowUp.rating_id)
        .join(Case, Case.id == Rating.case_id)
        .where(FollowUp.department == department)
    )
    if state is not None:
        query = query.where(FollowUp.state == state)
    query = query.order_by(
        (FollowUp.state == "closed").asc(),
        FollowUp.opened_at.asc(),
        FollowUp.id.asc(),
    )
    return [
        FollowUpOut(
            id=f.id,
            case_code=c.code,
            item_name=c.item_name,
            department=f.department,
            stars=r.stars,
            comment=r.comment,
            rated_at=r.rated_at,
            state=_state(f.state),
            opened_at=f.opened_at,
            reply=f.reply,
            closed_at=f.closed_at,
            closed_by=f.closed_by,
        )
        for f, r, c in db.execute(query.limit(limit).offset(offset))
    ]


def followup_counts(db: Session, officer: User) -> FollowUpCounts:
    """Open and closed follow-ups of the officer's department: one grouped count (the
    workbench's card shows the open ones)."""
    department = _officer_department(officer)
    counts: dict[str, int] = {
        state: int(n)
        for state, n in db.execute(
            select(FollowUp.state, func.count())
            .where(FollowUp.department == department)
            .group_by(FollowUp.state)
        )
    }
    return FollowUpCounts(open=counts.get("open", 0), closed=counts.get("closed", 0))


def count_open_followups(db: Session, officer: User) -> int:
    """Open follow-ups of the officer's department, 0 for anyone who is not an officer: one
    indexed COUNT, for a workbench card."""
    if Role.officer not in officer.role_set or not officer.department:
        return 0
    return (
        db.scalar(
            select(func.count())
            .select_from(FollowUp)
            .where(FollowUp.department == officer.department, FollowUp.state == "open")
        )
        or 0
    )
