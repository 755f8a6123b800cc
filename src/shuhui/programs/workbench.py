"""Policy campaigns on the workbench: offers waiting for their recipient, candidates and
applications waiting for the department. Counts only, each one indexed query."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuhui.core.workbench import Todo
from shuhui.programs.models import Campaign, Candidate
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role


def count_for_recipient(db: Session, subjects: list[str]) -> dict[str, int]:
    """How many of the offers to ``subjects`` await an answer (offered) or the department's
    review of the application sent (applied)."""
    if not subjects:
        return {"offered": 0, "applied": 0}
    rows = db.execute(
        select(Candidate.status, func.count())
        .where(Candidate.subject.in_(subjects), Candidate.status.in_(("offered", "applied")))
        .group_by(Candidate.status)
    )
    counts = {"offered": 0, "applied": 0}
    counts.update({str(s): int(n) for s, n in rows})
    return counts


def count_for_department(db: Session, department: str | None) -> dict[str, int]:
    """How many candidates of the department's campaigns wait for its confirmation (pending)
    and how many applications for its decision (applied)."""
    counts = {"pending": 0, "applied": 0}
    if not department:
        return counts
    rows = db.execute(
        select(Candidate.status, func.count())
        .join(Campaign, Candidate.campaign_id == Campaign.id)
        .where(Campaign.department == department, Candidate.status.in_(("pending", "applied")))
        .group_by(Candidate.status)
    )
    counts.update({str(s): int(n) for s, n in rows})
    return counts


def todos(db: Session, user: User) -> list[Todo]:
    out: list[Todo] = []
    roles = user.role_set
    if roles & {Role.citizen, Role.enterprise}:
        mine = count_for_recipient(db, [s for s in (user.citizen_id, user.credit_code) if s])
        out += [
            Todo(
                "programs.offers",
                "待确认的政策待遇",
                "Benefits offered to you",
                mine["offered"],
                "/hrss/offers",
                "政府部门主动发现您可能符合的政策，请确认是否领取",
                "Policies a department found you may qualify for: accept or decline",
                urgent=mine["offered"] > 0,
            ),
            Todo(
                "programs.applied",
                "审核中的申请",
                "Applications under review",
                mine["applied"],
                "/hrss/offers",
                "您补充信息后提交的申请，等待部门审核",
                "Applications you completed, awaiting the department",
            ),
        ]
    if Role.officer in roles:
        dept = count_for_department(db, user.department)
        out += [
            Todo(
                "programs.candidates",
                "待确认的政策找人对象",
                "Campaign candidates to confirm",
                dept["pending"],
                "/hrss/campaigns",
                "本部门政策找人任务发现的对象，确认后推送给本人",
                "People your department's campaigns found; confirm to offer",
            ),
            Todo(
                "programs.applications",
                "待审核的政策申请",
                "Benefit applications to decide",
                dept["applied"],
                "/hrss/campaigns",
                "群众补充信息后提交的申请，请审核",
                "Applications completed by the people offered",
                urgent=dept["applied"] > 0,
            ),
        ]
    return out
