"""Accounts over the API: log in and out (JSON), who am I, account administration."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from shuhui.core.errors import Problem
from shuhui.core.http import SESSION_COOKIE
from shuhui.trust.identity import service
from shuhui.trust.identity.deps import DB, AdminUser, CurrentUser, set_session_cookie
from shuhui.trust.identity.schemas import Credentials, RolesUpdate, UserCreate, UserOut

api = APIRouter(prefix="/api/v1", tags=["accounts"])


@api.post("/session", response_model=UserOut, summary="Log in (JSON); sets the session cookie")
def api_login(request: Request, db: DB, body: Credentials, response: Response) -> UserOut:
    user = service.authenticate(db, body.username, body.password)
    token = service.start_session(
        db,
        user,
        hours=request.app.state.settings.session_hours,
        user_agent=request.headers.get("user-agent"),
    )
    set_session_cookie(request, response, token)
    return service.to_out(user)


@api.delete("/session", status_code=204, summary="Log out")
def api_logout(request: Request, db: DB) -> Response:
    service.end_session(db, request.cookies.get(SESSION_COOKIE))
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@api.get("/me", response_model=UserOut, summary="The logged-in account")
def me(user: CurrentUser) -> UserOut:
    return service.to_out(user)


@api.get("/admin/users", response_model=list[UserOut], summary="All accounts (admin)")
def api_list_users(db: DB, admin: AdminUser) -> list[UserOut]:
    return [service.to_out(u) for u in service.list_users(db)]


@api.post("/admin/users", response_model=UserOut, status_code=201, summary="Create an account")
def api_create_user(db: DB, admin: AdminUser, body: UserCreate) -> UserOut:
    return service.to_out(service.create_user(db, body, actor=admin.username))


@api.put("/admin/users/{username}/roles", response_model=UserOut, summary="Replace roles")
def api_set_roles(db: DB, admin: AdminUser, username: str, body: RolesUpdate) -> UserOut:
    user = service.get_user_by_username(db, username)
    if user is None:
        raise Problem("not-found", detail=f"用户 {username} 不存在")
    return service.to_out(service.set_roles(db, user, body.roles, actor=admin.username))
