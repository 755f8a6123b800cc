"""The pages 我的授权 (``/me/authorisations``), 谁用了我的数据 (``/me/data-uses``) and the officer's
授权核验 (``/verify``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from shuhui.core import forms
from shuhui.core.clock import SHANGHAI, as_utc, local_today, utcnow
from shuhui.core.confirm import Ask, ask_first, confirmed
from shuhui.core.errors import FieldError, Problem
from shuhui.core.http import render, tr
from shuhui.core.i18n import Text
from shuhui.trust.authorisations import context
from shuhui.trust.authorisations import service as authz
from shuhui.trust.authorisations.context import (
    Officer,
    certificate_types,
    identities,
    identity_ids,
    may_see,
    service_items,
)
from shuhui.trust.authorisations.models import Authorisation
from shuhui.trust.authorisations.purposes import RULE, ApprovedPurpose
from shuhui.trust.authorisations.schemas import (
    CertUseIn,
    MandateIn,
    SignIn,
)
from shuhui.trust.identity.deps import DB, CurrentUser
from shuhui.trust.identity.models import User
from shuhui.trust.ledger import service as ledger
from shuhui.trust.ledger.actions import action_name, purpose_name

pages = APIRouter(include_in_schema=False)


def _titles(request: Request) -> dict[str, Any]:
    return {
        "kind_titles": authz.KIND_TITLES,
        "status_titles": authz.STATUS_TITLES,
        "action_titles": authz.MANDATE_ACTIONS,
        "action_name": action_name,
        "items": service_items(request),
        "cert_types": certificate_types(request),
    }


def _page_user(user: User) -> dict[str, Any]:
    return {"me": user, "my_ids": identity_ids(user), "parties": identities(user)}


@pages.get("/me/authorisations", response_class=HTMLResponse)
def my_authorisations(request: Request, db: DB, user: CurrentUser) -> Response:
    now = utcnow()
    mine_ids = identity_ids(user)
    rows = authz.involving(db, mine_ids)
    for a in rows:
        authz.settle(db, a, now)
    granted = [a for a in rows if a.grantor_id in mine_ids or a.principal_id in mine_ids]
    received = [a for a in rows if a.grantee_id in mine_ids and a not in granted]
    return render(
        request,
        "my_authorisations.html",
        {"granted": granted, "received": received, **_titles(request), **_page_user(user)},
    )


def _form_defaults(kind: str) -> dict[str, Any]:
    today = local_today()  # the form's dates are Beijing dates (see _day)
    return {
        "kind": kind,
        "valid_from": today.isoformat(),
        "valid_to": (today + timedelta(days=90 if kind == "mandate" else 30)).isoformat(),
    }


@pages.get("/me/authorisations/new", response_class=HTMLResponse)
def new_form(
    request: Request,
    db: DB,
    user: CurrentUser,
    kind: Annotated[Literal["mandate", "cert_use"], Query()] = "mandate",
) -> Response:
    return render(
        request,
        "authorisation_new.html",
        {
            "form": _form_defaults(kind),
            "error": None,
            **_purposes(context.approved_purposes(request, db) if kind == "cert_use" else []),
            **_titles(request),
            **_page_user(user),
        },
    )


def _purposes(approved: list[ApprovedPurpose]) -> dict[str, Any]:
    return {"approved": approved, "purpose_rule": RULE}


def _day(value: str, where: str, end: bool) -> datetime:
    try:
        day = datetime.fromisoformat(value)
    except ValueError:
        raise Problem(
            "validation", errors=[FieldError(where, Text("不是有效日期（年-月-日）", "not a date"))]
        ) from None
    if day.tzinfo is None:
        # A date typed in the form is a Beijing date: the window runs to the end of that day.
        day = day.replace(tzinfo=SHANGHAI)
    if end and (day.hour, day.minute, day.second) == (0, 0, 0):
        day = day + timedelta(days=1) - timedelta(seconds=1)
    return as_utc(day)


def _chosen_purpose(values: dict[str, str], approved: list[ApprovedPurpose]) -> dict[str, str]:
    """An approved purpose picked from the list names the institution and the purpose exactly as
    approved; "other" keeps what was typed (a relying party outside the data channel)."""
    chosen = values.get("approved", "")
    if not chosen or chosen == "other":
        return values
    credit_code, _, purpose = chosen.partition("|")
    match = [p for p in approved if p.credit_code == credit_code and p.purpose == purpose]
    if not match:
        raise Problem(
            "validation", errors=[FieldError("purpose", "所选用途已不在获批用途之中，请重新选择")]
        )
    return {
        **values,
        "grantee_kind": "enterprise",
        "grantee_id": credit_code,
        "grantee_name": match[0].consumer_name,
        "purpose": purpose,
    }


def _form_body(
    kind: str, values: dict[str, str], scope: list[Any], actions: list[Any]
) -> MandateIn | CertUseIn:
    """The form as the API's request body, validated by the same schema: a form and a JSON body
    are held to the same rules (the start date included)."""
    grantee = {
        "kind": values.get("grantee_kind", ""),
        "id": values.get("grantee_id", "").strip().upper(),
        "name": values.get("grantee_name", "").strip(),
    }
    start = _day(values.get("valid_from", ""), "valid_from", end=False)
    end = _day(values.get("valid_to", ""), "valid_to", end=True)
    uses_text = values.get("max_uses", "").strip()
    max_uses = int(uses_text) if uses_text.isdigit() else None
    if uses_text and max_uses is None:
        raise Problem(
            "validation", errors=[FieldError("max_uses", Text("必须是整数", "a whole number"))]
        )
    as_kind = values.get("as", "person")
    try:
        if kind == "mandate":
            return MandateIn(
                grantor=as_kind,
                agent=grantee,
                scope=[str(v) for v in scope],
                actions=[str(v) for v in actions],
                valid_from=start,
                valid_to=end,
                max_uses=max_uses,
                subdelegation=values.get("subdelegation") == "on",
                parent=values.get("parent") or None,
            )
        return CertUseIn(
            holder=as_kind,
            relying_party=grantee,
            certificate_types=[str(v) for v in scope],
            certificate_no=values.get("certificate_no") or None,
            purpose=values.get("purpose", ""),
            valid_from=start,
            valid_to=end,
            max_uses=1 if values.get("single_use") == "on" else max_uses,
        )
    except ValidationError as exc:
        raise forms.validation_problem(exc.errors()) from None


# The draft form's fields as its labels name them, for a refusal naming the field.
FIELD_LABELS: dict[str, tuple[str, str]] = {
    "as": ("授权人身份", "Grant as"),
    "grantor": ("授权人", "Grantor"),
    "grantee": ("被授权方", "Grantee"),
    "agent": ("代理人", "Agent"),
    "relying_party": ("使用机构", "Relying party"),
    "kind": ("类型", "Kind"),
    "scope": ("授权事项", "Matters"),
    "actions": ("授权行为", "Acts"),
    "certificate_types": ("证照类型", "Certificate types"),
    "certificate_no": ("证照编号", "Certificate number"),
    "parent": ("转委托自", "Sub-delegated from"),
    "purpose": ("用途", "Purpose"),
    "valid_from": ("生效日期", "Valid from"),
    "valid_to": ("截止日期", "Valid to"),
    "max_uses": ("最多使用次数", "Maximum uses"),
}


def _field_label(request: Request, field: str) -> str:
    head = field.split(".", 1)[0].split("[", 1)[0]
    zh, en = FIELD_LABELS.get(head, ("填写的内容", "an entry"))
    return tr(request, zh, en)


@pages.post("/me/authorisations/new", response_class=HTMLResponse)
async def new_submit(request: Request, db: DB, user: CurrentUser) -> Response:
    form = await request.form()
    values = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    kind = values.get("kind", "mandate")
    approved = context.approved_purposes(request, db)
    try:
        if kind == "cert_use":
            values = _chosen_purpose(values, approved)
        body = _form_body(kind, values, form.getlist("scope"), form.getlist("actions"))
        if isinstance(body, MandateIn):
            a = context.create_mandate(request, db, user, body)
        else:
            a = context.create_cert_use(request, db, user, body)
    except Problem as exc:
        db.rollback()
        fields = "；".join(f"{_field_label(request, e.field)}：{e.reason}" for e in exc.errors)
        # A validation problem's detail names the fields as code, for API clients: the page
        # names them by their labels instead.
        detail = None if exc.slug == "validation" else exc.detail
        message = detail or fields
        if fields and detail:
            message += "（" + fields + "）"
        form_values: dict[str, Any] = dict(values)
        form_values["scope_list"] = form.getlist("scope")
        form_values["actions_list"] = form.getlist("actions")
        return render(
            request,
            "authorisation_new.html",
            {
                "form": form_values,
                "error": message,
                "failed_fields": [e.field for e in exc.errors],
                **_purposes(approved),
                **_titles(request),
                **_page_user(user),
            },
            status=422,
        )
    return RedirectResponse(f"/me/authorisations/{a.code}", status_code=303)


@pages.get("/me/authorisations/{code}", response_class=HTMLResponse)
def detail(request: Request, db: DB, user: CurrentUser, code: str) -> Response:
    a = authz.get_or_404(db, code)
    may_see(user, a)
    now = utcnow()
    status = authz.settle(db, a, now)
    chain = authz.chain_of(db, a)
    children = authz.children_of(db, a)
    codes = [a.code] + [c.code for c in children]
    return render(
        request,
        "authorisation_detail.html",
        {
            "a": a,
            "status": status,
            "chain": chain,
            "children": children,
            "events": authz.events(db, codes),
            "signature_problem": authz.signature_problem(db, a),
            "can_sign": a.status == "pending" and user.citizen_id == a.signatory_id,
            "own_password": user.password_by_holder,
            "can_revoke": status not in authz.ENDED
            and bool({a.grantor_id, a.principal_id, a.signatory_id} & set(identity_ids(user))),
            "notice": request.query_params.get("notice"),
            **_titles(request),
            **_page_user(user),
        },
    )


@pages.post("/me/authorisations/{code}/sign", response_class=HTMLResponse)
def sign_page(
    request: Request,
    db: DB,
    user: CurrentUser,
    code: str,
    password: Annotated[str, Form(max_length=256)],
) -> Response:
    try:
        context.sign(request, db, user, code, SignIn(password=password))
    except Problem as exc:
        if not isinstance(exc, context.RecordedRefusal):
            db.rollback()  # a recorded refusal is kept: the commit writes its ledger entry
        reason = (
            tr(request, "密码错误，未签署", "Wrong password; not signed")
            if exc.type.slug == "invalid-credentials"
            else (exc.detail or "; ".join(e.reason for e in exc.errors))
        )
        return RedirectResponse(f"/me/authorisations/{code}?notice={reason}", status_code=303)
    return RedirectResponse(f"/me/authorisations/{code}", status_code=303)


@pages.post("/me/authorisations/{code}/revoke", response_class=HTMLResponse)
async def revoke_page(request: Request, db: DB, user: CurrentUser, code: str) -> Response:
    form = await request.form()
    reason = str(form.get("reason") or "")[:256]
    if not confirmed(form):
        a = authz.get_or_404(db, code)
        # The same refusals as the act itself, before asking about something that cannot be done.
        if not {a.grantor_id, a.principal_id, a.signatory_id} & set(identity_ids(user)):
            raise Problem("forbidden", detail="只有授权人可以撤销授权")
        if authz.effective_status(a, utcnow()) in authz.ENDED:
            raise Problem("conflict", detail="该授权已结束，无需撤销")
        return ask_first(request, _ask_revoke(db, a), form)
    authz.revoke(db, code, by=identity_ids(user), reason=reason, actor=user.username)
    return RedirectResponse(f"/me/authorisations/{code}", status_code=303)


def _ask_revoke(db: Session, a: Authorisation) -> Ask:
    """Revoking ends this authorisation and every sub-delegation still running under it."""
    now = utcnow()
    running = [
        c for c in authz.children_of(db, a) if authz.effective_status(c, now) not in authz.ENDED
    ]
    kind_zh, kind_en = authz.KIND_TITLES[a.kind]
    whom = a.grantee_name or a.grantee_id
    also = (
        (
            (
                f"由它转委托的 {len(running)} 项授权也一并撤销；",
                f"the {len(running)} sub-delegations made from it end too;",
            ),
        )
        if running
        else ()
    )
    return Ask(
        title=(f"撤销{kind_zh} {a.code}？", f"Revoke the {kind_en.lower()} {a.code}?"),
        summary=(
            f"撤销后，{whom}将不能再凭这项授权办理或使用您的证照和数据，撤销后不能恢复；"
            "如需继续，请重新授权。",
            f"Once revoked, {whom} can no longer act or use your certificates and data under it; "
            "this cannot be undone (grant a new one if needed).",
        ),
        consequences=(
            *also,
            (
                "撤销立即生效，并记入审计账本。",
                "it takes effect at once and is recorded in the audit ledger.",
            ),
        ),
        action=f"/me/authorisations/{a.code}/revoke",
        cancel=f"/me/authorisations/{a.code}",
        button=("确认撤销", "Revoke"),
        count=1 + len(running),
    )


# --- pages: 谁用了我的数据 ------------------------------------------------------------------------


@pages.get("/me/data-uses", response_class=HTMLResponse)
def data_uses(
    request: Request, db: DB, user: CurrentUser, before: Annotated[int | None, Query(ge=0)] = None
) -> Response:
    ids = identity_ids(user)
    page = 50
    rows = authz.entries_about(db, ids, before=before, limit=page + 1) if ids else []
    more = len(rows) > page
    rows = rows[:page]
    return render(
        request,
        "data_uses.html",
        {
            "entries": rows,
            "next_before": rows[-1].seq if more else None,
            "ledger_size": ledger.committed_size(db),
            "action_name": action_name,
            "purpose_name": purpose_name,
            **_page_user(user),
        },
    )


# --- pages: the officer's verification --------------------------------------------------------


@pages.get("/verify", response_class=HTMLResponse)
def verify_page(request: Request, officer: Officer) -> Response:
    return render(
        request, "authorisation_verify.html", {"result": None, "code": "", **_titles(request)}
    )


@pages.post("/verify", response_class=HTMLResponse)
def verify_submit(
    request: Request,
    db: DB,
    officer: Officer,
    code: Annotated[str, Form(max_length=64)],
    purpose: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    why = purpose.strip() or "窗口核验"
    try:
        result = authz.verify_code(db, code, actor=officer.username, purpose=why)
    except Problem:
        message = tr(request, f"授权码 {code} 不存在", f"No authorisation with code {code}")
        return render(
            request,
            "authorisation_verify.html",
            {"result": None, "code": code, "error": message, **_titles(request)},
            status=404,
        )
    return render(
        request,
        "authorisation_verify.html",
        {"result": result, "code": result.authorisation.code, "error": None, **_titles(request)},
    )
