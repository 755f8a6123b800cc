"""Login, logout, my account, and the account administration page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from shuhui.core import forms
from shuhui.core.errors import Problem
from shuhui.core.http import SESSION_COOKIE, render, tr
from shuhui.trust.identity import service
from shuhui.trust.identity.deps import DB, AdminUser, CurrentUser, OptionalUser, set_session_cookie
from shuhui.trust.identity.models import ROLE_TITLES, Role
from shuhui.trust.identity.schemas import UserCreate

pages = APIRouter(include_in_schema=False)


def safe_next(value: str | None) -> str:
    """Only same-site paths: a login link must not be able to send people elsewhere."""
    if value and value.startswith("/") and not value.startswith(("//", "/\\")):
        return value
    return "/"


@pages.get("/login", response_class=HTMLResponse)
def login_page(request: Request, user: OptionalUser, next: str | None = None) -> Response:
    if user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html", {"next": safe_next(next), "error": None})


@pages.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    db: DB,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    next: Annotated[str, Form(max_length=2048)] = "/",
) -> Response:
    try:
        user = service.authenticate(db, username.strip(), password)
    except Problem:
        return render(
            request,
            "login.html",
            {
                "next": safe_next(next),
                "error": tr(request, "用户名或密码错误", "Wrong username or password"),
                "username": username,
            },
            status=401,
        )
    token = service.start_session(
        db,
        user,
        hours=request.app.state.settings.session_hours,
        user_agent=request.headers.get("user-agent"),
    )
    response = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(request, response, token)
    return response


@pages.post("/logout")
def logout(request: Request, db: DB) -> Response:
    service.end_session(db, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@pages.get("/account", response_class=HTMLResponse)
def account_page(request: Request, user: CurrentUser) -> Response:
    return render(request, "account.html", {"me": user, "role_titles": ROLE_TITLES})


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
            "role_titles": ROLE_TITLES,
            "roles": list(Role),
            "form": form or {},
            "errors": errors or {},
            "created": created,
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
        errors = {
            str(e["loc"][0]) if e["loc"] else "form": forms.reason_of(e) for e in exc.errors()
        }
        return _users_page(request, db, form=form, errors=errors, status=422)
    except Problem as exc:
        return _users_page(
            request,
            db,
            form=form,
            errors={e.field: e.reason for e in exc.errors},
            status=exc.http_status,
        )
    return RedirectResponse(f"/admin/users?created={user.username}", status_code=303)
