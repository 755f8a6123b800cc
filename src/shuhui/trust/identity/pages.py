"""Login (throttled), logout, my account and my password; the account admin pages are in
``admin_pages`` and the identity-binding approvals in ``binding_pages``, mounted with these."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from shuhui.core.clock import local
from shuhui.core.display import shown_errors
from shuhui.core.errors import Problem
from shuhui.core.forms import validate_form
from shuhui.core.http import SESSION_COOKIE, render, rotate_csrf, tr
from shuhui.trust.identity import admin_pages, binding_pages, service, throttle
from shuhui.trust.identity.deps import (
    DB,
    FORCED_CHANGE_PAGE,
    CurrentUser,
    OptionalUser,
    client_address,
    retry_after_headers,
    set_session_cookie,
)
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import ROLE_TITLES
from shuhui.trust.identity.schemas import PASSWORD_RULES, PasswordChange

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


def wait_text(request: Request, seconds: int) -> str:
    """How long to wait, as people say it: "14 分 59 秒", "5 秒"."""
    minutes, rest = divmod(max(seconds, 1), 60)
    if minutes:
        return tr(request, f"{minutes} 分 {rest} 秒", f"{minutes} min {rest} s")
    return tr(request, f"{rest} 秒", f"{rest} s")


def refusal_text(request: Request, tried: throttle.Attempt) -> str:
    """Why a login was refused, and how long to wait if that is why, in the page's language."""
    refusal = tried.refusal
    if refusal is None:
        text = tr(request, "用户名或密码错误", "Wrong username or password")
        if tried.failures_left is not None:
            n = tried.failures_left
            text += tr(
                request,
                f"。再输错 {n} 次，账户将被临时锁定 15 分钟。",
                f". {n} more wrong passwords will lock the account for 15 minutes.",
            )
        return text
    wait = wait_text(request, refusal.retry_after)
    at = local(refusal.until).strftime("%H:%M:%S")
    if refusal.wait is throttle.Wait.locked and refusal.scope is throttle.Scope.account:
        return tr(
            request,
            f"密码连续输错次数过多，账户已临时锁定。请在 {wait}后再试（{at} 以后），"
            "或请系统管理员重置密码。",
            f"Too many wrong passwords: the account is locked for now. Try again in {wait} "
            f"(after {at}), or ask an administrator to reset the password.",
        )
    if refusal.wait is throttle.Wait.locked:
        return tr(
            request,
            f"从此网络地址登录失败的次数过多，已暂停登录。请在 {wait}后再试（{at} 以后）。",
            f"Too many failed logins from this network address: logins from it are paused. "
            f"Try again in {wait} (after {at}).",
        )
    return tr(
        request,
        f"登录失败次数较多，为保护账户安全，请在 {wait}后再试。",
        f"Several failed logins: to protect the account, try again in {wait}.",
    )


@pages.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    db: DB,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    next: Annotated[str, Form(max_length=2048)] = "/",
) -> Response:
    # A refusal is rendered, not raised, so that the failure it counted is committed.
    tried = throttle.attempt(db, username.strip(), password, client_address(request))
    if tried.user is None:
        problem = tried.problem()
        page = render(
            request,
            "login.html",
            {
                "next": safe_next(next),
                "error": refusal_text(request, tried),
                "username": username,
                "retry_after": problem.extra.get("retry_after"),
            },
            status=problem.http_status,
        )
        page.headers.update(retry_after_headers(problem.extra))
        return page
    token = service.start_session(
        db,
        tried.user,
        hours=request.app.state.settings.session_hours,
        user_agent=request.headers.get("user-agent"),
    )
    # An account whose password was reset goes to choose a new one before anything else.
    target = FORCED_CHANGE_PAGE if tried.user.must_change_password else safe_next(next)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(request, response, token)
    rotate_csrf(request, response, token)
    return response


@pages.post("/logout")
def logout(request: Request, db: DB) -> Response:
    service.end_session(db, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    rotate_csrf(request, response, None)
    return response


@pages.get("/account", response_class=HTMLResponse)
def account_page(request: Request, user: CurrentUser, changed: bool = False) -> Response:
    return render(
        request, "account.html", {"me": user, "role_titles": ROLE_TITLES, "changed": changed}
    )


PASSWORD_LABELS = {
    "old_password": ("原密码", "Current password"),
    "new_password": ("新密码", "New password"),
    "new_password_again": ("再次输入新密码", "New password again"),
}


def _password_page(
    request: Request, user: User, refusal: Problem | None = None, *, status: int = 200
) -> Response:
    shown = shown_errors(refusal, lambda f: PASSWORD_LABELS.get(f, (f, f)))
    return render(
        request,
        "account_password.html",
        {"me": user, "rules": PASSWORD_RULES, **shown},
        status=status,
    )


@pages.get(FORCED_CHANGE_PAGE, response_class=HTMLResponse)
def password_page(request: Request, user: CurrentUser) -> Response:
    return _password_page(request, user)


@pages.post(FORCED_CHANGE_PAGE, response_class=HTMLResponse)
async def password_submit(request: Request, db: DB, user: CurrentUser) -> Response:
    form = await request.form()
    try:
        change = validate_form(PasswordChange, form)
        service.change_password(db, user, change, keep=request.cookies.get(SESSION_COOKIE))
    except Problem as refusal:
        db.rollback()
        return _password_page(request, user, refusal, status=refusal.http_status)
    return RedirectResponse("/account?changed=true", status_code=303)


pages.include_router(admin_pages.pages)
pages.include_router(binding_pages.pages)
