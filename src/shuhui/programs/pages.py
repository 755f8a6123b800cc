"""The pages of 政策找人 (under /hrss, the 智慧人社 module): the policy library, the department's
campaign console, and "为我推荐的政策" for citizens and enterprises."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from shuhui.core import display
from shuhui.core.bounds import Id, Page, day_in_window, id_from
from shuhui.core.clock import format_local, local_today
from shuhui.core.confirm import Ask, ask_first, confirmed
from shuhui.core.display import mask_citizen_id, yuan
from shuhui.core.errors import Problem, invalid
from shuhui.core.http import render
from shuhui.core.i18n import Text
from shuhui.jobs import service as jobs_service
from shuhui.jobs.routes import queue_of
from shuhui.programs import recipients, service, tasks
from shuhui.programs.models import CAMPAIGN_SCOPES, CANDIDATE_STATES, ENTITY_KINDS, Candidate
from shuhui.programs.routes import Officer, Recipient, library_of, subjects_of
from shuhui.programs.schemas import CampaignIn
from shuhui.rules.explain import ConditionResult, Explanation
from shuhui.rules.language import Condition, Rule
from shuhui.trust.identity.deps import DB, CurrentUser
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role

pages = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
LABELS: dict[str, tuple[str, str]] = {
    "rule": ("政策", "Policy"),
    "evaluated_on": ("评估日", "Evaluation date"),
    "reason": ("理由", "Reason"),
    "ids": ("候选对象", "Candidates"),
    "decision": ("决定", "Decision"),
    "department": ("实施部门", "Department"),
    "status": ("状态", "Status"),
    "scope": ("候选范围", "Whom to take"),
    "limit": ("最多人数", "At most"),
}


def shown_errors(failed: str | None, refusal: Problem | None) -> dict[str, Any]:
    return display.shown_errors(refusal, display.labels_from(LABELS), failed)


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _ids(form: Any) -> list[int]:
    out = []
    for raw in form.getlist("ids"):
        if not isinstance(raw, str):
            raise invalid("ids", Text("应为候选人编号", "candidate numbers"))
        out.append(id_from("ids", raw))
    return out


def condition_lines(node: Condition, depth: int = 0) -> list[dict[str, Any]]:
    """A rule's conditions as indented lines of plain Chinese (the library shows them)."""
    lines = [
        {"depth": depth, "zh": node.zh, "en": node.en, "reference": node.reference, "id": node.id}
    ]
    for child in node.children:
        lines += condition_lines(child, depth + 1)
    return lines


def result_lines(node: ConditionResult, depth: int = 0) -> list[dict[str, Any]]:
    """One entity's conditions with their values (true / false / unknown)."""
    lines = [
        {
            "depth": depth,
            "zh": node.zh,
            "en": node.en,
            "value": node.value,
            "reference": node.reference,
            "id": node.id,
        }
    ]
    for child in node.children:
        lines += result_lines(child, depth + 1)
    return lines


def explanation_view(e: Explanation) -> dict[str, Any]:
    return {
        "outcome": e.outcome,
        "amount": yuan(e.amount) if e.amount is not None else None,
        "amount_unit": e.rule.amount.zh if e.rule.amount else None,
        "conditions": result_lines(e.conditions),
        "inputs": e.inputs,
        "parameters": e.parameters,
        "missing": e.missing,
        "text": e.text("zh-CN"),
        "on": e.on.isoformat(),
    }


def rule_view(rule: Rule) -> dict[str, Any]:
    return {
        "rule": rule,
        "entity": ENTITY_KINDS.get(rule.entity.code, (rule.entity.code,) * 2),
        "conditions": condition_lines(rule.condition),
        "parameters": service.parameter_history(rule),
    }


def candidate_view(c: Candidate) -> dict[str, Any]:
    return {
        "row": c,
        "status": CANDIDATE_STATES[c.status],
        "amount": yuan(c.amount),
        "applied_amount": yuan(c.applied_amount),
        "offered_at": format_local(c.offered_at) if c.offered_at else "",
        "masked": mask_citizen_id(c.subject),
    }


# --- where /hrss leads ------------------------------------------------------------------------


@pages.get("/hrss", response_class=HTMLResponse)
def home(user: CurrentUser) -> Response:
    if Role.officer in user.role_set:
        return RedirectResponse("/hrss/campaigns", status_code=303)
    if user.role_set & {Role.citizen, Role.enterprise}:
        return RedirectResponse("/hrss/offers", status_code=303)
    return RedirectResponse("/hrss/policies", status_code=303)


# --- the policy library -----------------------------------------------------------------------


@pages.get("/hrss/policies", response_class=HTMLResponse)
def policies(request: Request, user: CurrentUser) -> Response:
    book, _ = library_of(request).book()
    today = local_today()
    return render(
        request,
        "hrss_policies.html",
        {
            "policies": [rule_view(r) for r in book.rules.values() if service.offerable(r)],
            "today": today,
        },
    )


# --- the campaign console ---------------------------------------------------------------------


def _console(
    request: Request,
    db: Session,
    user: User,
    *,
    failed: str | None = None,
    refusal: Problem | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    book, _ = library_of(request).book()
    mine = [
        r for r in book.rules.values() if r.department == user.department and service.offerable(r)
    ]
    rows = []
    for c in service.campaigns(db, user.department):
        rows.append({"c": c, "funnel": service.funnel(db, c), "at": format_local(c.created_at)})
    return render(
        request,
        "hrss_campaigns.html",
        {
            "rules": mine,
            "campaigns": rows,
            "today": local_today().isoformat(),
            "scopes": CAMPAIGN_SCOPES,
            "limit_max": service.LIMIT_MAX,
            "typed": typed or {},
            **shown_errors(failed, refusal),
        },
        status=refusal.http_status if refusal else 200,
    )


@pages.get("/hrss/campaigns", response_class=HTMLResponse)
def console(request: Request, db: DB, user: Officer) -> Response:
    return _console(request, db, user)


@pages.post("/hrss/campaigns", response_class=HTMLResponse)
async def run(request: Request, db: DB, user: Officer) -> Response:
    form = await request.form()
    typed = {
        "rule": _text(form, "rule"),
        "evaluated_on": _text(form, "evaluated_on"),
        "scope": _text(form, "scope") or "all",
        "limit": _text(form, "limit").strip(),
    }
    try:
        on: date | None = None
        if typed["evaluated_on"]:
            try:
                on = date.fromisoformat(typed["evaluated_on"][:10])
            except ValueError:
                raise invalid(
                    "evaluated_on", Text("请按“年-月-日”填写日期", "YYYY-MM-DD")
                ) from None
            day_in_window("evaluated_on", on)
        limit: int | None = None
        if typed["limit"]:
            try:
                limit = int(typed["limit"])
            except ValueError:
                raise invalid(
                    "limit", Text("必须是整数", "a whole number"), detail="最多人数须为整数"
                ) from None
        # Refused here as the run would be; then run as a background job (jobs), whose page
        # follows its progress and opens the campaign.
        service.campaign_rule(
            library_of(request), typed["rule"], user.department, typed["scope"], limit
        )
        asked = CampaignIn.model_validate(
            {"rule": typed["rule"], "evaluated_on": on, "scope": typed["scope"], "limit": limit}
        )
        job, _ = jobs_service.start(db, queue_of(request), tasks.CAMPAIGN, asked, user)
    except Problem as exc:
        db.rollback()
        return _console(request, db, user, failed="run", refusal=exc, typed=typed)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


def _variable_titles(request: Request, slug: str) -> dict[str, str]:
    """The Chinese names of a policy's inputs, by variable name: missing data is named so."""
    try:
        rule = library_of(request).rule(slug)
    except Problem:
        return {}
    return {name: v.zh for name, v in rule.variables.items()}


def _campaign_page(
    request: Request,
    db: Session,
    code: str,
    department: str | None,
    status: str = "",
    page: int = 1,
    *,
    failed: str | None = None,
    refusal: Problem | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    c = service.campaign(db, code, department)
    chosen = status if status in CANDIDATE_STATES else None
    page = max(1, page)
    rows, total = service.candidates_of(
        db, c, chosen, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    funnel = service.funnel(db, c)
    stages = [
        ("found", "发现候选", "Found"),
        ("confirmed", "部门确认并推送", "Confirmed and offered"),
        ("answered", "对象回应", "Answered"),
        ("granted", "已享受", "Granted"),
    ]
    return render(
        request,
        "hrss_campaign.html",
        {
            "c": c,
            "funnel": funnel,
            "stages": stages,
            "chart": {
                "names": [zh for _, zh, _ in stages],
                "names_en": [en for _, _, en in stages],
                "counts": [funnel[key] for key, _, _ in stages],
            },
            "candidates": [candidate_view(r) for r in rows],
            "total": total,
            "status": chosen or "",
            "states": CANDIDATE_STATES,
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "created_at": format_local(c.created_at),
            "scope": CAMPAIGN_SCOPES.get(c.scope, (c.scope, c.scope)),
            "variable_titles": _variable_titles(request, c.rule),
            "typed": typed or {},
            **shown_errors(failed, refusal),
        },
        status=refusal.http_status if refusal else 200,
    )


@pages.get("/hrss/campaigns/{code}", response_class=HTMLResponse)
def campaign(
    request: Request,
    db: DB,
    user: Officer,
    code: str,
    status: str = "",
    page: Page = 1,
) -> Response:
    return _campaign_page(request, db, code, user.department, status[:16], page)


def _whom(c: Any, n: int) -> tuple[str, str]:
    """``n`` of a campaign's candidates, counted in plain words (位居民, 家企业)."""
    if c.entity == "enterprise":
        return f"{n} 家企业", f"{n} enterprise{'s' if n != 1 else ''}"
    return f"{n} 位居民", f"{n} resident{'s' if n != 1 else ''}"


def _ask_confirm(c: Any, n: int) -> Ask:
    zh, en = _whom(c, n)
    return Ask(
        title=("确认并推送政策？", "Confirm and offer the policy?"),
        summary=(
            f"将向 {zh}发送{c.name}的待遇确认通知，发送后不能撤回。",
            f"{en} will be sent the offer of {c.name}; once sent it cannot be withdrawn.",
        ),
        consequences=(
            ("每位对象在“为我推荐的政策”中看到这项政策；", "each sees the policy in their offers;"),
            ("同时给每位对象发一条门户消息和一条短信；", "a portal message and a text go to each;"),
            ("审计账本记下是您确认推送的。", "the audit ledger records that you confirmed it."),
        ),
        action=f"/hrss/campaigns/{c.code}/confirm",
        cancel=f"/hrss/campaigns/{c.code}#candidates",
        button=("确认推送", "Confirm and offer"),
        count=n,
    )


@pages.post("/hrss/campaigns/{code}/confirm", response_class=HTMLResponse)
async def confirm(request: Request, db: DB, user: Officer, code: str) -> Response:
    form = await request.form()
    try:
        c = service.campaign(db, code, user.department)
        ids = None if _text(form, "all") == "1" else _ids(form)
        if ids == []:
            raise invalid("ids", Text("请至少选择一位候选人", "choose at least one candidate"))
        if not confirmed(form):
            pending = service.funnel(db, c)["status_pending"] if ids is None else len(set(ids))
            if pending == 0:
                raise invalid("ids", "没有待确认的对象")
            return ask_first(request, _ask_confirm(c, pending), form)
        n = service.confirm(db, c, ids, actor=user.username, department=user.department)
    except Problem as exc:
        db.rollback()
        return _campaign_page(request, db, code, user.department, failed="review", refusal=exc)
    return RedirectResponse(f"/hrss/campaigns/{code}?confirmed={n}", status_code=303)


@pages.post("/hrss/campaigns/{code}/reject", response_class=HTMLResponse)
async def reject(request: Request, db: DB, user: Officer, code: str) -> Response:
    form = await request.form()
    reason = _text(form, "reason")
    try:
        c = service.campaign(db, code, user.department)
        ids = _ids(form)
        if not confirmed(form):
            if not ids:
                raise invalid("ids", "请至少选择一个对象")
            if not reason.strip():
                raise invalid("reason", "请写明不予确认的理由")
            zh, en = _whom(c, len(set(ids)))
            return ask_first(
                request,
                Ask(
                    title=("所选不予确认？", "Do not confirm the selected?"),
                    summary=(
                        f"{zh}将不予确认，不会收到{c.name}的推送；理由“{reason.strip()}”"
                        "记入审计账本，之后不能改回待确认。",
                        f"{en} will not be confirmed and not offered {c.name}; the reason is "
                        "recorded in the audit ledger and this cannot be undone.",
                    ),
                    action=f"/hrss/campaigns/{c.code}/reject",
                    cancel=f"/hrss/campaigns/{c.code}#candidates",
                    button=("确认不予确认", "Do not confirm"),
                    count=len(set(ids)),
                ),
                form,
            )
        n = service.reject(db, c, ids, reason, actor=user.username, department=user.department)
    except Problem as exc:
        db.rollback()
        return _campaign_page(
            request,
            db,
            code,
            user.department,
            failed="review",
            refusal=exc,
            typed={"reason": reason},
        )
    return RedirectResponse(f"/hrss/campaigns/{code}?rejected={n}", status_code=303)


@pages.get("/hrss/candidates/{candidate_id}", response_class=HTMLResponse)
def candidate(request: Request, db: DB, user: Officer, candidate_id: Id) -> Response:
    return _candidate_page(request, db, candidate_id, user)


def _candidate_page(
    request: Request,
    db: Session,
    candidate_id: int,
    user: User,
    *,
    failed: str | None = None,
    refusal: Problem | None = None,
) -> Response:
    c = service.candidate(db, candidate_id, user.department)
    library = library_of(request)
    rule = library.rule(c.campaign.rule)
    found = service.explain_candidate(db, library, c, actor=user.username)
    return render(
        request,
        "hrss_candidate.html",
        {
            "cand": candidate_view(c),
            "rule": rule,
            "e": explanation_view(found),
            **shown_errors(failed, refusal),
        },
        status=refusal.http_status if refusal else 200,
    )


@pages.post("/hrss/candidates/{candidate_id}/review", response_class=HTMLResponse)
async def review(request: Request, db: DB, user: Officer, candidate_id: Id) -> Response:
    form = await request.form()
    try:
        if _text(form, "decision") == "reject" and not confirmed(form):
            row = service.candidate(db, candidate_id, user.department)
            if row.status != "applied":
                raise Problem("conflict", detail="该申请已处理")
            if not _text(form, "reason").strip():
                raise invalid("reason", "请写明不予批准的理由")
            return ask_first(
                request,
                Ask(
                    title=("不予批准这份申请？", "Reject this application?"),
                    summary=(
                        f"将不予批准 {mask_citizen_id(row.subject)} 的{row.campaign.name}申请，"
                        "申请人会看到结果和理由，之后不能改回。",
                        f"The application of {mask_citizen_id(row.subject)} for "
                        f"{row.campaign.name} will be rejected; the applicant sees the outcome "
                        "and the reason, and this cannot be undone.",
                    ),
                    action=f"/hrss/candidates/{candidate_id}/review",
                    cancel=f"/hrss/candidates/{candidate_id}",
                    button=("确认不予批准", "Reject"),
                    count=1,
                ),
                form,
            )
        recipients.review_application(
            db,
            candidate_id,
            _text(form, "decision"),
            _text(form, "reason"),
            actor=user.username,
            department=user.department,
        )
    except Problem as exc:
        db.rollback()
        return _candidate_page(request, db, candidate_id, user, failed="review", refusal=exc)
    return RedirectResponse(f"/hrss/candidates/{candidate_id}", status_code=303)


# --- 为我推荐的政策 -----------------------------------------------------------------------------


def _offers(
    request: Request,
    db: Session,
    user: User,
    *,
    failed: str | None = None,
    refusal: Problem | None = None,
) -> Response:
    library = library_of(request)
    offers = []
    for c in recipients.offers_for(db, subjects_of(user)):
        rule = library.rule(c.campaign.rule)
        found = service.explain_candidate(db, library, c)
        offers.append({**candidate_view(c), "rule": rule, "e": explanation_view(found)})
    return render(
        request,
        "hrss_offers.html",
        {
            "offers": offers,
            "grants": recipients.grants_for(db, subjects_of(user)),
            "yuan": yuan,
            **shown_errors(failed, refusal),
        },
        status=refusal.http_status if refusal else 200,
    )


@pages.get("/hrss/offers", response_class=HTMLResponse)
def offers(request: Request, db: DB, user: Recipient) -> Response:
    return _offers(request, db, user)


@pages.post("/hrss/offers/{offer_id}/answer", response_class=HTMLResponse)
async def answer(request: Request, db: DB, user: Recipient, offer_id: Id) -> Response:
    form = await request.form()
    answers = {
        k.removeprefix("answer."): v
        for k, v in form.items()
        if k.startswith("answer.") and isinstance(v, str)
    }
    try:
        recipients.answer(
            db,
            library_of(request),
            offer_id,
            _text(form, "decision"),
            subjects=subjects_of(user),
            actor=user.username,
            answers=answers,
            reason=_text(form, "reason"),
        )
    except Problem as exc:
        db.rollback()
        return _offers(request, db, user, failed=f"offer:{offer_id}", refusal=exc)
    return RedirectResponse(f"/hrss/offers#offer-{offer_id}", status_code=303)
