"""The pages of the HR & social-security services (under /hrss, the 智慧人社 module): 我的社保
(one's record and 参保证明) for citizens, 社保查询 at the counter for the bureau's officers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from shuhui.core import display
from shuhui.core.errors import Problem
from shuhui.core.forms import validate_form
from shuhui.core.http import render
from shuhui.hrss import injury, service
from shuhui.hrss.routes import (
    Citizen,
    Holder,
    Number,
    Officer,
    content_of,
    data_dir_of,
    injury_out,
    lookups_of,
)
from shuhui.hrss.schemas import CertificateIn, OfficerCertificateIn, Period
from shuhui.hrss.views import certificate_out, record_out
from shuhui.trust.identity.deps import DB
from shuhui.trust.identity.models import User

pages = APIRouter(include_in_schema=False)
CaseCode = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Z0-9-]+$")]

LABELS: dict[str, tuple[str, str]] = {
    "months_from": ("起始月份", "First month"),
    "months_to": ("截止月份", "Last month"),
    "citizen_id": ("公民身份号码", "Citizen ID"),
    "purpose": ("查询事由", "Purpose"),
}


def _shown(failed: str | None, refusal: Problem | None) -> dict[str, Any]:
    return display.shown_errors(refusal, display.labels_from(LABELS), failed)


def _record_page(
    request: Request,
    db: Session,
    user: User,
    *,
    period: Period | None = None,
    failed: str | None = None,
    refusal: Problem | None = None,
) -> Response:
    asked = period or Period()
    try:
        record = service.my_record(lookups_of(request), user, asked.months_from, asked.months_to)
    except Problem as exc:
        if exc.slug != "validation":
            raise
        refusal, failed = exc, "period"
        record = service.my_record(lookups_of(request), user)
    return render(
        request,
        "hrss_record.html",
        {
            "record": record_out(record),
            "asked": asked,
            "certificates": [certificate_out(c) for c in service.my_certificates(db, user)],
            "yuan": display.yuan,
            **_shown(failed, refusal),
        },
        status=refusal.http_status if refusal else 200,
    )


@pages.get("/hrss/record", response_class=HTMLResponse)
def my_record(request: Request, db: DB, user: Citizen) -> Response:
    query = request.query_params
    try:
        period = validate_form(
            Period,
            {k: v for k in ("months_from", "months_to") if (v := query.get(k))},
        )
    except Problem as exc:
        return _record_page(request, db, user, failed="period", refusal=exc)
    return _record_page(request, db, user, period=period)


@pages.post("/hrss/record/certificates", response_class=HTMLResponse)
async def issue_mine(request: Request, db: DB, user: Citizen) -> Response:
    form = await request.form()
    try:
        asked = validate_form(CertificateIn, form)
        made = service.issue_own_certificate(
            db,
            data_dir_of(request),
            lookups_of(request),
            user,
            months_from=asked.months_from,
            months_to=asked.months_to,
            city_content=content_of(request),
        )
    except Problem as exc:
        db.rollback()
        return _record_page(request, db, user, failed="certificate", refusal=exc)
    return RedirectResponse(f"/hrss/certificates/{made.number}", status_code=303)


@pages.get("/hrss/certificates/{number}", response_class=HTMLResponse)
def certificate(request: Request, db: DB, user: Holder, number: Number) -> Response:
    found = service.certificate_for(db, user, number, content_of(request))
    return render(
        request,
        "hrss_certificate.html",
        {"c": certificate_out(found), "statement": found.statement, "yuan": display.yuan},
    )


# --- at the counter ---------------------------------------------------------------------------


def _counter(
    request: Request,
    *,
    shown: dict[str, Any] | None = None,
    asked: dict[str, str] | None = None,
    failed: str | None = None,
    refusal: Problem | None = None,
) -> Response:
    return render(
        request,
        "hrss_counter.html",
        {
            "record": shown,
            "asked": asked or {},
            "yuan": display.yuan,
            **_shown(failed, refusal),
        },
        status=refusal.http_status if refusal else 200,
    )


@pages.get("/hrss/counter", response_class=HTMLResponse)
def counter(request: Request, user: Officer) -> Response:
    service.check_officer(user, content_of(request))
    return _counter(request)


def _asked(form: Any) -> dict[str, str]:
    keys = ("citizen_id", "purpose", "months_from", "months_to")
    return {k: v for k in keys if isinstance(v := form.get(k), str)}


@pages.post("/hrss/counter", response_class=HTMLResponse)
async def counter_read(request: Request, db: DB, user: Officer) -> Response:
    service.check_officer(user, content_of(request))
    form = await request.form()
    asked = _asked(form)
    try:
        query = validate_form(OfficerCertificateIn, {k: v for k, v in asked.items() if v})
        record = service.officer_record(
            db,
            lookups_of(request),
            user,
            query.citizen_id,
            purpose=query.purpose,
            months_from=query.months_from,
            months_to=query.months_to,
            city_content=content_of(request),
        )
    except Problem as exc:
        db.rollback()
        return _counter(request, asked=asked, failed="read", refusal=exc)
    return _counter(request, shown=record_out(record), asked=asked)


@pages.post("/hrss/counter/certificates", response_class=HTMLResponse)
async def counter_issue(request: Request, db: DB, user: Officer) -> Response:
    form = await request.form()
    asked = _asked(form)
    try:
        query = validate_form(OfficerCertificateIn, {k: v for k, v in asked.items() if v})
        made = service.issue_certificate_for(
            db,
            data_dir_of(request),
            lookups_of(request),
            user,
            citizen_id=query.citizen_id,
            purpose=query.purpose,
            months_from=query.months_from,
            months_to=query.months_to,
            city_content=content_of(request),
        )
    except Problem as exc:
        db.rollback()
        return _counter(request, asked=asked, failed="read", refusal=exc)
    return RedirectResponse(f"/hrss/certificates/{made.number}", status_code=303)


# --- work-injury clocks -----------------------------------------------------------------------

# What a refusal to mark an application names (the application itself, as ``case``).
INJURY_LABELS: dict[str, tuple[str, str]] = {"case": ("办件", "Case")}


def _injury_page(request: Request, db: Session, refusal: Problem | None = None) -> Response:
    rules = injury.clocks(content_of(request))
    label = display.labels_from(INJURY_LABELS)
    shown = display.shown_errors(refusal, label, "clear" if refusal else None)
    return render(
        request,
        "hrss_injury.html",
        {
            "applications": [
                injury_out(a) for a in injury.open_applications(db, content_of(request))
            ],
            "rules": rules,
            **shown,
        },
        status=refusal.http_status if refusal else 200,
    )


@pages.get("/hrss/injury", response_class=HTMLResponse)
def injury_page(request: Request, db: DB, user: Officer) -> Response:
    service.check_officer(user, content_of(request))
    return _injury_page(request, db)


@pages.post("/hrss/injury/{code}/clear", response_class=HTMLResponse)
def injury_clear_page(request: Request, db: DB, user: Officer, code: CaseCode) -> Response:
    try:
        injury.mark_clear(
            db,
            code,
            actor=user.username,
            department=user.department,
            city_content=content_of(request),
        )
    except Problem as exc:
        db.rollback()
        return _injury_page(request, db, exc)
    return RedirectResponse(f"/hrss/injury#case-{code}", status_code=303)
