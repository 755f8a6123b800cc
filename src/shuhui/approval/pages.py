"""The service hall (网上办事大厅), the applicant's side of smart approval: find an item (search in
Chinese or pinyin, domains and their scenarios), read its guide (办事指南), apply (the draft comes
pre-filled), complete the form with each value's source shown, upload materials and see the
pre-check at once, submit, follow the case, download the e-licence, withdraw, rate.

Visitors browse the hall and the guides; applying and everything about a case needs a citizen
or enterprise account (an agent acts for someone else under a mandate). A case's pages are its
parties' only (the applicant, the agent, the account that made it): anyone else is told it does
not exist; officers read cases on their own desk (``officer_pages``). An e-licence is fetched
by its holder, the agent, or an officer of a department with a part in the case, and every
fetch by someone other than the holder is a ledger entry.

**The form is one post.** The fields, a file input per material and the buttons (保存, 上传并预审,
提交) are one multipart form, so whatever the applicant typed travels with every button: an
upload saves the typed values first, a refused upload or submission leaves them saved and shows
each fault beside its field or material and in a summary at the top. A submission whose new
uploads the pre-check flags stops before sending, so the applicant sees the issues first.
"""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from shuhui.approval import (
    cases,
    diagram,
    hall_samples,
    licences,
    officer_views,
    process,
    ratings,
    service,
)
from shuhui.approval.drafts import editable
from shuhui.approval.items import Catalogue, Scenario, ServiceItem
from shuhui.approval.lookups import lookups_for
from shuhui.approval.models import CASE_STATES, Case, Licence
from shuhui.approval.precheck import KINDS, MAX_BYTES
from shuhui.approval.queues import days_left
from shuhui.approval.schemas import MAX_COMMENT, STARS_TITLES, RatingIn
from shuhui.core import ids
from shuhui.core.bounds import Page
from shuhui.core.clock import local_today
from shuhui.core.confirm import Ask, ask_first, confirmed
from shuhui.core.display import yuan
from shuhui.core.errors import FieldError, Problem
from shuhui.core.forms import validate_form
from shuhui.core.http import render
from shuhui.core.i18n import Text
from shuhui.core.requestbody import accepts
from shuhui.trust.identity.deps import DB, CurrentUser, OptionalUser, require_role
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role
from shuhui.trust.identity.service import actor_names
from shuhui.trust.ledger.service import record

pages = APIRouter(include_in_schema=False)

Applicant = Annotated[User, Depends(require_role(Role.citizen, Role.enterprise))]

QUERY_MAX = 100
PAGE_SIZE = 20
ACCEPTED_TYPES = "image/png,image/jpeg,application/pdf"
# A post carries every file chosen on the page when a button is pressed (the applicant may pick
# several first): room for three at the upload bound, and the fields.
MAX_FILES_PER_POST = 3
MAX_FORM_BODY = MAX_FILES_PER_POST * (MAX_BYTES + 64 * 1024) + 256 * 1024
FINISHED = ("issued", "rejected")
PRINCIPAL_LABEL = ("被代理人身份证号/统一社会信用代码", "Principal's citizen ID or credit code")
RATING_LABELS = {
    "stars": ("评价星级", "Stars"),
    "comment": ("意见和建议", "Comment"),
    "case": ("办件", "Case"),
}
FORM_NOTICES = {
    "saved": Text("已保存。", "Saved."),
    "uploaded": Text(
        "材料已上传并完成预审，结果见对应材料。", "Uploaded and pre-checked: see the material."
    ),
}
CASE_NOTICES = {
    "submitted": Text(
        "已提交。部门受理后可在本页查看进度。",
        "Submitted. Follow the department's steps on this page.",
    ),
    "rated": Text("感谢您的评价。", "Thank you for rating."),
    "withdrawn": Text("办件已撤回。", "The case was withdrawn."),
}
FLAGGED = Text(
    "材料预审发现问题（见下方标红处），请核对后再提交；确认无误也可以直接提交。",
    "The pre-check found issues (in red below): check them before submitting, or submit anyway.",
)


def catalogue_of(request: Request) -> Catalogue:
    found: Catalogue = request.app.state.approval_catalogue
    return found


def is_applicant(user: User | None) -> bool:
    """Whether the account applies for itself or as an agent: a citizen or an enterprise."""
    return user is not None and bool(user.role_set & {Role.citizen, Role.enterprise})


def redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


def _text(form: Any, name: str, limit: int = 200) -> str:
    value = form.get(name)
    return value[:limit].strip() if isinstance(value, str) else ""


def shown(
    refusal: Problem | None, failed: str, labels: dict[str, tuple[str, str]]
) -> dict[str, Any]:
    """A refusal as the hall's pages show it: a summary naming each field by its label (each a
    link to the field), and each field's reasons beside it."""
    if refusal is None:
        return {"failed": None, "message": None, "errors": [], "field_errors": {}}
    listed: list[dict[str, Any]] = []
    by_field: dict[str, str] = {}
    for e in refusal.errors:
        zh, en = labels.get(e.field, (e.field, e.field))
        listed.append({"field": e.field, "zh": zh, "en": en, "reason": e.reason})
        by_field[e.field] = f"{by_field[e.field]}；{e.reason}" if e.field in by_field else e.reason
    message = refusal.detail if refusal.slug != "validation" or not refusal.errors else None
    return {"failed": failed, "message": message, "errors": listed, "field_errors": by_field}


# --- the hall ------------------------------------------------------------------------------------


def item_view(catalogue: Catalogue, item: ServiceItem) -> dict[str, Any]:
    """An item as the hall lists it, with its badges: 零提交, 即办, 可委托."""
    return {
        "item": item,
        "zero": item.zero_submission,
        "instant": item.process == "approval-instant",
        "delegable": item.delegable,
        "scenario": catalogue.scenarios.get(item.scenario) if item.scenario else None,
    }


def _scenario_counts(catalogue: Catalogue, scenarios: list[Scenario]) -> dict[str, int]:
    today = local_today()
    return {s.code: len(catalogue.of_scenario(s.code, today)) for s in scenarios}


@pages.get("/approval", response_class=HTMLResponse)
def hall(
    request: Request, user: OptionalUser, q: str = "", scenario: str = "", domain: str = ""
) -> Response:
    catalogue = catalogue_of(request)
    today = local_today()
    query = q.strip()[:QUERY_MAX]
    chosen = catalogue.scenarios.get(scenario[:64])
    chosen_domain = catalogue.domains.get(domain[:64])
    if query:
        found = catalogue.search(query, today)
    elif chosen is not None:
        found = catalogue.of_scenario(chosen.code, today)
    elif chosen_domain is not None:
        found = [i for i in catalogue.in_force(today) if i.domain == chosen_domain.code]
    else:
        found = []
    by_domain = [
        (d, [s for s in catalogue.scenarios.values() if s.domain == d.code])
        for d in catalogue.domains.values()
    ]
    in_force = catalogue.in_force(today)
    return render(
        request,
        "approval_hall.html",
        {
            "q": query,
            "scenario": chosen,
            "domain": chosen_domain,
            "by_domain": by_domain,
            "counts": _scenario_counts(catalogue, list(catalogue.scenarios.values())),
            "found": [item_view(catalogue, i) for i in found],
            "listed": bool(query or chosen or chosen_domain),
            "n_items": len(in_force),
            "n_scenarios": len(catalogue.scenarios),
            "n_domains": len(catalogue.domains),
            "n_zero": sum(1 for i in in_force if i.zero_submission),
            "applicant": is_applicant(user),
        },
    )


# --- the guide (办事指南) and applying ----------------------------------------------------------


def _item_or_404(catalogue: Catalogue, code: str) -> ServiceItem:
    item = catalogue.get(code[:64])
    if item is None or not item.in_force(local_today()):
        raise Problem("not-found", detail=f"没有正在办理的事项 {code[:64]}")
    return item


def process_svg(request: Request, process_id: str, current: set[str], done: set[str]) -> str:
    """A process drawn from its BPMN file, the current and done steps marked (safe markup:
    every name in it is escaped); empty when the file cannot be drawn."""
    path = process.process_path(process_id, request.app.state.settings.city_content)
    try:
        return diagram.render_svg(path, current=current, done=done)
    except (diagram.DiagramError, OSError, ValueError):
        return ""


def _guide(
    request: Request,
    user: User | None,
    item: ServiceItem,
    *,
    refusal: Problem | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    catalogue = catalogue_of(request)
    return render(
        request,
        "approval_item.html",
        {
            "v": item_view(catalogue, item),
            "item": item,
            "domain": catalogue.domains.get(item.domain),
            "fee": yuan(item.fee_fen) if item.fee_fen else None,
            "diagram": process_svg(request, item.process, set(), set()),
            "waivable": sum(1 for m in item.materials if m.replaced_by),
            "applicant": is_applicant(user),
            "may_delegate": item.delegable and is_applicant(user),
            "typed": typed or {},
            **shown(refusal, "apply", {"principal": PRINCIPAL_LABEL}),
        },
        status=refusal.http_status if refusal else 200,
    )


@pages.get("/approval/items/{code}", response_class=HTMLResponse)
def guide(request: Request, user: OptionalUser, code: str) -> Response:
    return _guide(request, user, _item_or_404(catalogue_of(request), code))


def _as_principal(refused: Problem) -> Problem:
    """A refusal about the applicant, as the guide's form names that field: the principal."""
    errors = [
        FieldError("principal" if e.field == "applicant" else e.field, e.reason)
        for e in refused.errors
    ]
    if not errors and refused.slug == "mandate-refused":
        errors = [FieldError("principal", refused.detail or "")]
    return Problem(
        refused.slug, refused.detail, errors=errors, status=refused.status, extra=refused.extra
    )


@pages.post("/approval/items/{code}/apply", response_class=HTMLResponse)
async def apply(request: Request, db: DB, user: Applicant, code: str) -> Response:
    """在线申请: the draft pre-filled for the applicant (or, with a principal's ID, for them
    under the user's mandate), then its form."""
    catalogue = catalogue_of(request)
    item = _item_or_404(catalogue, code)
    form = await request.form()
    principal = _text(form, "principal", 32).upper()
    try:
        if principal:
            checked = ids.check(principal)
            if not checked.valid:
                raise Problem(
                    "validation",
                    detail=Text("被代理人证件号码不正确", "the principal's ID is not valid"),
                    errors=[FieldError("principal", checked.reason or "格式不正确")],
                )
        case = service.start_application(
            db,
            request.app.state.datacore,
            catalogue,
            user=user,
            item_code=item.code,
            applicant_id=principal or None,
        )
    except Problem as refused:
        if refused.slug == "mandate-refused":
            # The refusal's ledger entry stands: the principal sees the attempt at 谁用了我的数据.
            db.commit()
        else:
            db.rollback()
        return _guide(
            request, user, item, refusal=_as_principal(refused), typed={"principal": principal}
        )
    return redirect(f"/approval/cases/{case.code}/form")


# --- the case's form ---------------------------------------------------------------------------


def form_labels(view: service.FormView) -> dict[str, tuple[str, str]]:
    """Each field's and material's label, by the name a refusal or a correction gives it."""
    labels: dict[str, tuple[str, str]] = {}
    for group in view.groups:
        for f in group.fields:
            labels[f.name] = (f.title, f.title)
    for m in view.materials:
        labels[f"materials.{m.code}"] = (m.name, m.name)
    return labels


def anchor_of(name: str) -> str:
    """The element a field's or material's name is shown in on the form page."""
    if name.startswith("materials."):
        return "material-" + name.removeprefix("materials.")
    return "field-" + name


def _agent_name(db: Session, case: Case) -> str | None:
    if case.agent_id is None:
        return None
    return actor_names(db, {case.created_by}).get(case.created_by, case.created_by)


def _form_page(
    request: Request,
    db: Session,
    case: Case,
    *,
    refusal: Problem | None = None,
    typed: dict[str, str] | None = None,
    notice: Text | None = None,
) -> Response:
    view = service.form_view(db, catalogue_of(request), case)
    labels = form_labels(view)
    errors = shown(refusal, "case", labels)
    for e in errors["errors"]:
        e["anchor"] = anchor_of(e["field"])
    return render(
        request,
        "approval_form.html",
        {
            "view": view,
            "c": view.case,
            "labels": {name: zh for name, (zh, _) in labels.items()},
            "agent": _agent_name(db, case),
            "typed": typed or {},
            "accept": ACCEPTED_TYPES,
            "max_mb": MAX_BYTES // 2**20,
            "sample_kinds": set(KINDS),
            "notice": notice,
            **errors,
        },
        status=refusal.http_status if refusal else 200,
    )


@pages.get("/approval/cases/{code}/form", response_class=HTMLResponse)
def case_form(request: Request, db: DB, user: Applicant, code: str, done: str = "") -> Response:
    case = cases.party_case(db, user, code)
    return _form_page(request, db, case, notice=FORM_NOTICES.get(done[:16]))


def _values(form: Any, view: service.FormView) -> dict[str, str]:
    """The posted text of each field of the form; a field the post leaves out keeps its value,
    one sent empty is cleared."""
    out: dict[str, str] = {}
    for group in view.groups:
        for f in group.fields:
            value = form.get(f.name)
            if isinstance(value, str):
                out[f.name] = value
    return out


async def _chosen_files(form: Any, view: service.FormView) -> list[tuple[str, str, bytes]]:
    """The files chosen in the post, by material: (material, file name, content). Up to one
    byte past the upload bound is read, so the service can refuse a larger file by its size."""
    found: list[tuple[str, str, bytes]] = []
    for m in view.materials:
        value = form.get(f"file.{m.code}")
        if isinstance(value, UploadFile) and (value.filename or value.size):
            content = await value.read(MAX_BYTES + 1)
            found.append((m.code, value.filename or "upload", content))
    return found


def _upload_problem(faults: list[FieldError], status: int) -> Problem:
    return Problem(
        "unsupported-media-type"
        if status == 415
        else "content-too-large"
        if status == 413
        else "validation",
        detail=Text(
            "有材料未能上传；已填写的内容已保存",
            "some files were not taken; what you typed is saved",
        ),
        errors=faults,
        status=status,
    )


@pages.post("/approval/cases/{code}/form", response_class=HTMLResponse)
@accepts(max_bytes=MAX_FORM_BODY)
async def case_form_post(request: Request, db: DB, user: Applicant, code: str) -> Response:
    """保存, 上传并预审 or 提交: each chosen file is kept and read first (the pre-check takes
    a second or more and writes nothing to the database, so no write lock waits on it), against
    the values as typed; then, briefly, the values are saved and the read files attached; then
    (提交) the case is sent. A refused upload or submission keeps what was saved and names each
    fault beside its field or material."""
    catalogue = catalogue_of(request)
    form = await request.form()
    action = _text(form, "action", 80)
    case = cases.party_case(db, user, code)
    view = service.form_view(db, catalogue, case)
    typed = _values(form, view)
    try:
        files = await _chosen_files(form, view)
    except Problem as refused:
        db.rollback()
        return _form_page(request, db, case, refusal=refused, typed=typed)
    as_typed = {**case.form, **{k: v for k, v in typed.items() if v != ""}}
    faults: list[FieldError] = []
    status = 200
    readings: list[service.Reading] = []
    for material, file_name, content in files:
        try:
            readings.append(
                await run_in_threadpool(
                    service.read_upload,
                    request.app.state.settings.data_dir,
                    request.app.state.datacore,
                    catalogue,
                    case,
                    material=material,
                    content=content,
                    file_name=file_name,
                    form=as_typed,
                )
            )
        except Problem as refused:
            status = max(status, refused.http_status)
            reason = "；".join(str(e.reason) for e in refused.errors) or str(refused.detail)
            faults.append(FieldError(f"materials.{material}", reason))
    try:
        if view.editable:
            service.save(db, catalogue, case, typed, actor=user.username)
    except Problem as refused:
        db.rollback()
        return _form_page(request, db, case, refusal=refused, typed=typed)
    flagged = False
    for reading in readings:
        row = service.attach_reading(db, catalogue, case, reading, actor=user.username)
        flagged = flagged or row.precheck_ok is False
    if faults:
        return _form_page(request, db, case, refusal=_upload_problem(faults, status), typed=typed)
    if action == "submit":
        if flagged:
            return _form_page(request, db, case, notice=FLAGGED)
        try:
            with db.begin_nested():
                service.send(db, catalogue, case, actor=user.username)
        except Problem as refused:
            return _form_page(request, db, case, refusal=refused, typed=typed)
        return redirect(f"/approval/cases/{case.code}?done=submitted")
    if files:
        return redirect(f"/approval/cases/{case.code}/form?done=uploaded#material-{files[0][0]}")
    return redirect(f"/approval/cases/{case.code}/form?done=saved")


# --- my cases ----------------------------------------------------------------------------------


@pages.get("/approval/cases", response_class=HTMLResponse)
def my_cases(
    request: Request, db: DB, user: Applicant, state: str = "", page: Page = 1
) -> Response:
    chosen = state if state in CASE_STATES else None
    found = cases.cases_of(
        db, user, state=chosen, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE
    )
    today = local_today()
    rows = [
        {
            "c": cases.case_out(case),
            "as_agent": case.applicant_id not in {user.citizen_id, user.credit_code},
            "days_left": days_left(case, today),
        }
        for case in found[:PAGE_SIZE]
    ]
    return render(
        request,
        "approval_cases.html",
        {
            "rows": rows,
            "state": chosen or "",
            "states": CASE_STATES,
            "page": page,
            "more": len(found) > PAGE_SIZE,
        },
    )


# --- one case ----------------------------------------------------------------------------------


def _case_page(
    request: Request,
    db: Session,
    user: User,
    case: Case,
    *,
    refusal: Problem | None = None,
    failed: str = "",
    typed: dict[str, str] | None = None,
    notice: Text | None = None,
) -> Response:
    current, done = cases.diagram_state(case)
    licence = licences.licence_of(db, case)
    rating = ratings.rating_of(db, case)
    view = service.form_view(db, catalogue_of(request), case)
    return render(
        request,
        "approval_case.html",
        {
            "c": view.case,
            "item": view.item,
            "labels": {name: zh for name, (zh, _) in form_labels(view).items()},
            "events": officer_views.events_view(db, case),
            "diagram": process_svg(request, case.process, current, done),
            "current_steps": [t.name for t in cases.tasks_of(db, case) if t.closed_at is None],
            "licence": None
            if licence is None
            else officer_views.licence_out(licence, case, viewer=user),
            "rating": None if rating is None else ratings.rating_out(db, rating),
            "may_rate": case.state in FINISHED and rating is None and ratings.may_rate(user, case),
            "editable": view.editable,
            "days_left": days_left(case),
            "stars_titles": STARS_TITLES,
            "typed": typed or {},
            "notice": notice,
            **shown(refusal, failed, {**RATING_LABELS}),
        },
        status=refusal.http_status if refusal else 200,
    )


@pages.get("/approval/cases/{code}", response_class=HTMLResponse)
def case_page(request: Request, db: DB, user: Applicant, code: str, done: str = "") -> Response:
    case = cases.party_case(db, user, code)
    return _case_page(request, db, user, case, notice=CASE_NOTICES.get(done[:16]))


def _ask_withdraw(case: Case) -> Ask:
    return Ask(
        title=("撤回这件申请？", "Withdraw this application?"),
        summary=(
            f"办件 {case.code}（{case.item_name}）将撤回，部门不再办理；撤回后不能恢复，"
            "如需办理须重新申请。",
            f"Case {case.code} ({case.item_name}) will be withdrawn and not handled; this "
            "cannot be undone: to go on, apply again.",
        ),
        action=f"/approval/cases/{case.code}/withdraw",
        cancel=f"/approval/cases/{case.code}",
        button=("确认撤回", "Withdraw"),
        count=1,
    )


@pages.post("/approval/cases/{code}/withdraw", response_class=HTMLResponse)
async def withdraw(request: Request, db: DB, user: Applicant, code: str) -> Response:
    form = await request.form()
    case = cases.party_case(db, user, code)
    try:
        if not confirmed(form):
            editable(case)  # a case past withdrawing is told so, not asked about
            return ask_first(request, _ask_withdraw(case), form)
        service.withdraw(db, case, actor=user.username)
    except Problem as refused:
        db.rollback()
        return _case_page(request, db, user, case, refusal=refused, failed="withdraw")
    return redirect(f"/approval/cases/{case.code}?done=withdrawn")


@pages.post("/approval/cases/{code}/rating", response_class=HTMLResponse)
async def rate(request: Request, db: DB, user: Applicant, code: str) -> Response:
    form = await request.form()
    case = cases.party_case(db, user, code)
    typed = {"stars": _text(form, "stars", 4), "comment": _text(form, "comment", MAX_COMMENT + 1)}
    try:
        ratings.rate(db, user, case.code, validate_form(RatingIn, form))
    except Problem as refused:
        db.rollback()
        return _case_page(request, db, user, case, refusal=refused, failed="rating", typed=typed)
    return redirect(f"/approval/cases/{case.code}?done=rated#rating")


# --- e-licences --------------------------------------------------------------------------------


def _licence_for(db: Session, user: User, number: str) -> tuple[Licence, Case]:
    """The licence if ``user`` may read its case (the holder, the agent, an officer of a
    department with a part in it), else 404; a read by anyone but the holder is a ledger
    entry."""
    licence = licences.get_licence(db, number[:64])
    case = None if licence is None else db.get(Case, licence.case_id)
    if licence is None or case is None:
        raise Problem("not-found", detail=Text("没有这个电子证照", "no such e-licence"))
    cases.case_for(db, user, case.code)
    if licence.holder_id not in (user.citizen_id, user.credit_code):
        record(
            db,
            user.username,
            "approval.licence.read",
            subject=licence.holder_id,
            purpose=f"查看办件 {case.code} 的电子证照",
            detail={"licence": licence.certificate_no, "case": case.code},
        )
    return licence, case


@pages.get("/approval/licences/{number}.pdf")
def licence_pdf(request: Request, db: DB, user: CurrentUser, number: str) -> Response:
    licence, _ = _licence_for(db, user, number)
    content = licences.licence_pdf(db, request.app.state.settings.data_dir, licence.certificate_no)
    return Response(
        content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{licence.certificate_no}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )


@pages.get("/approval/licences/{number}.seal.json")
def licence_envelope(db: DB, user: CurrentUser, number: str) -> Response:
    """The licence's e-seal envelope: with the PDF, it verifies at /seals/verify."""
    licence, _ = _licence_for(db, user, number)
    return Response(
        json.dumps(licence.envelope, ensure_ascii=False, indent=2),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{licence.certificate_no}.seal.json"',
            "Cache-Control": "private, no-store",
        },
    )


# --- sample materials (示例材料，仅供演示) ------------------------------------------------------


@pages.get("/approval/samples/{kind}")
def sample(
    request: Request, db: DB, user: Applicant, kind: str, case: str = "", who: str = "own"
) -> Response:
    """A sample document of ``kind`` made out for the applicant (of ``case`` when given: an
    agent's principal), or with ``who=other`` for someone else, made up. The register rows
    read for it are ledger entries about their subjects."""
    today = local_today()
    if case:
        found = cases.party_case(db, user, case)
        holder_kind, holder_id = found.applicant_kind, found.applicant_id
    elif user.credit_code and Role.enterprise in user.role_set:
        holder_kind, holder_id = "enterprise", user.credit_code
    elif user.citizen_id:
        holder_kind, holder_id = "person", user.citizen_id
    else:
        raise Problem("not-found", detail="本账户未绑定身份证号或统一社会信用代码，没有示例材料")
    if who == "other":
        made = hall_samples.other_sample(kind[:40], seed=holder_id, today=today)
    else:
        made = hall_samples.own_sample(
            lookups_for(request.app.state.datacore),
            kind[:40],
            applicant_kind=holder_kind,
            applicant_id=holder_id,
            today=today,
        )
        for subject in sorted({read.subject for read in made.reads}):
            record(
                db,
                user.username,
                "approval.sample.rendered",
                subject=subject,
                purpose="按申请人身份生成示例材料（仅供演示）",
                detail={"kind": made.kind, "tables": sorted({r.table for r in made.reads})},
            )
    name = f"{'示例' if made.own else '他人示例'}-{hall_samples.kind_name(made.kind)}.png"
    return Response(
        hall_samples.png(made),
        media_type="image/png",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
            "Cache-Control": "private, no-store",
        },
    )
