"""What follows for the person or enterprise once a department has confirmed them (政策找人):
their offers, their answer (accept, decline, or complete a short application where the data
was missing), the department's review of such an application, the grant, and the outbox that
tells them. The campaign itself (running a policy, the department's confirmation) is in
:mod:`shuhui.programs.service`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuhui.core.clock import as_utc, utcnow
from shuhui.core.errors import FieldError, Problem, invalid
from shuhui.core.i18n import Text
from shuhui.programs.models import BenefitGrant, Candidate, OutboxMessage
from shuhui.programs.service import (
    PURPOSE,
    REASON_MAX,
    Library,
    _application,
    _code,
    candidate,
)
from shuhui.trust.crypto.canonical import JsonValue
from shuhui.trust.ledger import service as ledger


def offers_for(db: Session, subjects: Sequence[str]) -> list[Candidate]:
    """The offers made to a person or an enterprise (newest first)."""
    if not subjects:
        return []
    return list(
        db.scalars(
            select(Candidate)
            .where(Candidate.subject.in_(subjects), Candidate.offered_at.is_not(None))
            .order_by(Candidate.offered_at.desc(), Candidate.id.desc())
        )
    )


def answer(
    db: Session,
    library: Library,
    offer_id: int,
    decision: str,
    *,
    subjects: Sequence[str],
    actor: str,
    answers: Mapping[str, str] | None = None,
    reason: str = "",
    now: datetime | None = None,
) -> Candidate:
    """The recipient accepts (the benefit is granted), declines (with an optional reason), or,
    where the data was incomplete, completes a short application (one answer per missing
    input), which goes back to the department."""
    now = as_utc(now or utcnow())
    row = candidate(db, offer_id)
    if row.subject not in subjects:
        raise Problem("not-found", detail=f"没有推送给您的政策 {offer_id}")
    if row.status != "offered":
        raise Problem(
            "conflict",
            errors=[
                FieldError(
                    "status", Text("这条推送已不在待您答复的状态", f"is {row.status}, not offered")
                )
            ],
        )
    detail: dict[str, JsonValue] = {"rule": row.campaign.rule}
    if decision == "decline":
        why = " ".join(reason.split())
        if len(why) > REASON_MAX:
            raise invalid(
                "reason", Text(f"最多 {REASON_MAX} 个字", f"at most {REASON_MAX} characters")
            )
        row.status, row.reason = "declined", why or None
        detail["reason"] = why
    elif decision == "accept":
        if row.outcome != "eligible":
            raise Problem(
                "conflict",
                detail="信息不完整，需先补充申请",
                errors=[
                    FieldError(
                        "decision",
                        Text("请先补全申请信息", "complete the application first (apply)"),
                    )
                ],
            )
    elif decision == "apply":
        if row.outcome != "undetermined":
            raise invalid(
                "decision",
                Text(
                    "只有缺少信息的推送才需要申请",
                    "only an offer with missing information is applied for",
                ),
            )
        rule = library.rule(row.campaign.rule)
        application = _application(rule, row, answers or {})
        # The policy again, for this one, with the answers in place of the missing inputs.
        found = library.explain(rule, row.campaign.evaluated_on, row.subject, application.values)
        row.application = application.texts
        row.applied_outcome = found.outcome
        row.applied_amount = None if found.amount is None else int(found.amount)
        row.status = "applied"
        detail["answers"] = dict(application.texts)
        detail["outcome"] = found.outcome
        detail["amount"] = row.applied_amount
    else:
        raise invalid("decision", Text("请选择接受、放弃或申请", "accept, decline or apply"))
    row.answered_at = now
    ledger.record(
        db,
        actor,
        {"decline": "programs.declined", "accept": "programs.accepted"}.get(
            decision, "programs.applied"
        ),
        subject=row.subject,
        purpose=PURPOSE,
        grant=row.campaign.code,
        detail=detail,
    )
    if decision == "accept":
        _grant(db, row, actor=actor, now=now)
    db.flush()
    return row


def review_application(
    db: Session,
    candidate_id: int,
    decision: str,
    reason: str,
    *,
    actor: str,
    department: str | None,
    now: datetime | None = None,
) -> Candidate:
    """The department decides a completed application: approve (granted) or reject (why)."""
    now = as_utc(now or utcnow())
    row = candidate(db, candidate_id)
    if row.campaign.department != department:
        raise Problem(
            "forbidden",
            errors=[
                FieldError(
                    "department",
                    Text(
                        f"只有{row.campaign.department}可以办理", f"only {row.campaign.department}"
                    ),
                )
            ],
        )
    if row.status != "applied":
        raise Problem(
            "conflict",
            errors=[
                FieldError(
                    "status", Text("这份申请不在待审核状态", f"is {row.status}, not applied")
                )
            ],
        )
    why = " ".join(reason.split())
    if len(why) > REASON_MAX:
        raise invalid("reason", Text(f"最多 {REASON_MAX} 个字", f"at most {REASON_MAX} characters"))
    if decision == "reject":
        if not why:
            raise invalid(
                "reason", Text("请说明不予通过的原因", "say why the application is rejected")
            )
        row.status, row.reason = "rejected", why
    elif decision != "approve":
        raise invalid("decision", Text("请选择通过或不予通过", "approve or reject"))
    elif row.applied_outcome != "eligible":
        # The policy, with the applicant's answers, does not say eligible: nothing to grant.
        raise Problem(
            "conflict",
            detail="按申请人所填信息评估，不符合政策条件，只能不予通过",
            errors=[
                FieldError(
                    "decision",
                    Text(
                        "按所填信息不符合条件，只能不予通过",
                        f"the answers give {row.applied_outcome}: reject",
                    ),
                )
            ],
        )
    row.reviewed_by, row.reviewed_at = actor, now
    ledger.record(
        db,
        actor,
        "programs.application_" + ("approved" if decision == "approve" else "rejected"),
        subject=row.subject,
        purpose=PURPOSE,
        grant=row.campaign.code,
        detail={"rule": row.campaign.rule, "reason": why, "outcome": row.applied_outcome},
    )
    if decision == "approve":
        _grant(db, row, actor=actor, now=now)
    db.flush()
    return row


def _grant(db: Session, row: Candidate, *, actor: str, now: datetime) -> BenefitGrant:
    taken = db.scalar(
        select(BenefitGrant).where(
            BenefitGrant.rule == row.campaign.rule, BenefitGrant.subject == row.subject
        )
    )
    if taken is not None:
        raise Problem(
            "conflict",
            detail="已在享受该项政策",
            errors=[
                FieldError(
                    "subject",
                    Text(f"已经享受过这项待遇（{taken.code}）", f"already granted ({taken.code})"),
                )
            ],
        )
    grant = BenefitGrant(
        code=_code("XS", now),
        rule=row.campaign.rule,
        subject=row.subject,
        # An application's amount is the policy's with the answers (the data alone had none).
        amount=row.applied_amount if row.application is not None else row.amount,
        candidate_id=row.id,
        granted_at=now,
        granted_by=actor,
    )
    db.add(grant)
    row.status, row.granted_at = "granted", now
    db.flush()
    ledger.record(
        db,
        actor,
        "programs.granted",
        subject=row.subject,
        purpose=PURPOSE,
        grant=grant.code,
        detail={"rule": row.campaign.rule, "campaign": row.campaign.code, "amount": grant.amount},
    )
    return grant


def grants_for(db: Session, subjects: Sequence[str]) -> list[BenefitGrant]:
    if not subjects:
        return []
    return list(
        db.scalars(
            select(BenefitGrant)
            .where(BenefitGrant.subject.in_(subjects))
            .order_by(BenefitGrant.granted_at.desc())
        )
    )


def outbox(db: Session, recipient: str | None = None, limit: int = 100) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if recipient is not None:
        query = query.where(OutboxMessage.recipient == recipient)
    return list(db.scalars(query))
