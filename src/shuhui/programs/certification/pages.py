"""The pages of pension certification (under /hrss/certification, the 智慧人社 module): the
cycle dashboard of the implementing department, a recipient's record down to its evidence,
the overpayments, the pensioner's own 我的养老金资格认证 with self-certification, and the
street office's home visits. Each reads its form with the API's schema and calls the same
helpers as the API (``routes``)."""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from shuhui.core import display
from shuhui.core.bounds import Id, Page
from shuhui.core.clock import format_local, local_today, utcnow
from shuhui.core.confirm import Ask, carried, confirmed
from shuhui.core.errors import Problem
from shuhui.core.forms import validate_form
from shuhui.core.http import render
from shuhui.jobs import service as jobs_service
from shuhui.jobs.routes import queue_of
from shuhui.programs.certification import routes, service, tasks, views
from shuhui.programs.certification.config import Cycle
from shuhui.programs.certification.models import (
    METHODS,
    OUTCOMES,
    OVERPAYMENT_STATES,
    PAYMENT_STATES,
    VISIT_OUTCOMES,
    VISIT_STATES,
)
from shuhui.programs.certification.routes import Citizen, Officer
from shuhui.programs.certification.schemas import CycleIn, RecoveryIn, SelfCertifyIn, VisitIn
from shuhui.programs.certification.service import CertificationRefused
from shuhui.programs.certification.windows import check_date
from shuhui.programs.pages import explanation_view
from shuhui.programs.routes import library_of
from shuhui.trust.identity.deps import DB, CurrentUser
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role

pages = APIRouter(include_in_schema=False)

BASE: Final = "/hrss/certification"
PAGE_SIZE: Final = 50
LABELS: dict[str, tuple[str, str]] = {
    "date": ("认证比对日", "Cycle date"),
    "password": ("登录密码", "Password"),
    "outcome": ("上门核实结果", "What the visit found"),
    "died_on": ("死亡日期", "Date of death"),
    "note": ("情况说明", "Note"),
    "amount": ("追回金额", "Amount recovered"),
    "recovered_on": ("追回日期", "Date recovered"),
}


def shown_errors(failed: str | None, refusal: Problem | None) -> dict[str, Any]:
    return display.shown_errors(refusal, display.labels_from(LABELS), failed)


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _percent(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.1f}%"


def _standing_view(request: Request, s: service.Standing) -> dict[str, Any]:
    cycle = _cycle(request)
    payment = routes.payment_of(s)
    return {
        "s": s,
        "current": s.current,
        "payment": payment,
        "payment_zh": PAYMENT_STATES[payment],
        "outcomes": OUTCOMES,
        "methods": METHODS,
        "visit_outcomes": VISIT_OUTCOMES,
        "visit_states": VISIT_STATES,
        "overpayment_states": OVERPAYMENT_STATES,
        "masked": display.mask_citizen_id(s.citizen_id),
        "sources": views.source_names(cycle, list(s.current.evidence)) if s.current else [],
        "cycle": cycle,
        "back_pay": sum(x.back_pay_fen for x in s.resumptions),
    }


def _cycle(request: Request) -> Cycle:
    return service.cycle_for(request.app.state.settings, local_today())


# --- where /hrss/certification leads ----------------------------------------------------------


@pages.get(BASE, response_class=HTMLResponse)
def home(request: Request, db: DB, user: CurrentUser) -> Response:
    if Role.officer in user.role_set:
        if (user.department or "").endswith(routes.STREET_OFFICE):
            return RedirectResponse(f"{BASE}/visits", status_code=303)
        return _dashboard(request, db, user)
    if Role.citizen in user.role_set:
        return RedirectResponse(f"{BASE}/mine", status_code=303)
    raise Problem("forbidden", detail="养老保险待遇资格认证面向人社部门、街道办事处和领取人本人")


# --- the cycle dashboard ----------------------------------------------------------------------


def _dashboard(
    request: Request,
    db: Session,
    user: User,
    *,
    year: int | None = None,
    failed: str | None = None,
    refusal: Problem | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    routes.hr_officer(request, user)
    found = service.dashboard(db, routes.year_or_latest(db, year))
    points = views.over_time(db, found.year)
    living = sum(found.certified.values()) + found.undetermined
    return render(
        request,
        "cert_dashboard.html",
        {
            "d": found,
            "certified": sum(found.certified.values()),
            "living": living,
            "rate": _percent(found.rate if living else None),
            "data_rate": _percent(found.data_rate if living else None),
            "years": service.open_years(db),
            "chart": {
                "months": [p.month for p in points],
                "data": [p.data for p in points],
                "self": [p.self for p in points],
                "visit": [p.visit for p in points],
            },
            "runs": [{"r": r, "at": format_local(r.created_at)} for r in service.runs(db, 24)],
            "lists": views.LISTS,
            "today": local_today().isoformat(),
            "ran": request.query_params.get("ran", "")[:10],
            "again": request.query_params.get("again", "") == "1",
            "typed": typed or {},
            **shown_errors(failed, refusal),
        },
        status=refusal.http_status if refusal else 200,
    )


@pages.get(f"{BASE}/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, db: DB, user: Officer, year: int | None = None) -> Response:
    if year is not None and not 1900 <= year <= 2100:
        year = None
    return _dashboard(request, db, user, year=year)


def _ask_run(request: Request, day: str, form: Any) -> Response:
    ask = Ask(
        title=("开展本次资格认证？", "Run the certification cycle?"),
        summary=(
            f"将以 {day} 为比对日，对全市正常领取养老金的人员逐一比对生存证据。"
            "结果（认证、暂停发放、终止发放）记入审计账本，不能撤回。",
            f"Every pension in payment will be checked against the evidence of life as of {day}."
            " What follows (certifications, suspensions, stops) is recorded and cannot be undone.",
        ),
        consequences=(
            ("数据比对通过的，本年度认证完成；", "those the data shows alive are certified;"),
            (
                "比对不到的，通过站内消息和短信提醒本人自助认证，临近期满的派街道上门；",
                "the others are told (portal and SMS); a home visit is asked near the end;",
            ),
            (
                "认证期满且提醒期已过仍未认证的，暂停发放（不会终止），认证后补发；",
                "those whose window lapsed uncertified are suspended (never stopped), "
                "with back pay once certified;",
            ),
            (
                "有死亡、火化记录的，自死亡次月起终止发放，并核定应追回的多发金额。",
                "a death or cremation stops payment from the next month; "
                "the overpayment is computed.",
            ),
        ),
        action=f"{BASE}/run",
        cancel=BASE,
        button=("确认开展认证", "Run the cycle"),
    )
    return render(request, "cert_run_confirm.html", {"ask": ask, "carried": carried(form)})


@pages.post(f"{BASE}/run", response_class=HTMLResponse)
async def run(request: Request, db: DB, user: Officer) -> Response:
    form = await request.form()
    typed = {"date": _text(form, "date")}
    try:
        body = validate_form(CycleIn, form)
        routes.hr_officer(request, user)
        day = body.date or local_today()
        check_date(day, utcnow())  # a future date is refused before anything is asked
        if not confirmed(form):
            return _ask_run(request, day.isoformat(), form)
        # A background job (jobs): the page follows its progress, then opens the dashboard.
        job, _ = jobs_service.start(db, queue_of(request), tasks.CYCLE, CycleIn(date=day), user)
    except Problem as exc:
        db.rollback()
        return _dashboard(request, db, user, failed="run", refusal=exc, typed=typed)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


@pages.get(f"{BASE}/lists/{{which}}", response_class=HTMLResponse)
def listing(
    request: Request,
    db: DB,
    user: Officer,
    which: str,
    year: int | None = None,
    page: Page = 1,
) -> Response:
    routes.hr_officer(request, user)
    if year is not None and not 1900 <= year <= 2100:
        year = None
    chosen = routes.year_or_latest(db, year)
    rows, total = views.listing(
        db, which[:16], chosen, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    return render(
        request,
        "cert_list.html",
        {
            "which": which,
            "title": views.LISTS[which],
            "year": chosen,
            "rows": [
                {"c": r.cert, "hold": r.hold, "masked": display.mask_citizen_id(r.cert.citizen_id)}
                for r in rows
            ],
            "total": total,
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "outcomes": OUTCOMES,
            "methods": METHODS,
            "payment_states": PAYMENT_STATES,
        },
    )


# --- one recipient ----------------------------------------------------------------------------


@pages.get(f"{BASE}/recipients/{{citizen_id}}", response_class=HTMLResponse)
def recipient(request: Request, db: DB, user: Officer, citizen_id: str) -> Response:
    routes.hr_officer(request, user)
    current = views.latest(db, citizen_id[:32])
    library = library_of(request)
    why = service.explain(db, library, current.id, actor=user.username)
    return render(
        request,
        "cert_recipient.html",
        {
            **_standing_view(request, service.standing(db, current.citizen_id)),
            "rule": library.rule(current.rule),
            "e": explanation_view(why),
        },
    )


# --- overpayments -----------------------------------------------------------------------------


def _overpayments(
    request: Request,
    db: Session,
    user: User,
    status: str = "open",
    *,
    failed: str | None = None,
    refusal: Problem | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    routes.hr_officer(request, user)
    chosen = status if status in OVERPAYMENT_STATES else None
    rows, total = views.overpayments(db, chosen, limit=PAGE_SIZE)
    d = service.dashboard(db, routes.year_or_latest(db, None))
    return render(
        request,
        "cert_overpayments.html",
        {
            "rows": [
                {
                    "o": o,
                    "masked": display.mask_citizen_id(o.citizen_id),
                    "recoveries": service.recoveries(db, o.id),
                }
                for o in rows
            ],
            "total": total,
            "status": chosen or "all",
            "states": OVERPAYMENT_STATES,
            "d": d,
            "today": local_today().isoformat(),
            "typed": typed or {},
            **shown_errors(failed, refusal),
        },
        status=refusal.http_status if refusal else 200,
    )


@pages.get(f"{BASE}/overpayments", response_class=HTMLResponse)
def overpayments(request: Request, db: DB, user: Officer, status: str = "open") -> Response:
    return _overpayments(request, db, user, status[:16])


@pages.post(f"{BASE}/overpayments/{{overpayment_id}}/recoveries", response_class=HTMLResponse)
async def recovery(request: Request, db: DB, user: Officer, overpayment_id: Id) -> Response:
    form = await request.form()
    typed = {k: _text(form, k) for k in ("amount", "recovered_on", "note")}
    try:
        body = validate_form(RecoveryIn, form)
        routes.record_recovery(request, db, user, overpayment_id, body)
    except Problem as exc:
        db.rollback()
        return _overpayments(
            request, db, user, "all", failed=f"recover:{overpayment_id}", refusal=exc, typed=typed
        )
    return RedirectResponse(
        f"{BASE}/overpayments?status=all#overpayment-{overpayment_id}", status_code=303
    )


# --- 我的养老金资格认证 --------------------------------------------------------------------------


def _mine(
    request: Request,
    db: Session,
    user: User,
    template: str = "cert_mine.html",
    *,
    failed: str | None = None,
    refusal: Problem | None = None,
) -> Response:
    context: dict[str, Any] = {
        "found": False,
        "own_password": user.password_by_holder,
        "done": request.query_params.get("done", "") == "1",
        "declaration": service.DECLARATION,
        **shown_errors(failed, refusal),
    }
    if user.citizen_id:
        found = service.standing(db, user.citizen_id)
        if found.current is not None:
            context |= _standing_view(request, found)
            context["found"] = True
            context["plain"] = views.plain_words(found, context["cycle"])
            context["may_certify"] = found.may_self_certify
    return render(request, template, context, status=refusal.http_status if refusal else 200)


@pages.get(f"{BASE}/mine", response_class=HTMLResponse)
def mine(request: Request, db: DB, user: Citizen) -> Response:
    return _mine(request, db, user)


@pages.get(f"{BASE}/mine/declare", response_class=HTMLResponse)
def declare(request: Request, db: DB, user: Citizen) -> Response:
    """Asks first: the declaration's words, what signing does, and the password again."""
    return _mine(request, db, user, "cert_declare.html")


@pages.post(f"{BASE}/mine/declare", response_class=HTMLResponse)
async def sign(request: Request, db: DB, user: Citizen) -> Response:
    form = await request.form()
    try:
        body = validate_form(SelfCertifyIn, form)
        routes.self_certify(request, db, user, body)
    except CertificationRefused as refused:
        # Recorded already: kept (the handler returns, so the request commits).
        return _mine(request, db, user, "cert_declare.html", failed="declare", refusal=refused)
    except Problem as exc:
        db.rollback()
        return _mine(request, db, user, "cert_declare.html", failed="declare", refusal=exc)
    return RedirectResponse(f"{BASE}/mine?done=1#status", status_code=303)


# --- the street office's visits ---------------------------------------------------------------


def _visits(
    request: Request,
    db: Session,
    user: User,
    status: str = "open",
    page: int = 1,
    *,
    failed: str | None = None,
    refusal: Problem | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    routes.street_officer(user)
    chosen = status if status in VISIT_STATES else None
    rows, total = views.visits(
        db, user.department, chosen, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    # Whom to visit, for the open tasks only: a done visit needs no one's address again.
    whom = views.whom_to_visit(
        db,
        library_of(request),
        [v.citizen_id for v in rows if v.status == "open"],
        actor=user.username,
    )
    return render(
        request,
        "cert_visits.html",
        {
            "rows": [
                {
                    "v": v,
                    "masked": display.mask_citizen_id(v.citizen_id),
                    "whom": whom.get(v.citizen_id),
                }
                for v in rows
            ],
            "total": total,
            "open": views.count_open_visits(db, user.department),
            "status": chosen or "all",
            "states": VISIT_STATES,
            "outcomes": VISIT_OUTCOMES,
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "today": local_today().isoformat(),
            "typed": typed or {},
            **shown_errors(failed, refusal),
        },
        status=refusal.http_status if refusal else 200,
    )


@pages.get(f"{BASE}/visits", response_class=HTMLResponse)
def visits(
    request: Request, db: DB, user: Officer, status: str = "open", page: Page = 1
) -> Response:
    return _visits(request, db, user, status[:8], page)


@pages.post(f"{BASE}/visits/{{visit_id}}", response_class=HTMLResponse)
async def visit(request: Request, db: DB, user: Officer, visit_id: Id) -> Response:
    form = await request.form()
    typed = {k: _text(form, k) for k in ("outcome", "died_on", "note")}
    try:
        body = validate_form(VisitIn, form)
        if body.outcome == "deceased" and not confirmed(form):
            # Stopping a pension for good: said first, in plain words, then done.
            return _ask_deceased(request, user, visit_id, form)
        routes.record_visit(request, db, user, visit_id, body)
    except Problem as exc:
        db.rollback()
        return _visits(request, db, user, failed=f"visit:{visit_id}", refusal=exc, typed=typed)
    return RedirectResponse(f"{BASE}/visits?status=done#visit-{visit_id}", status_code=303)


def _ask_deceased(request: Request, user: User, visit_id: int, form: Any) -> Response:
    routes.street_officer(user)
    ask = Ask(
        title=("登记为经核实已死亡？", "Record the recipient as deceased?"),
        summary=(
            "该领取人将登记为经上门核实已死亡：养老金自死亡次月起终止发放，"
            "死亡后多发的金额列入追回，之后不能改回。",
            "The recipient will be recorded as found deceased: the pension stops from the "
            "month after death, any overpayment is to be recovered, and this cannot be undone.",
        ),
        action=f"{BASE}/visits/{visit_id}",
        cancel=f"{BASE}/visits#visit-{visit_id}",
        button=("确认登记", "Record"),
        count=1,
    )
    return render(request, "confirm.html", {"ask": ask, "carried": carried(form)})
