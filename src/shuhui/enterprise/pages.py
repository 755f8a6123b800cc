"""The enterprise platform's pages (/enterprise): the enterprise's home and its own file, its
needs with what matches them; the departments' desk of needs and their look at an enterprise's
file (with a purpose). Thin: the forms are checked by the API's schemas, the work is the
services'."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from shuhui.core import display
from shuhui.core.errors import Problem
from shuhui.core.forms import validate_form
from shuhui.core.http import render
from shuhui.enterprise import assessment, custody, needs, profile, service
from shuhui.enterprise.access import (
    AnyUser,
    EnterpriseUser,
    OfficerUser,
    content_of,
    credit_code_of,
    is_bureau,
)
from shuhui.enterprise.matching import Matches
from shuhui.enterprise.profile import Profile
from shuhui.enterprise.schemas import (
    NEED_CODE_PATTERN,
    NeedCloseIn,
    NeedIn,
    NeedStepIn,
    ProfileLookIn,
    RatingIn,
)
from shuhui.enterprise.views import catalogue_of, library_of, lookups_of, need_out
from shuhui.trust.identity.deps import DB, OptionalUser
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role

pages = APIRouter(include_in_schema=False)
NeedCode = Annotated[str, Path(min_length=1, max_length=32, pattern=NEED_CODE_PATTERN)]

LABELS: dict[str, tuple[str, str]] = {
    "kind": ("诉求类型", "Kind of need"),
    "title": ("诉求标题", "Title"),
    "detail": ("具体情况", "Details"),
    "amount": ("融资金额", "Amount"),
    "note": ("办理情况", "What was done"),
    "stars": ("评价", "Rating"),
    "comment": ("评价意见", "Comment"),
    "credit_code": ("统一社会信用代码", "Credit code"),
    "purpose": ("查询事由", "Purpose"),
    "state": ("状态", "State"),
}


def _shown(failed: str | None, refusal: Problem | None) -> dict[str, Any]:
    return display.shown_errors(refusal, display.labels_from(LABELS), failed)


def _month(value: Any) -> str:
    return str(value)[:7]


def charts(found: Profile) -> dict[str, Any]:
    """The file's monthly figures as the page's charts draw them."""
    heads = found.headcounts
    return {
        "headcount": {
            "type": "line",
            "labels": [_month(r["month"]) for r in heads],
            "unit": "人",
            "series": [
                {"name": "在职职工", "values": [r["staff"] for r in heads]},
                {"name": "参保职工", "values": [r["insured"] for r in heads]},
            ],
        },
        "tax": {
            "type": "bar",
            "labels": [_month(r["month"]) for r in found.tax],
            "unit": "元",
            "series": [{"name": "入库税款", "values": [r["tax_fen"] / 100 for r in found.tax]}],
        },
        "electricity": {
            "type": "line",
            "labels": [_month(r["month"]) for r in found.electricity],
            "unit": "",
            "series": [
                {"name": "用电量（千瓦时）", "values": [r["kwh"] for r in found.electricity]}
            ],
        },
    }


def _profile_page(
    request: Request, found: Profile, *, officer_view: bool, purpose: str = ""
) -> Response:
    return render(
        request,
        "enterprise_profile.html",
        {
            "profile": found,
            "charts": charts(found),
            "officer_view": officer_view,
            "purpose": purpose,
        },
    )


@pages.get("/enterprise", response_class=HTMLResponse)
def home(request: Request, db: DB, user: OptionalUser) -> Response:
    if user is None:
        return RedirectResponse("/login?next=/enterprise", status_code=303)
    if Role.enterprise not in user.role_set:
        target = "/enterprise/desk" if Role.officer in user.role_set else "/enterprise/platforms"
        if is_bureau(user, content_of(request)):
            target = "/enterprise/console"
        return RedirectResponse(target, status_code=303)
    content = content_of(request)
    found = profile.for_enterprise(
        db, lookups_of(request), credit_code_of(user), catalogue_of(request)
    )
    mine = needs.needs_of(db, found.credit_code, limit=5)
    last = assessment.latest(db, found.credit_code)
    hosted = custody.hostings(db, user)
    return render(
        request,
        "enterprise_home.html",
        {
            "profile": found,
            "needs": [need_out(n, content=content) for n in mine],
            "kinds": needs.kinds(content),
            "assessment": last,
            "assessment_level": assessment.level_name(None, last.level) if last else None,
            "hosted": hosted,
            "reviews": custody.pending_reviews(
                db, request.app.state.city_channel, found.credit_code
            ),
        },
    )


@pages.get("/enterprise/profile", response_class=HTMLResponse)
def my_profile(request: Request, db: DB, user: EnterpriseUser) -> Response:
    found = profile.for_enterprise(
        db, lookups_of(request), credit_code_of(user), catalogue_of(request)
    )
    return _profile_page(request, found, officer_view=False)


@pages.get("/enterprise/files", response_class=HTMLResponse)
def files_form(request: Request, user: OfficerUser) -> Response:
    return render(request, "enterprise_files.html", {"asked": {}})


@pages.post("/enterprise/files", response_class=HTMLResponse)
async def open_file(request: Request, db: DB, user: OfficerUser) -> Response:
    form = await request.form()
    try:
        if Role.officer not in user.role_set:
            raise Problem("forbidden", "只有部门工作人员可以说明事由后查看企业档案")
        given = validate_form(ProfileLookIn, form)
        found = profile.for_officer(db, lookups_of(request), user, given, catalogue_of(request))
    except Problem as refusal:
        db.rollback()
        return render(
            request,
            "enterprise_files.html",
            {"asked": dict(form), **_shown("file", refusal)},
            status=refusal.http_status,
        )
    return _profile_page(request, found, officer_view=True, purpose=given.purpose)


def _needs_page(
    request: Request,
    db: Session,
    user: User,
    *,
    asked: dict[str, Any] | None = None,
    matches: Matches | None = None,
    refusal: Problem | None = None,
) -> Response:
    content = content_of(request)
    mine = needs.needs_of(db, credit_code_of(user))
    return render(
        request,
        "enterprise_needs.html",
        {
            "needs": [need_out(n, content=content) for n in mine],
            "kinds": needs.kinds(content),
            "asked": asked or {},
            "matches": matches,
            **_shown("need" if refusal else None, refusal),
        },
        status=refusal.http_status if refusal else 200,
    )


@pages.get("/enterprise/needs", response_class=HTMLResponse)
def my_needs(request: Request, db: DB, user: EnterpriseUser) -> Response:
    return _needs_page(request, db, user, asked={"kind": request.query_params.get("kind", "")})


@pages.post("/enterprise/needs", response_class=HTMLResponse)
async def post_need(request: Request, db: DB, user: EnterpriseUser) -> Response:
    form = await request.form()
    asked = {k: str(v) for k, v in form.items() if k not in ("csrf_token", "action")}
    try:
        given = validate_form(NeedIn, form)
        if form.get("action") == "preview":
            found = service.preview(
                lookups_of(request),
                catalogue_of(request),
                library_of(request),
                user,
                given,
                content=content_of(request),
            )
            return _needs_page(request, db, user, asked=asked, matches=found)
        need, _ = service.post_need(
            db,
            lookups_of(request),
            catalogue_of(request),
            library_of(request),
            user,
            given,
            content=content_of(request),
        )
    except Problem as refusal:
        db.rollback()
        return _needs_page(request, db, user, asked=asked, refusal=refusal)
    return RedirectResponse(f"/enterprise/needs/{need.code}?posted=1", status_code=303)


def _need_page(
    request: Request,
    db: Session,
    user: User,
    code: str,
    *,
    failed: str | None = None,
    refusal: Problem | None = None,
) -> Response:
    content = content_of(request)
    if Role.enterprise in user.role_set:
        need = needs.need_for_enterprise(db, credit_code_of(user), code)
    else:
        need = needs.need_for_officer(db, user, code, content)
    return render(
        request,
        "enterprise_need.html",
        {
            "need": need_out(need, content=content, db=db),
            "handler": needs.may_handle(user, need, content),
            "posted": request.query_params.get("posted") == "1",
            **_shown(failed, refusal),
        },
        status=refusal.http_status if refusal else 200,
    )


@pages.get("/enterprise/needs/{code}", response_class=HTMLResponse)
def one_need(request: Request, db: DB, user: AnyUser, code: NeedCode) -> Response:
    return _need_page(request, db, user, code)


async def _step(request: Request, db: Session, user: User, code: str, step: str) -> Response:
    form = await request.form()
    content = content_of(request)
    try:
        if step == "rating":
            rating = validate_form(RatingIn, form)
            needs.rate(db, user, credit_code_of(user), code, rating)
        elif step == "take":
            needs.take(db, user, code, validate_form(NeedStepIn, form), content=content)
        else:
            needs.close(db, user, code, validate_form(NeedCloseIn, form), content=content)
    except Problem as refusal:
        db.rollback()
        return _need_page(request, db, user, code, failed=step, refusal=refusal)
    return RedirectResponse(f"/enterprise/needs/{code}", status_code=303)


@pages.post("/enterprise/needs/{code}/take", response_class=HTMLResponse)
async def take(request: Request, db: DB, user: OfficerUser, code: NeedCode) -> Response:
    return await _step(request, db, user, code, "take")


@pages.post("/enterprise/needs/{code}/close", response_class=HTMLResponse)
async def close(request: Request, db: DB, user: OfficerUser, code: NeedCode) -> Response:
    return await _step(request, db, user, code, "close")


@pages.post("/enterprise/needs/{code}/rating", response_class=HTMLResponse)
async def rate(request: Request, db: DB, user: EnterpriseUser, code: NeedCode) -> Response:
    return await _step(request, db, user, code, "rating")


@pages.get("/enterprise/desk", response_class=HTMLResponse)
def desk(request: Request, db: DB, user: OfficerUser) -> Response:
    content = content_of(request)
    state = request.query_params.get("state")
    if state not in needs.STATES:
        state = None
    found = needs.queue(db, user, state=state, content=content, limit=100)
    bureau = is_bureau(user, content)
    return render(
        request,
        "enterprise_desk.html",
        {
            "needs": [need_out(n, content=content) for n in found],
            "counts": needs.counts(db, None if bureau else (user.department or "")),
            "state": state,
            "bureau": bureau,
            "state_names": needs.STATE_NAMES,
        },
    )
