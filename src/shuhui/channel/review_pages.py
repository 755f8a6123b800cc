"""The data channel's pages for reviewers: the review queue of the providing departments and
the data bureau (access applications, zone memberships, grants to revoke), and the bureau's
dashboard (calls by zone, product, consumer and refusal reason; the month's statements issued).

Thin, as the consumer's pages are: forms are checked by the API's models, decisions are the
service's, and a refusal comes back next to the field at fault.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from shuhui.channel import asks, billing, grants, onboarding
from shuhui.channel.calls import REASONS
from shuhui.channel.common import month_of
from shuhui.channel.deps import Bureau, Reviewer, city_now, parse_month
from shuhui.channel.models import Membership
from shuhui.channel.schemas import (
    ApplicationReviewIn,
    MembershipReviewIn,
    RevokeIn,
)
from shuhui.channel.views import (
    LIST_FIELDS,
    USAGE_DAYS,
    application_view,
    chart,
    form_text,
    grant_view,
    local,
    membership_view,
    shown_days,
    shown_errors,
    typed_values,
)
from shuhui.core.bounds import Id
from shuhui.core.clock import utcnow
from shuhui.core.confirm import ask_first, confirmed
from shuhui.core.display import yuan
from shuhui.core.errors import Problem, invalid
from shuhui.core.forms import validate_form
from shuhui.core.http import render, tr
from shuhui.trust.identity.deps import DB
from shuhui.trust.identity.models import User

pages = APIRouter(include_in_schema=False)


# --- the review queue ---------------------------------------------------------------------------


def _review(
    request: Request,
    db: Session,
    user: User,
    *,
    failed: str | None = None,
    refusal: Problem | None = None,
    typed: dict[str, Any] | None = None,
) -> HTMLResponse:
    city = city_now(request, db)
    department, is_bureau = grants.reviewer_scope(user)
    now = utcnow()
    queue: list[dict[str, Any]] = []
    others: list[dict[str, Any]] = []
    for a in grants.reviewer_applications(db, city, department, is_bureau):
        step = grants.reviewer_step(city, a, department, is_bureau)
        view = application_view(city, a)
        if step is not None:
            queue.append({**view, "step": step})
        elif is_bureau or user.username in view["reviewers"]:
            # An officer sees what waits for his department, and what he reviewed himself.
            others.append(view)
    memberships = (
        [membership_view(city, m) for m in onboarding.memberships(db)] if is_bureau else []
    )
    all_grants = [grant_view(city, g, now) for g in grants.grants(db)] if is_bureau else []
    forms = {f"application:{a['code']}" for a in queue}
    forms |= {f"membership:{m['id']}" for m in memberships if m["status"] == "pending"}
    forms |= {f"grant:{g['code']}" for g in all_grants if g["status"] == "active"}
    return render(
        request,
        "channel_review.html",
        {
            "is_bureau": is_bureau,
            "department": department,
            "queue": queue,
            "others": others,
            "pending_memberships": [m for m in memberships if m["status"] == "pending"],
            "decided_memberships": [m for m in memberships if m["status"] != "pending"],
            "grants": all_grants,
            "defaults": {
                "rate_per_minute": grants.DEFAULT_RATE_PER_MINUTE,
                "monthly_quota": grants.DEFAULT_MONTHLY_QUOTA,
            },
            "typed": typed or {},
            # A refusal about a form no longer on the page (reviewed meanwhile) shows on top.
            "page_error": refusal is not None and failed not in forms,
            **shown_errors(failed, refusal),
        },
        status=refusal.http_status if refusal else 200,
    )


@pages.get("/channel/review", response_class=HTMLResponse)
def review_queue(request: Request, db: DB, user: Reviewer) -> Response:
    return _review(request, db, user)


@pages.post("/channel/review/applications/{code}", response_class=HTMLResponse)
async def review_application(request: Request, db: DB, user: Reviewer, code: str) -> Response:
    form = await request.form()
    department, is_bureau = grants.reviewer_scope(user)
    try:
        review = validate_form(ApplicationReviewIn, form, LIST_FIELDS)
        if review.decision == "reject" and not confirmed(form):
            city = city_now(request, db)
            application = grants.reviewer_application(db, city, code, department, is_bureau)
            if grants.reviewer_step(city, application, department, is_bureau) is None:
                raise Problem("forbidden", detail="该申请不在您的审核步骤")
            if not review.reason.strip():
                raise invalid("reason", "请写明不予通过的理由")
            return ask_first(request, asks.reject_application(city, application), form)
        grants.review_access(
            db,
            city_now(request, db),
            code,
            actor=user.username,
            department=department,
            is_bureau=is_bureau,
            **review.model_dump(),
        )
    except Problem as exc:
        db.rollback()
        failed = f"application:{code}"
        return _review(request, db, user, failed=failed, refusal=exc, typed=typed_values(form))
    return RedirectResponse("/channel/review", status_code=303)


@pages.post("/channel/review/memberships/{membership_id}", response_class=HTMLResponse)
async def review_membership(request: Request, db: DB, user: Bureau, membership_id: Id) -> Response:
    form = await request.form()
    try:
        review = validate_form(MembershipReviewIn, form, LIST_FIELDS)
        if review.decision == "reject" and not confirmed(form):
            held = db.get(Membership, membership_id)
            if held is None or held.status != "pending":
                raise Problem("conflict", detail="该申请已审核")
            if not review.reason.strip():
                raise invalid("reason", "请写明不予通过的理由")
            zone = city_now(request, db).zones.get(held.zone)
            names = (zone.name_zh, zone.name_en) if zone else (held.zone, held.zone)
            return ask_first(request, asks.reject_membership(held, names), form)
        onboarding.review_membership(
            db,
            membership_id,
            approve=review.decision == "approve",
            reason=review.reason,
            actor=user.username,
        )
    except Problem as exc:
        db.rollback()
        failed = f"membership:{membership_id}"
        return _review(request, db, user, failed=failed, refusal=exc, typed=typed_values(form))
    return RedirectResponse("/channel/review#memberships", status_code=303)


@pages.post("/channel/review/grants/{code}/revoke", response_class=HTMLResponse)
async def revoke_grant(request: Request, db: DB, user: Bureau, code: str) -> Response:
    form = await request.form()
    try:
        revoked = validate_form(RevokeIn, form, LIST_FIELDS)
        if not confirmed(form):
            grant = grants.grant_by_code(db, code)
            if grant.status != "active":
                raise Problem("conflict", detail="该授权已撤销")
            ask = asks.revoke_grant(city_now(request, db), grant, revoked.reason.strip())
            return ask_first(request, ask, form)
        grants.revoke_grant(db, code, reason=revoked.reason, actor=user.username)
    except Problem as exc:
        db.rollback()
        return _review(
            request, db, user, failed=f"grant:{code}", refusal=exc, typed=typed_values(form)
        )
    return RedirectResponse("/channel/review#grants", status_code=303)


# --- the bureau's dashboard ---------------------------------------------------------------------


def _billing(db: Session, month: date) -> dict[str, Any]:
    rows = []
    for x in billing.issued_statements(db, month):
        rows.append(
            {
                "code": x.code,
                "consumer": x.consumer.name,
                "credit_code": x.consumer.credit_code,
                "yuan": yuan(x.total_fen),
                "at": local(x.issued_at),
                "by": x.issued_by,
            }
        )
    return {"month": month.strftime("%Y-%m"), "statements": rows}


def _last_month(now: datetime) -> date:
    return (month_of(now) - timedelta(days=1)).replace(day=1)


@pages.post("/channel/dashboard/statements", response_class=HTMLResponse)
async def issue_statements(request: Request, db: DB, user: Bureau) -> Response:
    form = await request.form()
    month_text = form_text(form, "month")
    try:
        month = parse_month(month_text[:16])
        # Asked only when there is someone to bill in a month that is over: otherwise the
        # service refuses or issues nothing, and there is nothing to take back.
        todo = billing.unbilled(db, month) if month < month_of(utcnow()) else []
        if todo and not confirmed(form):
            return ask_first(request, asks.issue_statements(month, len(todo)), form)
        done = billing.issue_statements(
            db,
            city_now(request, db),
            Path(request.app.state.settings.data_dir),
            month,
            actor=user.username,
        )
    except Problem as exc:
        db.rollback()
        return _dashboard(request, db, failed="billing", refusal=exc, typed={"month": month_text})
    return RedirectResponse(
        f"/channel/dashboard?month={month:%Y-%m}&issued={len(done.issued)}#billing",
        status_code=303,
    )


@pages.get("/channel/dashboard", response_class=HTMLResponse)
def dashboard(
    request: Request, db: DB, user: Bureau, days: str = "30", month: str = "", issued: str = ""
) -> Response:
    return _dashboard(request, db, days, month, issued)


def _dashboard(
    request: Request,
    db: Session,
    days: str = "30",
    month: str = "",
    issued: str = "",
    *,
    failed: str | None = None,
    refusal: Problem | None = None,
    typed: dict[str, Any] | None = None,
) -> Response:
    city = city_now(request, db)
    chosen = 30
    if refusal is None:
        try:
            chosen = shown_days(days[:16])
        except Problem as exc:
            failed, refusal = "dashboard", exc
    billed = _last_month(utcnow())
    if refusal is None and month:
        try:
            billed = parse_month(month[:16])
        except Problem as exc:
            failed, refusal, typed = "billing", exc, {"month": month[:16]}
    numbers = billing.dashboard(db, utcnow() - timedelta(days=chosen))

    def zone_name(code: str) -> str:
        z = city.zones.get(code)
        return tr(request, z.name_zh, z.name_en) if z else code

    def product_name(code: str) -> str:
        p = city.products.get(code)
        return tr(request, p.name_zh, p.name_en) if p else code

    def reason_name(code: str) -> str:
        return tr(request, REASONS[code], code) if code in REASONS else code

    groups: tuple[tuple[str, str, str, Callable[[str], str], str], ...] = (
        ("by_zone", "按专区的成功调用", "Answered calls by zone", zone_name, "pie"),
        ("by_product", "按数据产品的成功调用", "Answered calls by product", product_name, "hbar"),
        ("by_consumer", "按数据使用方的成功调用", "Answered calls by consumer", str, "hbar"),
        ("refusals", "按原因的拒绝调用", "Refused calls by reason", reason_name, "hbar"),
    )
    tables: list[dict[str, Any]] = []
    for key, zh, en, name, kind in groups:
        counts: dict[str, int] = numbers[key]
        rows: list[dict[str, Any]] = [
            {"key": k, "name": name(k), "calls": n} for k, n in counts.items()
        ]
        series = [
            {
                "name": tr(request, "调用次数", "Calls"),
                "data": [r["calls"] for r in rows],
                "color": "#b42318" if key == "refusals" else "#1456a0",
            }
        ]
        tables.append(
            {
                "id": key.replace("_", "-"),
                "zh": zh,
                "en": en,
                "rows": rows,
                "total": sum(counts.values()),
                "chart": chart(kind, [r["name"] for r in rows], series),
            }
        )
    return render(
        request,
        "channel_dashboard.html",
        {
            "tables": tables,
            "days": chosen,
            "day_choices": USAGE_DAYS,
            "answered": sum(numbers["by_product"].values()),
            "refused": sum(numbers["refusals"].values()),
            "billing": _billing(db, billed),
            "just_issued": issued if issued.isdigit() else None,
            "typed": typed or {"days": days[:16]},
            **shown_errors(failed, refusal),
        },
        status=refusal.http_status if refusal else 200,
    )
