"""Policy campaigns over HTTP: the policy library, campaigns (run, candidates, confirmation,
funnel), and each recipient's offers (``/api/v1/programs/…``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from shuhui.core.bounds import Id, Offset
from shuhui.core.errors import Problem
from shuhui.programs import recipients, service
from shuhui.programs.models import CANDIDATE_STATES, BenefitGrant, Campaign, Candidate
from shuhui.programs.schemas import (
    AnswerIn,
    ApplicationReviewIn,
    CampaignIn,
    ConfirmIn,
    RejectIn,
)
from shuhui.rules.explain import Explanation
from shuhui.rules.language import Rule
from shuhui.trust.identity.deps import DB, CurrentUser, require_role
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role

api = APIRouter(prefix="/api/v1/programs", tags=["policy campaigns (政策找人)"])

Officer = Annotated[User, Depends(require_role(Role.officer))]
Recipient = Annotated[User, Depends(require_role(Role.citizen, Role.enterprise))]


def library_of(request: Request) -> service.Library:
    found: service.Library = request.app.state.policy_library
    return found


def subjects_of(user: User) -> list[str]:
    """Whom a user receives offers as: themselves (citizen ID), their enterprise (credit code)."""
    return [s for s in (user.citizen_id, user.credit_code) if s]


def rule_out(rule: Rule) -> dict[str, Any]:
    return {
        "code": rule.code,
        "name": {"zh": rule.name_zh, "en": rule.name_en},
        "entity": rule.entity.code,
        "department": rule.department,
        "valid_from": rule.valid_from.isoformat(),
        "valid_to": rule.valid_to.isoformat() if rule.valid_to else None,
        "reference": rule.reference,
        "summary": rule.summary,
        "parameters": [
            {
                "name": p.name,
                "zh": p.zh,
                "unit": p.unit,
                "reference": p.reference,
                "values": [{"from": d.isoformat(), "value": v} for d, v in p.values],
            }
            for p in service.parameter_history(rule)
        ],
    }


def campaign_out(c: Campaign) -> dict[str, Any]:
    return {
        "code": c.code,
        "rule": c.rule,
        "name": c.name,
        "entity": c.entity,
        "department": c.department,
        "evaluated_on": c.evaluated_on.isoformat(),
        "counts": c.counts,
        "missing": c.missing,
        "excluded": c.excluded,
        "scope": c.scope,
        "limit": c.candidate_limit,
        "versions": c.versions,
        "ms": c.ms,
        "created_by": c.created_by,
        "created_at": c.created_at.isoformat(),
    }


def candidate_out(c: Candidate) -> dict[str, Any]:
    return {
        "id": c.id,
        "campaign": c.campaign.code,
        "rule": c.campaign.rule,
        "policy": c.campaign.name,
        "subject": c.subject,
        "outcome": c.outcome,
        "amount_fen": c.amount,
        "missing": c.missing,
        "status": c.status,
        "status_zh": CANDIDATE_STATES[c.status][0],
        "reason": c.reason,
        "offered_at": c.offered_at.isoformat() if c.offered_at else None,
        "answered_at": c.answered_at.isoformat() if c.answered_at else None,
        "application": c.application,
        "applied_outcome": c.applied_outcome,
        "applied_amount_fen": c.applied_amount,
        "granted_at": c.granted_at.isoformat() if c.granted_at else None,
    }


def grant_out(g: BenefitGrant) -> dict[str, Any]:
    return {
        "code": g.code,
        "rule": g.rule,
        "subject": g.subject,
        "amount_fen": g.amount,
        "granted_at": g.granted_at.isoformat(),
        "granted_by": g.granted_by,
    }


def explanation_out(e: Explanation, locale: str = "zh-CN") -> dict[str, Any]:
    return {**e.as_dict(), "text": e.text(locale)}


@api.get("/policies", summary="The city's policies: conditions, references, parameter history")
def policies(request: Request, user: CurrentUser) -> list[dict[str, Any]]:
    book, _ = library_of(request).book()
    return [rule_out(r) for r in book.rules.values() if service.offerable(r)]


@api.post("/campaigns", status_code=201, summary="Run a policy over the city (its department)")
def run_campaign(body: CampaignIn, request: Request, db: DB, user: Officer) -> dict[str, Any]:
    c = service.run_campaign(
        db,
        library_of(request),
        body.rule,
        body.evaluated_on,
        actor=user.username,
        department=user.department,
        scope=body.scope,
        limit=body.limit,
    )
    return {**campaign_out(c), "funnel": service.funnel(db, c)}


@api.get("/campaigns", summary="The campaigns of the officer's department")
def campaigns(db: DB, user: Officer) -> list[dict[str, Any]]:
    return [campaign_out(c) for c in service.campaigns(db, user.department)]


@api.get("/campaigns/{code}", summary="A campaign and its funnel")
def campaign(code: str, db: DB, user: Officer) -> dict[str, Any]:
    c = service.campaign(db, code, user.department)
    return {**campaign_out(c), "funnel": service.funnel(db, c)}


@api.get("/campaigns/{code}/candidates", summary="A campaign's candidates, by status")
def candidates(
    code: str,
    db: DB,
    user: Officer,
    status: str | None = None,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    rows, total = service.candidates_of(
        db, service.campaign(db, code, user.department), status, offset=offset, limit=limit
    )
    return {"total": total, "items": [candidate_out(r) for r in rows]}


@api.get(
    "/candidates/{candidate_id}/explanation",
    summary="Why a candidate qualifies: conditions, inputs with their rows, parameters, references",
)
def candidate_explanation(
    candidate_id: Id, request: Request, db: DB, user: Officer
) -> dict[str, Any]:
    c = service.candidate(db, candidate_id, user.department)
    return explanation_out(
        service.explain_candidate(db, library_of(request), c, actor=user.username)
    )


@api.post("/campaigns/{code}/confirm", summary="Confirm candidates (all pending by default)")
def confirm(code: str, body: ConfirmIn, db: DB, user: Officer) -> dict[str, Any]:
    c = service.campaign(db, code, user.department)
    n = service.confirm(db, c, body.ids, actor=user.username, department=user.department)
    return {"confirmed": n, "funnel": service.funnel(db, c)}


@api.post("/campaigns/{code}/reject", summary="Do not confirm candidates, with the reason")
def reject(code: str, body: RejectIn, db: DB, user: Officer) -> dict[str, Any]:
    c = service.campaign(db, code, user.department)
    n = service.reject(
        db, c, body.ids, body.reason, actor=user.username, department=user.department
    )
    return {"rejected": n, "funnel": service.funnel(db, c)}


@api.post(
    "/candidates/{candidate_id}/review", summary="Decide a completed application (department)"
)
def review(candidate_id: Id, body: ApplicationReviewIn, db: DB, user: Officer) -> dict[str, Any]:
    row = recipients.review_application(
        db,
        candidate_id,
        body.decision,
        body.reason,
        actor=user.username,
        department=user.department,
    )
    return candidate_out(row)


@api.get("/offers", summary="The policies offered to me (为我推荐的政策)")
def offers(db: DB, user: Recipient) -> list[dict[str, Any]]:
    return [candidate_out(c) for c in recipients.offers_for(db, subjects_of(user))]


@api.get("/offers/{offer_id}/explanation", summary="Why I qualify")
def offer_explanation(offer_id: Id, request: Request, db: DB, user: Recipient) -> dict[str, Any]:
    c = _my_offer(db, offer_id, user)
    return explanation_out(service.explain_candidate(db, library_of(request), c))


@api.post("/offers/{offer_id}/answer", summary="Accept, decline, or complete an application")
def answer(
    offer_id: Id, body: AnswerIn, request: Request, db: DB, user: Recipient
) -> dict[str, Any]:
    row = recipients.answer(
        db,
        library_of(request),
        offer_id,
        body.decision,
        subjects=subjects_of(user),
        actor=user.username,
        answers=body.answers,
        reason=body.reason,
    )
    return candidate_out(row)


@api.get("/grants", summary="The benefits I receive")
def grants(db: DB, user: Recipient) -> list[dict[str, Any]]:
    return [grant_out(g) for g in recipients.grants_for(db, subjects_of(user))]


def _my_offer(db: DB, offer_id: int, user: User) -> Candidate:
    c = service.candidate(db, offer_id)
    if c.subject not in subjects_of(user) or c.offered_at is None:
        raise Problem("not-found", detail=f"没有推送给您的政策 {offer_id}")
    return c
