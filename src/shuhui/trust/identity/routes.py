"""Accounts over the API: log in and out (JSON), who am I, my password, account administration."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response

from shuhui.core.bounds import Id
from shuhui.core.errors import Problem
from shuhui.core.http import SESSION_COOKIE, problem_answer, rotate_csrf
from shuhui.trust.identity import bindings, service, throttle
from shuhui.trust.identity.deps import (
    DB,
    AdminUser,
    BindingApprover,
    CurrentUser,
    client_address,
    retry_after_headers,
    set_session_cookie,
)
from shuhui.trust.identity.schemas import (
    ActiveUpdate,
    BindingDecision,
    BindingIn,
    BindingOut,
    Credentials,
    PasswordChange,
    PasswordReset,
    PasswordResetOut,
    RolesUpdate,
    UserCreate,
    UserOut,
    UserUpdate,
)

api = APIRouter(prefix="/api/v1", tags=["accounts"])

PROBLEM_JSON = "application/problem+json"
UsernamePath = Annotated[str, Path(max_length=64)]


def problem_response(request: Request, problem: Problem) -> JSONResponse:
    """A refusal answered, not raised: the request's transaction then commits what the refusal
    wrote (the wrong password counted, the lockout recorded)."""
    return problem_answer(request, problem, retry_after_headers(problem.extra))


@api.post(
    "/session",
    response_model=UserOut,
    summary="Log in (JSON); sets the session cookie",
    responses={
        200: {
            "description": "logged in; the session's CSRF token for later writes is in the "
            "X-CSRF-Token header",
            "headers": {"X-CSRF-Token": {"schema": {"type": "string"}}},
        },
        401: {"description": "wrong username or password (invalid-credentials)"},
        423: {"description": "the account is locked for a while (account-locked, Retry-After)"},
        429: {"description": "wait before trying again (login-throttled, Retry-After)"},
    },
)
def api_login(request: Request, db: DB, body: Credentials) -> Response:
    tried = throttle.attempt(db, body.username, body.password, client_address(request))
    if tried.user is None:
        return problem_response(request, tried.problem())
    token = service.start_session(
        db,
        tried.user,
        hours=request.app.state.settings.session_hours,
        user_agent=request.headers.get("user-agent"),
    )
    answer = JSONResponse(service.to_out(tried.user).model_dump(mode="json"))
    set_session_cookie(request, answer, token)
    rotate_csrf(request, answer, token)
    return answer


@api.delete("/session", status_code=204, summary="Log out")
def api_logout(request: Request, db: DB) -> Response:
    service.end_session(db, request.cookies.get(SESSION_COOKIE))
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    rotate_csrf(request, response, None)
    return response


@api.get("/me", response_model=UserOut, summary="The logged-in account")
def me(user: CurrentUser) -> UserOut:
    return service.to_out(user)


@api.post(
    "/me/password",
    response_model=UserOut,
    summary="Change my password (the old one is asked); other sessions end",
)
def api_change_password(
    request: Request, db: DB, user: CurrentUser, body: PasswordChange
) -> UserOut:
    keep = request.cookies.get(SESSION_COOKIE)
    return service.to_out(service.change_password(db, user, body, keep=keep))


@api.get("/admin/users", response_model=list[UserOut], summary="All accounts (admin)")
def api_list_users(db: DB, admin: AdminUser) -> list[UserOut]:
    locks = service.account_locks(db)
    pending = bindings.pending_by_user(db)
    return [
        service.to_out(u, locks.get(u.username), pending.get(u.id)) for u in service.list_users(db)
    ]


@api.post(
    "/admin/users",
    response_model=UserOut,
    status_code=201,
    summary="Create an account; a citizen ID or credit code given becomes a binding request",
)
def api_create_user(db: DB, admin: AdminUser, body: UserCreate) -> UserOut:
    user = service.create_user(db, body, actor=admin.username)
    return service.to_out(user, pending=bindings.pending_of(db, user))


@api.get("/admin/users/{username}", response_model=UserOut, summary="One account (admin)")
def api_get_user(db: DB, admin: AdminUser, username: UsernamePath) -> UserOut:
    user = service.user_or_404(db, username)
    locked = service.account_locks(db, [username]).get(username)
    return service.to_out(user, locked, bindings.pending_of(db, user))


@api.patch("/admin/users/{username}", response_model=UserOut, summary="Edit name or department")
def api_update_user(db: DB, admin: AdminUser, username: UsernamePath, body: UserUpdate) -> UserOut:
    user = service.user_or_404(db, username)
    return service.to_out(service.update_user(db, user, body, actor=admin.username))


@api.put("/admin/users/{username}/roles", response_model=UserOut, summary="Replace roles")
def api_set_roles(db: DB, admin: AdminUser, username: UsernamePath, body: RolesUpdate) -> UserOut:
    user = service.user_or_404(db, username)
    return service.to_out(service.set_roles(db, user, body.roles, actor=admin.username))


@api.put(
    "/admin/users/{username}/active",
    response_model=UserOut,
    summary="Disable (cannot log in, sessions end) or enable an account",
)
def api_set_active(db: DB, admin: AdminUser, username: UsernamePath, body: ActiveUpdate) -> UserOut:
    user = service.user_or_404(db, username)
    return service.to_out(
        service.set_active(db, user, body.active, actor=admin.username, reason=body.reason)
    )


@api.post(
    "/admin/users/{username}/password-reset",
    response_model=PasswordResetOut,
    summary="Reset a password: a temporary one, to be changed at the next login",
)
def api_reset_password(
    db: DB,
    admin: AdminUser,
    username: UsernamePath,
    response: Response,
    body: PasswordReset | None = None,
) -> PasswordResetOut:
    user = service.user_or_404(db, username)
    given = body.temporary_password if body else None
    temporary = service.reset_password(db, user, given, actor=admin.username)
    response.headers["Cache-Control"] = "no-store"  # a password: kept by no cache
    return PasswordResetOut(
        username=user.username, temporary_password=temporary, must_change_password=True
    )


@api.post(
    "/admin/users/{username}/bindings",
    response_model=BindingOut,
    status_code=201,
    summary="Request binding a citizen ID or credit code to an account (another person approves)",
)
def api_request_binding(
    db: DB, admin: AdminUser, username: UsernamePath, body: BindingIn
) -> BindingOut:
    user = service.user_or_404(db, username)
    row = bindings.request(
        db, user, citizen_id=body.citizen_id, credit_code=body.credit_code, actor=admin.username
    )
    return service.binding_out(row)


@api.get(
    "/admin/bindings",
    response_model=list[BindingOut],
    summary="Binding requests, pending first (admin or identity reviewer)",
)
def api_list_bindings(db: DB, who: BindingApprover, pending: bool = False) -> list[BindingOut]:
    return [service.binding_out(r) for r in bindings.listing(db, pending_only=pending)]


@api.post(
    "/admin/bindings/{request_id}/decision",
    response_model=BindingOut,
    summary="Approve or reject a binding someone else requested",
    responses={403: {"description": "one's own request, or a role that may not decide (recorded)"}},
)
def api_decide_binding(
    request: Request,
    db: DB,
    who: BindingApprover,
    request_id: Id,
    body: BindingDecision,
) -> Response:
    row = bindings.get_or_404(db, request_id)
    try:
        if body.decision == "approve":
            bindings.approve(db, row, approver=who)
        else:
            bindings.reject(db, row, approver=who, reason=body.reason)
    except Problem as refusal:
        # Answered, not raised: a refused decision is a ledger entry the commit must keep.
        return problem_response(request, refusal)
    return JSONResponse(service.binding_out(row).model_dump(mode="json"))
