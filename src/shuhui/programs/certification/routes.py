"""Pension certification over HTTP (``/api/v1/programs/certification/…``): the cycle's run and
its figures (the implementing department's officers), one recipient's certification with the
evidence it rests on (an officer's look, recorded in the ledger), the pensioner's own status
and self-certification, the street offices' home visits, and the overpayments' recoveries.
Thin: the schemas are the pages' too, the acts are ``service``'s, the reads ``views``'."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from shuhui.core.bounds import Id, Offset
from shuhui.core.clock import local_today
from shuhui.core.errors import FieldError, Problem
from shuhui.core.http import problem_answer
from shuhui.core.i18n import Text
from shuhui.programs.certification import service, views
from shuhui.programs.certification.models import (
    METHODS,
    OUTCOMES,
    OVERPAYMENT_STATES,
    PAYMENT_STATES,
    VISIT_OUTCOMES,
    VISIT_STATES,
    Certification,
    CycleRun,
    HomeVisit,
    Overpayment,
)
from shuhui.programs.certification.schemas import CycleIn, RecoveryIn, SelfCertifyIn, VisitIn
from shuhui.programs.certification.service import CertificationRefused, Standing
from shuhui.programs.routes import explanation_out, library_of
from shuhui.trust.authorisations.context import OWN_PASSWORD_FIRST, signature_or_password
from shuhui.trust.identity.deps import DB, require_role
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role

api = APIRouter(prefix="/api/v1/programs/certification", tags=["pension certification (无感认证)"])

# The evidence rule the cycle runs (content/qingdao/policies/pension-certification.yaml): its
# department is the one that runs the cycle and reads the recipients' records.
RULE: Final = "pension-certification"
# A street office (街道办事处) receives the home visits of its area.
STREET_OFFICE: Final = "街道办事处"
# Why an officer reads a recipient's record (the ledger's purpose).
PURPOSE: Final = "养老保险待遇领取资格认证"

Officer = Annotated[User, Depends(require_role(Role.officer))]
Citizen = Annotated[User, Depends(require_role(Role.citizen))]


def department_of_cycle(request: Request) -> str:
    return library_of(request).rule(RULE).department


def hr_officer(request: Request, user: User) -> User:
    """The officer must belong to the department that implements the certification."""
    wanted = department_of_cycle(request)
    if user.department != wanted:
        raise Problem(
            "forbidden",
            detail=Text(
                f"养老保险待遇资格认证由{wanted}办理",
                f"pension certification is run by {wanted}",
            ),
        )
    return user


def street_officer(user: User) -> User:
    if not (user.department or "").endswith(STREET_OFFICE):
        raise Problem(
            "forbidden",
            detail=Text("上门认证任务由街道办事处办理", "home visits are a street office's work"),
        )
    return user


def pensioner_id(user: User) -> str:
    if not user.citizen_id:
        raise Problem(
            "not-found",
            detail=Text("您的账户尚未绑定身份证号", "your account has no citizen ID bound"),
        )
    return user.citizen_id


# --- what is returned ----------------------------------------------------------------------


def run_out(r: CycleRun) -> dict[str, Any]:
    return {
        "run_on": r.run_on.isoformat(),
        "rule": r.rule,
        "counts": r.counts,
        "versions": r.versions,
        "ms": r.ms,
        "created_by": r.created_by,
        "created_at": r.created_at.isoformat(),
    }


def certification_out(c: Certification) -> dict[str, Any]:
    return {
        "citizen_id": c.citizen_id,
        "year": c.year,
        "window": {"start": c.window_start.isoformat(), "end": c.window_end.isoformat()},
        "outcome": c.outcome,
        "outcome_zh": OUTCOMES.get(c.outcome, (c.outcome,))[0],
        "method": c.method,
        "method_zh": METHODS[c.method][0] if c.method in METHODS else None,
        "evidence": c.evidence,
        "score": c.score,
        "rule": c.rule,
        "evaluated_on": c.evaluated_on.isoformat(),
        "certified_on": c.certified_on.isoformat() if c.certified_on else None,
        "died_on": c.died_on.isoformat() if c.died_on else None,
        "notified_at": c.notified_at.isoformat() if c.notified_at else None,
        "signed": c.signature is not None,
    }


def payment_of(s: Standing) -> str:
    """normal | suspended | stopped: the pensions' payment as it stands (stopped wins)."""
    states = {h.status for h in s.holds}
    return "stopped" if "stopped" in states else ("suspended" if states else "normal")


def standing_out(s: Standing) -> dict[str, Any]:
    payment = payment_of(s)
    return {
        "citizen_id": s.citizen_id,
        "payment": payment,
        "payment_zh": PAYMENT_STATES[payment][0],
        "may_self_certify": s.may_self_certify,
        "current": certification_out(s.current) if s.current else None,
        "history": [certification_out(c) for c in s.history],
        "holds": [
            {
                "pension_id": h.pension_id,
                "status": h.status,
                "since": h.since.isoformat(),
                "monthly_amount_fen": h.monthly_amount_fen,
            }
            for h in s.holds
        ],
        "resumptions": [
            {
                "pension_id": x.pension_id,
                "suspended_from": x.suspended_from.isoformat(),
                "resumed_on": x.resumed_on.isoformat(),
                "months": x.months,
                "monthly_amount_fen": x.monthly_amount_fen,
                "back_pay_fen": x.back_pay_fen,
            }
            for x in s.resumptions
        ],
        "overpayments": [overpayment_out(o) for o in s.overpayments],
        "visits": [visit_out(v) for v in s.visits],
    }


def visit_out(v: HomeVisit) -> dict[str, Any]:
    return {
        "id": v.id,
        "citizen_id": v.citizen_id,
        "department": v.department,
        "due_on": v.due_on.isoformat(),
        "status": v.status,
        "status_zh": VISIT_STATES.get(v.status, (v.status,))[0],
        "outcome": v.outcome,
        "outcome_zh": VISIT_OUTCOMES[v.outcome][0] if v.outcome in VISIT_OUTCOMES else None,
        "died_on": v.died_on.isoformat() if v.died_on else None,
        "note": v.note,
        "done_at": v.done_at.isoformat() if v.done_at else None,
        "done_by": v.done_by,
    }


def overpayment_out(o: Overpayment) -> dict[str, Any]:
    return {
        "id": o.id,
        "pension_id": o.pension_id,
        "citizen_id": o.citizen_id,
        "died_on": o.died_on.isoformat(),
        "stopped_from": o.stopped_from.isoformat(),
        "months": o.months,
        "amount_fen": o.amount_fen,
        "recovered_fen": o.recovered_fen,
        "outstanding_fen": o.amount_fen - o.recovered_fen,
        "status": o.status,
        "status_zh": OVERPAYMENT_STATES.get(o.status, (o.status,))[0],
    }


# --- the cycle -------------------------------------------------------------------------------


def run_cycle(request: Request, db: Session, user: User, on: date | None) -> tuple[CycleRun, bool]:
    """The cycle on ``on`` (today by default) as ``user`` (the implementing department's), and
    whether it changed anything (a date already run changes nothing: ``False``)."""
    done = service.run(
        db,
        library_of(request),
        request.app.state.settings,
        on,
        actor=user.username,
        department=user.department,
    )
    made = views.run_by_id(db, done.run_id)
    assert made is not None  # the run the service just made or found
    return made, not done.already_run


@api.post(
    "/cycles",
    status_code=201,
    summary="Run the certification cycle over the city on a date (the implementing department)",
    responses={200: {"description": "already run on that date: nothing changed"}},
)
def cycle(body: CycleIn, request: Request, db: DB, user: Officer) -> JSONResponse:
    made, new = run_cycle(request, db, user, body.date)
    out: dict[str, Any] = {**run_out(made), "changed": new}
    if not new:
        out["detail"] = f"{made.run_on.isoformat()} 的认证已经运行过，本次没有改变任何记录"
    return JSONResponse(out, status_code=201 if new else 200)


@api.get("/cycles", summary="The latest cycle runs, newest first")
def cycles(request: Request, db: DB, user: Officer) -> list[dict[str, Any]]:
    hr_officer(request, user)
    return [run_out(r) for r in service.runs(db, limit=50)]


def dashboard_out(d: service.Dashboard) -> dict[str, Any]:
    certified = sum(d.certified.values())
    return {
        "year": d.year,
        "certified": {**d.certified, "total": certified},
        "rate": round(d.rate, 6),
        "data_rate": round(d.data_rate, 6),
        "undetermined": d.undetermined,
        "deceased": d.deceased,
        "suspended": d.suspended,
        "stopped": d.stopped,
        "resumed": d.resumed,
        "back_pay_fen": d.back_pay_fen,
        "overpayments": {
            "count": d.overpayments,
            "amount_fen": d.overpaid_fen,
            "recovered_fen": d.recovered_fen,
            "outstanding_fen": d.overpaid_fen - d.recovered_fen,
        },
    }


def year_or_latest(db: Session, year: int | None) -> int:
    if year is not None:
        return year
    known = service.open_years(db)
    return known[0] if known else local_today().year


@api.get("/dashboard", summary="The cycle dashboard's figures for a certification year")
def dashboard(
    request: Request,
    db: DB,
    user: Officer,
    year: Annotated[int | None, Query(ge=1900, le=2100)] = None,
) -> dict[str, Any]:
    hr_officer(request, user)
    found = service.dashboard(db, year_or_latest(db, year))
    return {
        **dashboard_out(found),
        "over_time": [
            {"month": p.month, "data": p.data, "self": p.self, "visit": p.visit}
            for p in views.over_time(db, found.year)
        ],
    }


@api.get(
    "/recipients/{citizen_id}",
    summary="A recipient's certification, the evidence rows it rests on, the payment status",
)
def recipient(
    citizen_id: Annotated[str, Path(min_length=1, max_length=32)],
    request: Request,
    db: DB,
    user: Officer,
) -> dict[str, Any]:
    hr_officer(request, user)
    current = views.latest(db, citizen_id)
    why = service.explain(db, library_of(request), current.id, actor=user.username)
    return {
        **standing_out(service.standing(db, current.citizen_id)),
        "explanation": explanation_out(why),
    }


# --- the pensioner ---------------------------------------------------------------------------


@api.get("/mine", summary="My pension certification (我的养老金资格认证)")
def mine(db: DB, user: Citizen) -> dict[str, Any]:
    found = service.standing(db, pensioner_id(user))
    if found.current is None:
        raise Problem("not-found", detail="您没有需要认证的养老保险待遇")
    return standing_out(found)


def self_certify(request: Request, db: Session, user: User, body: SelfCertifyIn) -> None:
    """Re-authentication (the password again: the session alone does not sign), then the
    declaration signed through the trust layer. Only the account bound to the recipient's ID
    certifies: a certification of being alive is never an agent's (``service``)."""
    citizen_id = pensioner_id(user)
    if not user.password_by_holder:
        # Whoever set the password (an admin) could otherwise sign in the person's name.
        raise Problem(
            "forbidden",
            detail=OWN_PASSWORD_FIRST,
            errors=[FieldError("password", OWN_PASSWORD_FIRST)],
        )
    signature = signature_or_password(user, body.password, body.signature_base64)
    service.self_certify(
        db,
        request.app.state.settings.data_dir,
        citizen_id,
        signer_citizen_id=user.citizen_id,
        actor=user.username,
        signature=signature,
    )


@api.post("/mine/certify", summary="Certify myself: a declaration signed after my password")
def certify(body: SelfCertifyIn, request: Request, db: DB, user: Citizen) -> Response:
    try:
        self_certify(request, db, user, body)
    except CertificationRefused as refused:
        # Its ledger entry is written: answered, not raised, so the request's commit keeps it.
        return problem_answer(request, refused)
    return JSONResponse(standing_out(service.standing(db, pensioner_id(user))))


# --- the street office -----------------------------------------------------------------------


@api.get("/visits", summary="The home visits asked of my street office")
def visits(
    request: Request,
    db: DB,
    user: Officer,
    status: Annotated[str, Query(pattern="^(open|done|all)$")] = "open",
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=views.PAGE_MAX)] = 50,
) -> dict[str, Any]:
    street_officer(user)
    rows, total = views.visits(
        db, user.department, None if status == "all" else status, offset=offset, limit=limit
    )
    # The open tasks name whom to visit and where (each read a ledger entry about the person).
    whom = views.whom_to_visit(
        db,
        library_of(request),
        [v.citizen_id for v in rows if v.status == "open"],
        actor=user.username,
    )
    items = []
    for v in rows:
        item = visit_out(v)
        found = whom.get(v.citizen_id)
        item["name"], item["address"] = (found.name, found.address) if found else (None, None)
        items.append(item)
    return {"total": total, "items": items}


def record_visit(
    request: Request, db: Session, user: User, visit_id: int, body: VisitIn
) -> HomeVisit:
    street_officer(user)
    return service.record_visit(
        db,
        library_of(request),
        visit_id,
        outcome=body.outcome,
        actor=user.username,
        department=user.department,
        died_on=body.died_on,
        note=body.note or None,
    )


@api.post("/visits/{visit_id}", summary="Record what a home visit found")
def visit(visit_id: Id, body: VisitIn, request: Request, db: DB, user: Officer) -> dict[str, Any]:
    return visit_out(record_visit(request, db, user, visit_id, body))


# --- overpayments ----------------------------------------------------------------------------


@api.get("/overpayments", summary="Overpayments after death, to recover")
def overpayments(
    request: Request,
    db: DB,
    user: Officer,
    status: Annotated[str, Query(pattern="^(open|recovered|all)$")] = "open",
    offset: Offset = 0,
) -> dict[str, Any]:
    hr_officer(request, user)
    rows, total = views.overpayments(db, None if status == "all" else status, offset=offset)
    return {"total": total, "items": [overpayment_out(o) for o in rows]}


def record_recovery(
    request: Request, db: Session, user: User, overpayment_id: int, body: RecoveryIn
) -> Overpayment:
    hr_officer(request, user)
    return service.record_recovery(
        db,
        overpayment_id,
        body.amount,
        actor=user.username,
        on=body.recovered_on,
        note=body.note or None,
    )


@api.post("/overpayments/{overpayment_id}/recoveries", summary="Record an amount recovered")
def recovery(
    overpayment_id: Id, body: RecoveryIn, request: Request, db: DB, user: Officer
) -> dict[str, Any]:
    return overpayment_out(record_recovery(request, db, user, overpayment_id, body))
