"""The account admin pages: the list, one account (edit, roles, enable), and the two risky acts
(disable, reset the password), each behind a page that says what will happen and asks to
confirm. Every change is recorded by the service in the request's transaction."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from shuhui.core import forms
from shuhui.core.confirm import CONFIRM_FIELD, CONFIRM_VALUE, confirmed
from shuhui.core.display import shown_errors
from shuhui.core.errors import Problem
from shuhui.core.forms import validate, validate_form
from shuhui.core.http import render
from shuhui.trust.identity import bindings, service
from shuhui.trust.identity.deps import DB, AdminUser
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import ROLE_TITLES, Role
from shuhui.trust.identity.schemas import (
    PASSWORD_RULES,
    ActiveUpdate,
    BindingIn,
    RolesUpdate,
    UserCreate,
    UserUpdate,
)

pages = APIRouter(include_in_schema=False)

UsernamePath = Annotated[str, Path(max_length=64)]

LABELS = {
    "display_name": ("名称", "Name"),
    "department": ("单位", "Organisation"),
    "roles": ("角色", "Roles"),
    "reason": ("原因", "Reason"),
    "username": ("用户名", "Username"),
    "citizen_id": ("身份证号", "Citizen ID"),
    "credit_code": ("统一社会信用代码", "Credit code"),
}


def _label(field: str) -> tuple[str, str]:
    return LABELS.get(field.split("[")[0], (field, field))


def _users_page(
    request: Request,
    db: Session,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    created: str | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "admin_users.html",
        {
            "users": service.list_users(db),
            "locks": service.account_locks(db),
            "role_titles": ROLE_TITLES,
            "roles": list(Role),
            "form": form or {},
            "errors": errors or {},
            "created": created,
            "pending": bindings.pending_by_user(db),
            "rules": PASSWORD_RULES,
        },
        status=status,
    )


@pages.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, db: DB, admin: AdminUser, created: str | None = None) -> Response:
    return _users_page(request, db, created=created)


@pages.post("/admin/users", response_class=HTMLResponse)
def users_create(
    request: Request,
    db: DB,
    admin: AdminUser,
    roles: Annotated[list[str], Form(default_factory=list, max_length=16)],
    username: Annotated[str, Form(max_length=256)] = "",
    display_name: Annotated[str, Form(max_length=256)] = "",
    password: Annotated[str, Form(max_length=512)] = "",
    citizen_id: Annotated[str, Form(max_length=64)] = "",
    credit_code: Annotated[str, Form(max_length=64)] = "",
    department: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    form = {
        "username": username,
        "display_name": display_name,
        "roles": roles,
        "citizen_id": citizen_id,
        "credit_code": credit_code,
        "department": department,
    }
    try:
        data = UserCreate.model_validate(
            {**form, "password": password, "department": department or None}
        )
        user = service.create_user(db, data, actor=admin.username)
    except ValidationError as exc:
        db.rollback()
        errors: dict[str, str] = {
            str(e["loc"][0]) if e["loc"] else "form": forms.reason_of(e) for e in exc.errors()
        }
        return _users_page(request, db, form=form, errors=errors, status=422)
    except Problem as exc:
        db.rollback()  # nothing half-made stays
        return _users_page(
            request,
            db,
            form=form,
            errors={e.field: e.reason for e in exc.errors},
            status=exc.http_status,
        )
    return RedirectResponse(f"/admin/users?created={user.username}", status_code=303)


# What the account page says after each act (``?done=``).
DONE = {
    "updated": ("已保存账户信息。", "The account's details are saved."),
    "roles": ("已更新角色。", "The roles are updated."),
    "disabled": (
        "已停用账户：无法再登录，已登录的会话已结束。",
        "The account is disabled: it cannot log in, and its sessions have ended.",
    ),
    "enabled": ("已启用账户。", "The account is enabled."),
    "binding": (
        "已提交身份绑定申请：须由另一位系统管理员或身份核验员批准后才生效。",
        "The binding is requested: it takes effect once another admin or identity reviewer "
        "approves it.",
    ),
}


def _user_page(
    request: Request,
    db: Session,
    user: User,
    refusal: Problem | None = None,
    *,
    failed: str | None = None,
    done: str | None = None,
    typed: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "admin_user.html",
        {
            "u": user,
            "locked_until": service.account_locks(db, [user.username]).get(user.username),
            "pending": bindings.pending_of(db, user),
            "role_titles": ROLE_TITLES,
            "roles": list(Role),
            "done": DONE.get(done or ""),
            "typed": typed or {},
            **shown_errors(refusal, _label, failed),
        },
        status=status,
    )


@pages.get("/admin/users/{username}", response_class=HTMLResponse)
def user_page(
    request: Request, db: DB, admin: AdminUser, username: UsernamePath, done: str | None = None
) -> Response:
    return _user_page(request, db, service.user_or_404(db, username), done=done)


@pages.post("/admin/users/{username}", response_class=HTMLResponse)
async def user_update(
    request: Request, db: DB, admin: AdminUser, username: UsernamePath
) -> Response:
    user = service.user_or_404(db, username)
    form = await request.form()
    typed = {k: str(form.get(k) or "") for k in ("display_name", "department")}
    try:
        # Both fields are always sent: a department emptied on the page is cleared.
        service.update_user(db, user, validate(UserUpdate, typed), actor=admin.username)
    except Problem as refusal:
        db.rollback()
        return _user_page(
            request, db, user, refusal, failed="edit", typed=typed, status=refusal.http_status
        )
    return RedirectResponse(f"/admin/users/{user.username}?done=updated", status_code=303)


@pages.post("/admin/users/{username}/roles", response_class=HTMLResponse)
async def user_roles(
    request: Request, db: DB, admin: AdminUser, username: UsernamePath
) -> Response:
    user = service.user_or_404(db, username)
    form = await request.form()
    try:
        wanted = validate_form(RolesUpdate, form, lists=["roles"])
        service.set_roles(db, user, wanted.roles, actor=admin.username)
    except Problem as refusal:
        db.rollback()
        return _user_page(request, db, user, refusal, failed="roles", status=refusal.http_status)
    return RedirectResponse(f"/admin/users/{user.username}?done=roles", status_code=303)


@pages.post("/admin/users/{username}/enable", response_class=HTMLResponse)
def user_enable(request: Request, db: DB, admin: AdminUser, username: UsernamePath) -> Response:
    user = service.user_or_404(db, username)
    service.set_active(db, user, True, actor=admin.username)
    return RedirectResponse(f"/admin/users/{user.username}?done=enabled", status_code=303)


def _confirm_page(
    request: Request,
    user: User,
    act: str,
    refusal: Problem | None = None,
    *,
    sessions: int = 0,
    reason: str = "",
    status: int = 200,
) -> Response:
    return render(
        request,
        "admin_user_confirm.html",
        {
            "u": user,
            "act": act,
            "sessions": sessions,
            "reason": reason,
            "confirm_field": CONFIRM_FIELD,
            "confirm_value": CONFIRM_VALUE,
            **shown_errors(refusal, _label),
        },
        status=status,
    )


@pages.get("/admin/users/{username}/disable", response_class=HTMLResponse)
def user_disable_confirm(
    request: Request, db: DB, admin: AdminUser, username: UsernamePath
) -> Response:
    user = service.user_or_404(db, username)
    return _confirm_page(request, user, "disable", sessions=service.count_sessions(db, user))


@pages.post("/admin/users/{username}/disable", response_class=HTMLResponse)
async def user_disable(
    request: Request, db: DB, admin: AdminUser, username: UsernamePath
) -> Response:
    user = service.user_or_404(db, username)
    form = await request.form()
    reason = str(form.get("reason") or "")
    if not confirmed(form):
        # A post that did not come from the question (forged, scripted) is asked it, not obeyed.
        sessions = service.count_sessions(db, user)
        return _confirm_page(request, user, "disable", sessions=sessions, reason=reason)
    try:
        given = validate(ActiveUpdate, {"active": False, "reason": reason})
        service.set_active(db, user, False, actor=admin.username, reason=given.reason)
    except Problem as refusal:
        db.rollback()
        return _confirm_page(
            request, user, "disable", refusal, reason=reason, status=refusal.http_status
        )
    return RedirectResponse(f"/admin/users/{user.username}?done=disabled", status_code=303)


@pages.get("/admin/users/{username}/reset-password", response_class=HTMLResponse)
def user_reset_confirm(
    request: Request, db: DB, admin: AdminUser, username: UsernamePath
) -> Response:
    user = service.user_or_404(db, username)
    return _confirm_page(request, user, "reset", sessions=service.count_sessions(db, user))


@pages.post("/admin/users/{username}/reset-password", response_class=HTMLResponse)
async def user_reset(
    request: Request, db: DB, admin: AdminUser, username: UsernamePath
) -> Response:
    user = service.user_or_404(db, username)
    if not confirmed(await request.form()):
        return _confirm_page(request, user, "reset", sessions=service.count_sessions(db, user))
    temporary = service.reset_password(db, user, None, actor=admin.username)
    # Shown once, on this answer, which no cache keeps; it is stored nowhere in clear.
    response = render(request, "admin_user_reset.html", {"u": user, "temporary": temporary})
    response.headers["Cache-Control"] = "no-store"
    return response


@pages.post("/admin/users/{username}/bindings", response_class=HTMLResponse)
async def user_binding(
    request: Request, db: DB, admin: AdminUser, username: UsernamePath
) -> Response:
    """Requests binding an ID to the account: another admin or identity reviewer approves."""
    user = service.user_or_404(db, username)
    form = await request.form()
    typed = {k: str(form.get(k) or "") for k in ("citizen_id", "credit_code")}
    try:
        given = validate(BindingIn, typed)
        bindings.request(
            db,
            user,
            citizen_id=given.citizen_id,
            credit_code=given.credit_code,
            actor=admin.username,
        )
    except Problem as refusal:
        db.rollback()
        return _user_page(
            request, db, user, refusal, failed="binding", typed=typed, status=refusal.http_status
        )
    return RedirectResponse(f"/admin/users/{user.username}?done=binding", status_code=303)
