"""Enterprises' needs (企业诉求): posted by an enterprise, routed by kind to the department that
handles it (``content/<city>/enterprise/needs.yaml``), with a time limit in working days, moved
受理 → 办理 → 办结 by an officer of that department, and rated by the enterprise once closed.

The platform accepts (受理) a need the moment it is posted: it is complete by its schema and the
department is known from its kind, so there is nothing an officer would check before accepting.
An officer of the department takes it (办理, the need is theirs from then on) and closes it
(办结) saying what was done; the enterprise is told in its messages, with a button to the need.
The bureau that runs the platform sees every need; a department sees its own. Every step is a
ledger entry about the enterprise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shuhui.approval.calendar import add_working_days
from shuhui.core.clock import SHANGHAI, as_utc, local_today, utcnow
from shuhui.core.content import load_items
from shuhui.core.errors import FieldError, Problem
from shuhui.enterprise.access import CITY, NEEDS_FILE, NEEDS_KIND, is_bureau
from shuhui.enterprise.models import Need, NeedStep
from shuhui.enterprise.schemas import NEED_KINDS, NeedCloseIn, NeedIn, NeedStepIn, RatingIn
from shuhui.programs import messages
from shuhui.trust.identity.models import User
from shuhui.trust.ledger import service as ledger

CODE_PREFIX: Final = "SQ"
STATES: Final = ("received", "handling", "closed")
STATE_NAMES: Final = {"received": "已受理", "handling": "办理中", "closed": "已办结"}
STEP_NAMES: Final = {
    "posted": "提出诉求（平台受理）",
    "taken": "部门开始办理",
    "closed": "办结",
    "rated": "企业评价",
}


@dataclass(frozen=True)
class NeedKind:
    code: str
    zh: str
    en: str
    department: str
    days: int
    reference: str


def kinds(content: Path = CITY) -> dict[str, NeedKind]:
    """The kinds of need in force, in the content's order."""
    items = load_items(content / NEEDS_FILE, NEEDS_KIND)
    found: dict[str, NeedKind] = {}
    for item in items:
        if item.code == "bureau":
            continue
        found[item.code] = NeedKind(
            code=item.code,
            zh=item.name_zh,
            en=item.name_en,
            department=str(item.attrs["department"]),
            days=int(item.attrs["days"]),
            reference=item.reference,
        )
    if set(found) != set(NEED_KINDS):
        raise ValueError(f"{items.path}: need kinds must be exactly {NEED_KINDS}")
    return found


def _due(posted: datetime, days: int) -> datetime:
    """The end of the ``days``-th working day after the posting day, Qingdao time."""
    last = add_working_days(local_today(posted), days)
    return as_utc(datetime.combine(last, time(23, 59, 59), tzinfo=SHANGHAI))


def _next_code(db: Session, at: datetime) -> str:
    stem = f"{CODE_PREFIX}-{local_today(at):%Y%m%d}-"
    latest = db.scalar(select(func.max(Need.code)).where(Need.code.like(f"{stem}%")))
    return f"{stem}{(int(latest[len(stem) :]) + 1) if latest else 1:06d}"


def _step(db: Session, need: Need, step: str, actor: str, note: str, at: datetime) -> None:
    db.add(NeedStep(need_id=need.id, step=step, actor=actor, note=note, at=at))


def post(
    db: Session,
    user: User,
    credit_code: str,
    enterprise_name: str,
    given: NeedIn,
    *,
    matches: Sequence[dict[str, Any]] = (),
    content: Path = CITY,
    now: datetime | None = None,
) -> Need:
    """Posts and accepts a need; ``matches`` are what the enterprise was shown, kept with it."""
    at = as_utc(now or utcnow())
    kind = kinds(content)[given.kind]
    if given.kind != "financing" and given.amount is not None:
        raise Problem(
            "validation",
            "只有融资诉求填写金额",
            errors=[FieldError("amount", "只有融资诉求需要填写金额，请清空")],
        )
    if given.kind == "financing" and not given.amount:
        raise Problem(
            "validation",
            "请填写融资金额",
            errors=[FieldError("amount", "融资诉求请填写需要的金额（元）")],
        )
    for _ in range(5):  # another need posted the same second may take the code first
        need = Need(
            code=_next_code(db, at),
            credit_code=credit_code,
            enterprise_name=enterprise_name[:128],
            kind=given.kind,
            title=given.title,
            detail=given.detail,
            amount_fen=given.amount,
            department=kind.department,
            state="received",
            posted_by=user.username,
            posted_at=at,
            due_at=_due(at, kind.days),
            matches=list(matches),
        )
        try:
            with db.begin_nested():
                db.add(need)
                db.flush()
            break
        except IntegrityError:
            continue
    else:
        raise Problem("conflict", "诉求编号生成冲突，请稍后再试")
    _step(db, need, "posted", user.username, "", at)
    ledger.record(
        db,
        actor=f"user:{user.username}",
        action="enterprise.need_posted",
        subject=credit_code,
        detail={"need": need.code, "kind": need.kind, "department": need.department},
    )
    return need


def need_for_enterprise(db: Session, credit_code: str, code: str) -> Need:
    need = db.scalar(select(Need).where(Need.code == code[:32]))
    if need is None or need.credit_code != credit_code:
        raise Problem("not-found", "没有这件诉求")
    return need


def may_handle(user: User, need: Need, content: Path = CITY) -> bool:
    """An officer of the need's department; the bureau may look, not handle others' needs."""
    return user.department == need.department


def may_see(user: User, need: Need, content: Path = CITY) -> bool:
    return may_handle(user, need, content) or is_bureau(user, content)


def need_for_officer(db: Session, user: User, code: str, content: Path = CITY) -> Need:
    need = db.scalar(select(Need).where(Need.code == code[:32]))
    if need is None or not may_see(user, need, content):
        raise Problem("not-found", "没有这件诉求")
    return need


def _lock(db: Session, need: Need) -> Need:
    """The need's row, locked (PostgreSQL): two officers acting at once act one after the other."""
    locked = db.scalar(select(Need).where(Need.id == need.id).with_for_update())
    assert locked is not None
    db.refresh(locked)
    return locked


def _move(
    db: Session,
    user: User,
    code: str,
    *,
    step: str,
    from_state: str,
    refused: str,
    note: str,
    at: datetime,
    content: Path,
) -> Need:
    """One step of the department's work on a need: the need locked, the officer of its
    department, the state the step starts from; the step recorded, in the ledger too."""
    need = _lock(db, need_for_officer(db, user, code, content))
    if not may_handle(user, need, content):
        raise Problem("forbidden", f"这件诉求由{need.department}办理")
    if need.state != from_state:
        now_in = STATE_NAMES[need.state]
        raise Problem(
            "conflict",
            f"这件诉求{now_in}，{refused}",
            errors=[FieldError("state", f"当前状态：{now_in}")],
        )
    _step(db, need, step, user.username, note, at)
    ledger.record(
        db,
        actor=f"user:{user.username}",
        action=f"enterprise.need_{step}",
        subject=need.credit_code,
        detail={"need": need.code},
    )
    return need


def take(
    db: Session,
    user: User,
    code: str,
    given: NeedStepIn,
    *,
    content: Path = CITY,
    now: datetime | None = None,
) -> Need:
    """受理 → 办理: an officer of the department takes the need."""
    at = as_utc(now or utcnow())
    need = _move(
        db,
        user,
        code,
        step="taken",
        from_state="received",
        refused="不能再受理",
        note=given.note,
        at=at,
        content=content,
    )
    need.state, need.handler, need.handling_at = "handling", user.username, at
    return need


def close(
    db: Session,
    user: User,
    code: str,
    given: NeedCloseIn,
    *,
    content: Path = CITY,
    now: datetime | None = None,
) -> Need:
    """办理 → 办结, saying what was done; the enterprise is told."""
    at = as_utc(now or utcnow())
    need = _move(
        db,
        user,
        code,
        step="closed",
        from_state="handling",
        refused="只有办理中的诉求可以办结",
        note=given.note,
        at=at,
        content=content,
    )
    need.state, need.closed_at, need.outcome = "closed", at, given.note
    messages.send(
        db,
        need.credit_code,
        f"您的诉求“{need.title}”已办结",
        f"{need.department}已办结您的诉求：{given.note[:300]} 欢迎对办理情况进行评价。",
        sms=False,
        link=(f"/enterprise/needs/{need.code}", "查看并评价"),
        now=at,
    )
    return need


def rate(
    db: Session,
    user: User,
    credit_code: str,
    code: str,
    given: RatingIn,
    *,
    now: datetime | None = None,
) -> Need:
    """The enterprise rates a closed need, once."""
    at = as_utc(now or utcnow())
    need = _lock(db, need_for_enterprise(db, credit_code, code))
    if need.state != "closed":
        raise Problem(
            "conflict",
            "诉求办结后才能评价",
            errors=[FieldError("stars", f"当前状态：{STATE_NAMES[need.state]}")],
        )
    if need.rating is not None:
        raise Problem(
            "conflict", "这件诉求已经评价过了", errors=[FieldError("stars", "每件诉求只能评价一次")]
        )
    need.rating, need.rating_comment, need.rated_at = given.stars, given.comment, at
    _step(db, need, "rated", user.username, given.comment, at)
    ledger.record(
        db,
        actor=f"user:{user.username}",
        action="enterprise.need_rated",
        subject=credit_code,
        detail={"need": need.code, "stars": given.stars},
    )
    return need


def needs_of(db: Session, credit_code: str, limit: int = 50) -> list[Need]:
    return list(
        db.scalars(
            select(Need)
            .where(Need.credit_code == credit_code)
            .order_by(Need.posted_at.desc(), Need.id.desc())
            .limit(limit)
        )
    )


def queue(
    db: Session,
    user: User,
    *,
    state: str | None = None,
    content: Path = CITY,
    limit: int = 50,
    offset: int = 0,
) -> list[Need]:
    """The needs an officer sees: the department's own, or every one for the bureau; open ones
    by due date first."""
    query = select(Need)
    if not is_bureau(user, content):
        query = query.where(Need.department == (user.department or ""))
    if state is not None:
        query = query.where(Need.state == state)
    query = query.order_by((Need.state == "closed").asc(), Need.due_at.asc(), Need.id.asc())
    return list(db.scalars(query.limit(limit).offset(offset)))


def steps_of(db: Session, need: Need) -> list[NeedStep]:
    return list(
        db.scalars(select(NeedStep).where(NeedStep.need_id == need.id).order_by(NeedStep.id))
    )


def overdue(need: Need, now: datetime | None = None) -> bool:
    return need.state != "closed" and as_utc(now or utcnow()) > as_utc(need.due_at)


def counts(
    db: Session, department: str | None = None, now: datetime | None = None
) -> dict[str, int]:
    """Needs by state (and how many open ones are past their due date), for one department or,
    with None, the whole platform."""
    at = as_utc(now or utcnow())
    query = select(Need.state, func.count()).group_by(Need.state)
    late = select(func.count()).where(Need.state != "closed", Need.due_at < at)
    if department is not None:
        query = query.where(Need.department == department)
        late = late.where(Need.department == department)
    found = {state: 0 for state in STATES}
    found.update({str(state): int(n) for state, n in db.execute(query)})
    found["overdue"] = int(db.scalar(late) or 0)
    return found


def by_kind(db: Session) -> list[dict[str, Any]]:
    """The platform's needs per kind and state, with the mean rating of the closed ones."""
    rows = db.execute(
        select(Need.kind, Need.state, func.count(), func.avg(Need.rating)).group_by(
            Need.kind, Need.state
        )
    )
    table: dict[str, dict[str, Any]] = {}
    for kind, state, n, rating in rows:
        entry = table.setdefault(str(kind), {"kind": kind, **dict.fromkeys(STATES, 0)})
        entry[str(state)] = int(n)
        if state == "closed" and rating is not None:
            entry["rating"] = round(float(rating), 1)
    return list(table.values())
