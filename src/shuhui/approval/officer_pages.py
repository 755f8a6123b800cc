"""The officers' pages of smart approval: the workbench (审批工作台, ``/approval/workbench``) with
the department's queues by role, the cases due soon and the follow-ups of bad ratings; the
officer's case page (``/approval/desk/cases/{code}``) where the form is read with each field's
source, the materials with their pre-check, the process with its current step, and the open
steps this officer may take are taken; and the window's filing (窗口受理,
``/approval/desk/counter``), where an officer files an application for the applicant present
(``counter``).

Who sees what: only officers (others get 403); a case is shown to an officer of a department
with a part in it (the deciding one, or the countersigning one), to everyone else it does not
exist (404), as the applicant's own pages do. Every look at a case, an uploaded file or an
e-licence is a ledger entry (谁用了我的数据), in the request's transaction.

A step taken by someone else first (the service's 409) is said plainly, and the page shows the
case as it now stands instead of the form the officer posted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from shuhui.approval import access, counter, officer_views, queues, ratings, service
from shuhui.approval.items import Catalogue, ServiceItem
from shuhui.approval.models import CASE_CHANNELS, Case, CaseTask
from shuhui.approval.process import ROLES
from shuhui.approval.schemas import (
    MAX_CORRECTIONS,
    CounterFilingIn,
    FollowUpReply,
    TaskDecisionIn,
)
from shuhui.core import display
from shuhui.core.bounds import Id, Page
from shuhui.core.clock import format_local
from shuhui.core.confirm import Ask, ask_first, confirmed
from shuhui.core.display import mask_citizen_id
from shuhui.core.errors import FieldError, Problem
from shuhui.core.forms import validate, validate_form
from shuhui.core.http import render
from shuhui.core.i18n import Text
from shuhui.trust.identity.deps import DB, require_role
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role
from shuhui.trust.ledger.service import record

desk_pages = APIRouter(include_in_schema=False)

Officer = Annotated[User, Depends(require_role(Role.officer))]
PAGE_SIZE = 20
DUE_SOON_SHOWN = 20
FOLLOWUPS_SHOWN = 50
NOT_FOUND = Text("没有找到这个办件", "no such case")
LABELS: dict[str, tuple[str, str]] = {
    "reply": ("答复", "Reply"),
    "reason": ("理由", "Reason"),
    "outcome": ("办理结果", "Outcome"),
    "corrections": ("一次性告知事项", "Items to correct"),
    "case": ("办件", "Case"),
    "state": ("状态", "State"),
    "item": ("事项", "Item"),
    "applicant": ("申请人证件号码", "Applicant's ID"),
    "identity_checked": ("当面核验身份证件", "Identity checked in person"),
    "purpose": ("代为申请事由", "Why it is filed here"),
}


def catalogue_of(request: Request) -> Catalogue:
    found: Catalogue = request.app.state.approval_catalogue
    return found


def content_dir_of(request: Request) -> Path:
    found: Path = request.app.state.settings.city_content
    return found


def data_dir_of(request: Request) -> Path:
    found: Path = request.app.state.settings.data_dir
    return found


# --- what a row of a queue shows --------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    """A case's time limit as a row or the case page shows it: in words as well as colour."""

    promised: date | None
    statutory: date | None
    days_left: int | None
    warning: str | None  # overdue | due_soon | None
    paused: bool
    finished: bool


def due_of(case: Case) -> Due:
    return Due(
        promised=case.promised_due,
        statutory=case.statutory_due,
        days_left=queues.days_left(case),
        warning=queues.warning(case),
        paused=case.paused_since is not None,
        finished=case.state in ("issued", "rejected", "withdrawn"),
    )


def case_row(case: Case, task: CaseTask | None = None) -> dict[str, Any]:
    return {
        "code": case.code,
        "item": case.item_name,
        "applicant": case.applicant_name,
        "applicant_id": mask_citizen_id(case.applicant_id),
        "submitted": format_local(case.submitted_at),
        "state": case.state,
        "step": task.name if task else "",
        "role": ROLES.get(task.role, (task.role, task.role)) if task else None,
        "due": due_of(case),
    }


def shown_errors(
    failed: str | None, refusal: Problem | None, names: dict[str, str] | None = None
) -> dict[str, Any]:
    """A refusal as the page shows it; a correction's reason is named by the field or material
    it is about (``why.<field>``), as the checklist names it."""
    table = display.labels_from(LABELS)
    known = names or {}

    def label(field: str) -> tuple[str, str]:
        if field.startswith("why."):
            target = field.removeprefix("why.")
            title = known.get(target, target)
            return f"{title}（补正原因）", f"{title} (why)"
        return table(field)

    return display.shown_errors(refusal, label, failed)


# --- 审批工作台 --------------------------------------------------------------------------------


def _workbench(
    request: Request,
    db: Session,
    user: User,
    role: str = "",
    page: int = 1,
    *,
    failed: str | None = None,
    refusal: Problem | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    role = role if role in queues.ROLE_ORDER else ""
    counts = queues.queue_counts(db, user.department)
    total = counts[role].open if role in counts else 0
    if not role:
        total = sum(c.open for c in counts.values())
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    rows = [
        case_row(case, task)
        for task, case in queues.queue(
            db, user, role=role or None, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
        )
    ]
    soon: list[dict[str, Any]] = []
    followups: list[Any] = []
    if user.department:
        soon = [
            case_row(c)
            for c in queues.due_soon(db, department=user.department, limit=DUE_SOON_SHOWN)
        ]
        followups = ratings.followups(db, user, "open", limit=FOLLOWUPS_SHOWN)
    return render(
        request,
        "approval_desk_workbench.html",
        {
            "role": role,
            "roles": [(r, ROLES[r], counts.get(r)) for r in queues.ROLE_ORDER],
            "total": total,
            "rows": rows,
            "page": page,
            "pages": pages,
            "soon": soon,
            "followups": followups,
            "within": queues.WARN_WITHIN,
            "department": user.department,
            "typed": typed or {},
            "replied": request.query_params.get("replied", "")[:12],
            **shown_errors(failed, refusal),
        },
        status=refusal.http_status if refusal else 200,
    )


@desk_pages.get("/approval/workbench", response_class=HTMLResponse)
def workbench(request: Request, db: DB, user: Officer, role: str = "", page: Page = 1) -> Response:
    return _workbench(request, db, user, role[:16], page)


@desk_pages.post("/approval/workbench/followups/{followup_id}", response_class=HTMLResponse)
async def reply_followup(request: Request, db: DB, user: Officer, followup_id: Id) -> Response:
    form = await request.form()
    text = form.get("reply")
    typed = {"reply": text if isinstance(text, str) else ""}
    try:
        given = validate_form(FollowUpReply, form)
        ratings.reply_followup(db, user, followup_id, given.reply)
    except Problem as exc:
        db.rollback()
        return _workbench(
            request, db, user, failed=f"followup-{followup_id}", refusal=exc, typed=typed
        )
    return RedirectResponse(f"/approval/workbench?replied={followup_id}#followups", status_code=303)


# --- 办件办理: the officer's case page ------------------------------------------------------------


def officer_case(db: Session, user: User, code: str, *, look: bool = True) -> Case:
    """The case for an officer of a department with a part in it, else 404: another
    department's case, a draft, or none at all. With ``look`` the look is recorded in the
    ledger (``access.case_for``); without, the caller records what was read."""
    case = access.get_case(db, code[:32])
    if case is None or case.state == "draft" or not access.is_officer_of(db, user, case):
        raise Problem("not-found", detail=NOT_FOUND)
    return access.case_for(db, user, case.code) if look else case


def _case_page(
    request: Request,
    db: Session,
    user: User,
    code: str,
    *,
    failed: str | None = None,
    refusal: Problem | None = None,
    typed: dict[str, Any] | None = None,
) -> Response:
    case = officer_case(db, user, code)
    catalogue = catalogue_of(request)
    view = officer_views.officer_view(
        db, catalogue, case, officer=user, city_content=content_dir_of(request)
    )
    item = catalogue.get(case.item_code)
    names = {f.name: f.title for g in view.form.groups for f in g.fields}
    names.update({f"materials.{m.code}": m.name for m in view.form.materials})
    taken = refusal is not None and refusal.http_status == 409
    return render(
        request,
        "approval_desk_case.html",
        {
            "case": case,
            "view": view,
            "due": due_of(case),
            "applicant_id": mask_citizen_id(case.applicant_id),
            "submitted": format_local(case.submitted_at),
            "taken": taken,
            "names": names,
            "item_issues": None if item is None else item.issues,
            "outcome_names": service.OUTCOME_NAMES,
            "typed": typed or {},
            "issued": request.query_params.get("issued", "") == "1",
            "filed": request.query_params.get("filed", "") == "1",
            "channel": CASE_CHANNELS.get(case.channel, (case.channel, case.channel)),
            "done": request.query_params.get("done", "")[:16],
            **shown_errors(failed, refusal, names),
        },
        status=refusal.http_status if refusal else 200,
    )


@desk_pages.get("/approval/desk/cases/{code}", response_class=HTMLResponse)
def case_page(request: Request, db: DB, user: Officer, code: str) -> Response:
    return _case_page(request, db, user, code)


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _posted(form: Any) -> dict[str, Any]:
    """What a task's form posted, as the page shows it again: the outcome (the button pressed),
    the reason, and for 一次性告知 the items ticked with their reasons."""
    ticked = [t for t in form.getlist("correct") if isinstance(t, str)][:MAX_CORRECTIONS]
    return {
        "outcome": _text(form, "outcome"),
        "reason": _text(form, "reason"),
        "correct": ticked,
        "why": {t: _text(form, f"why.{t}").strip() for t in ticked},
    }


def _decision(posted: dict[str, Any]) -> TaskDecisionIn:
    """The decision, through the API's schema. A ticked item without its reason is refused
    naming the item, every one of them at once, as is a correction with nothing ticked."""
    outcome, ticked, why = posted["outcome"], posted["correct"], posted["why"]
    if outcome == "correct":
        missing = [
            FieldError(f"why.{t}", Text("请写明需要补正的原因", "say what to correct"))
            for t in ticked
            if not why[t]
        ]
        if not ticked:
            missing.append(
                FieldError(
                    "corrections",
                    Text("请至少勾选一项需要补正的字段或材料", "tick at least one item to correct"),
                )
            )
        if missing:
            raise Problem(
                "validation",
                detail=Text("一次性告知须列明每一项及其原因", "list every item and why"),
                errors=missing,
            )
    return validate(
        TaskDecisionIn,
        {
            "outcome": outcome,
            "reason": posted["reason"] or None,
            "corrections": [{"field": t, "reason": why[t]} for t in ticked]
            if outcome == "correct"
            else [],
        },
    )


def _ask_reject(case: Case, task_id: int, reason: str) -> Ask:
    return Ask(
        title=("确认不予许可？", "Refuse the application?"),
        summary=(
            f"办件 {case.code}（{case.item_name}，申请人 {case.applicant_name}）将不予许可，"
            f"理由“{reason.strip()}”告知申请人并记入审计账本，决定后不能撤回。",
            f"Case {case.code} will be refused; the reason is told to the applicant and recorded "
            "in the audit ledger; this cannot be undone.",
        ),
        consequences=(
            ("办件办结，状态为“不予许可”；", "the case ends as refused;"),
            ("申请人可以评价本次办理。", "the applicant may rate the handling."),
        ),
        action=f"/approval/desk/cases/{case.code}/tasks/{task_id}",
        cancel=f"/approval/desk/cases/{case.code}#actions",
        button=("确认不予许可", "Refuse"),
        count=1,
    )


def _task_of(db: Session, case: Case, task_id: int) -> CaseTask:
    task = next((t for t in access.tasks_of(db, case) if t.id == task_id), None)
    if task is None:
        raise Problem("not-found", detail=Text("没有这个办理环节", "no such step"))
    return task


@desk_pages.post("/approval/desk/cases/{code}/tasks/{task_id}", response_class=HTMLResponse)
async def take_step(request: Request, db: DB, user: Officer, code: str, task_id: Id) -> Response:
    form = await request.form()
    typed = _posted(form)
    try:
        case = officer_case(db, user, code)
        _task_of(db, case, task_id)
        decision = _decision(typed)
        if decision.outcome == "reject" and not confirmed(form):
            return ask_first(request, _ask_reject(case, task_id, decision.reason or ""), form)
        service.decide(db, task_id, officer=user, decision=decision)
    except Problem as exc:
        db.rollback()
        return _case_page(
            request, db, user, code, failed=f"task-{task_id}", refusal=exc, typed=typed
        )
    return RedirectResponse(
        f"/approval/desk/cases/{case.code}?done={decision.outcome}#top", status_code=303
    )


@desk_pages.post("/approval/desk/cases/{code}/issue", response_class=HTMLResponse)
async def issue(request: Request, db: DB, user: Officer, code: str) -> Response:
    try:
        case = officer_case(db, user, code)
        service.issue(
            db,
            data_dir_of(request),
            request.app.state.datacore,
            catalogue_of(request),
            case,
            officer=user,
            city_content=content_dir_of(request),
        )
    except Problem as exc:
        db.rollback()
        return _case_page(request, db, user, code, failed="issue", refusal=exc)
    return RedirectResponse(f"/approval/desk/cases/{case.code}?issued=1#result", status_code=303)


# --- an uploaded material (the e-licence's PDF and envelope are the case API's) ---------------

CONTENT_TYPES = frozenset({"image/png", "image/jpeg", "application/pdf"})


def _file_headers(file_name: str) -> dict[str, str]:
    # The name is the applicant's: any character percent-encoded (RFC 5987), none raw.
    return {
        "Content-Disposition": f"inline; filename*=UTF-8''{quote(file_name, safe='')}",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }


@desk_pages.get("/approval/desk/cases/{code}/materials/{material}")
def material_file(request: Request, db: DB, user: Officer, code: str, material: str) -> Response:
    """An uploaded material as the applicant sent it, for the officers of the case's
    departments; the read is a ledger entry (one: the file's, naming the material)."""
    case = officer_case(db, user, code, look=False)
    row = next((m for m in access.materials_of(db, case) if m.material == material[:64]), None)
    if row is None or not row.stored_as or row.content_type not in CONTENT_TYPES:
        raise Problem("not-found", detail=Text("没有上传这份材料", "no such upload"))
    root = (data_dir_of(request) / "approval").resolve()
    path = (data_dir_of(request) / row.stored_as).resolve()
    if not path.is_relative_to(root):
        path = (root / row.stored_as).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise Problem("not-found", detail=Text("材料文件不存在", "the file is missing"))
    # A look at the application, as the case page's own (谁用了我的数据 names it so).
    record(
        db,
        user.username,
        "approval.material.read",
        subject=case.applicant_id,
        purpose=f"审查{case.item_name}的申请材料",
        grant=case.code,
        detail={
            "case": case.code,
            "item": case.item_code,
            "department": user.department,
            "material": row.material,
            "sha256": row.sha256,
        },
    )
    return Response(
        path.read_bytes(),
        media_type=row.content_type,
        headers=_file_headers(row.file_name or f"{row.material}"),
    )


# --- 窗口受理: filing at a service-hall window ----------------------------------------------------

COUNTER_FORM = "counter"
VALUE_PREFIX = "v."  # a form field's input, apart from the filing's own inputs


@dataclass(frozen=True)
class CounterField:
    """A field of the item's form as the window's page asks for it: typed by the officer, or
    filled by the platform from the registers (left empty, it is)."""

    name: str
    title: str
    required: bool
    filled: bool  # the platform fills it from the data core
    input: str
    options: list[tuple[str, str]]
    max_length: int | None
    help: str


def counter_fields(item: ServiceItem) -> list[CounterField]:
    return [
        CounterField(
            name=f.name,
            title=f.title_zh,
            required=f.required,
            filled=f.fill is not None,
            input=service.input_kind(f),
            options=service.options_of(f),
            max_length=f.schema.get("maxLength"),
            help=f.help_zh,
        )
        for f in item.form.fields
    ]


def _counter_page(
    request: Request,
    db: Session,
    user: User,
    item_code: str,
    *,
    refusal: Problem | None = None,
    typed: dict[str, Any] | None = None,
) -> Response:
    offered = counter.items_for(user, catalogue_of(request), content_dir=content_dir_of(request))
    item = next((i for i in offered if i.code == item_code), None)
    names: dict[str, str] = {}
    if item is not None:
        names = {f.name: f.title_zh for f in item.form.fields}
        names.update({f"materials.{m.code}": m.name_zh for m in item.materials})
    return render(
        request,
        "approval_desk_counter.html",
        {
            "items": offered,
            "item": item,
            "asked": item_code,
            "fields": [] if item is None else counter_fields(item),
            "department": user.department,
            "typed": typed or {},
            **shown_errors(COUNTER_FORM if refusal else None, refusal, names),
        },
        status=refusal.http_status if refusal else 200,
    )


@desk_pages.get("/approval/desk/counter", response_class=HTMLResponse)
def counter_page(request: Request, user: Officer, db: DB, item: str = "") -> Response:
    return _counter_page(request, db, user, item[:64])


@desk_pages.post("/approval/desk/counter", response_class=HTMLResponse)
async def file_at_counter(request: Request, db: DB, user: Officer) -> Response:
    """Files the application for the applicant present; a refusal shows the form again with
    what was typed, each fault beside its field (the pre-fill's read stays in the ledger)."""
    form = await request.form()
    item_code = _text(form, "item")[:64]
    values = {
        name.removeprefix(VALUE_PREFIX): value.strip()
        for name, value in form.multi_items()
        if name.startswith(VALUE_PREFIX) and isinstance(value, str) and value.strip()
    }
    applicant = _text(form, "applicant").strip()[:32]
    purpose = _text(form, "purpose")[:200]
    checked = _text(form, "identity_checked") == "yes"
    typed = {
        "applicant": applicant,
        "purpose": purpose,
        "identity_checked": checked,
        "values": values,
    }
    try:
        given = validate(
            CounterFilingIn,
            {
                "item": item_code,
                "applicant": applicant.upper(),
                "identity_checked": checked,
                "purpose": purpose,
                "values": values,
            },
        )
        case = counter.file_at_counter(
            db,
            request.app.state.datacore,
            catalogue_of(request),
            officer=user,
            given=given,
            content_dir=content_dir_of(request),
        )
    except Problem as exc:
        if exc.slug == "validation":
            db.commit()  # the read of the applicant's data, if made, stays recorded
        else:
            db.rollback()
        return _counter_page(request, db, user, item_code, refusal=exc, typed=typed)
    return RedirectResponse(f"/approval/desk/cases/{case.code}?filed=1#top", status_code=303)
