"""Request dependencies for who is asking: the current user and role checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request, Response

from shuhui.core.errors import Problem
from shuhui.core.http import SESSION_COOKIE, DBSession
from shuhui.trust.identity import service
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role, roles_needed
from shuhui.trust.identity.schemas import Viewer

# What an account whose password an admin reset may still reach: the page and call that set a
# new one, who am I, and logging out (``web.problems`` sends a page refused for this there).
FORCED_CHANGE_PAGE = "/account/password"
OPEN_BEFORE_CHANGE = frozenset(
    {FORCED_CHANGE_PAGE, "/api/v1/me/password", "/api/v1/me", "/api/v1/session"}
    | {"/logout", "/login"}
)


def load_user(request: Request, db: DBSession) -> User | None:
    """Installed on every route, so pages and logs know who is asking; an account that must
    change its password is let through to nothing else until it has."""
    user = service.resolve_session(db, request.cookies.get(SESSION_COOKIE))
    # Pages, error pages and the access log may run after the database session has closed,
    # so they get a detached snapshot, not the ORM object.
    request.state.user = Viewer.of(user) if user else None
    request.state.username = user.username if user else None
    changing = user is not None and user.must_change_password
    if changing and request.url.path not in OPEN_BEFORE_CHANGE:
        raise Problem("password-change-required", detail="管理员已重置您的密码，请先设置新密码")
    return user


def ensure_viewer(request: Request) -> None:
    """For responses made outside a route (an unknown address, an early error): who is looking."""
    if hasattr(request.state, "user"):
        return
    with request.app.state.session_factory() as db:
        user = service.resolve_session(db, request.cookies.get(SESSION_COOKIE))
        request.state.user = Viewer.of(user) if user else None
        request.state.username = user.username if user else None


async def current_user(user: Annotated[User | None, Depends(load_user)]) -> User:
    # Async: it reads what ``load_user`` loaded (the roles come with the account, ``selectin``),
    # so it takes no trip through the thread pool; nor does the role check below.
    if user is None:
        raise Problem("unauthenticated")
    return user


def require_role(*roles: Role) -> Callable[[User], Awaitable[User]]:
    """A dependency that lets through users holding any of ``roles``.

    Admins get no implicit pass: who may read personal data must be visible at the route.
    """
    allowed = frozenset(roles)

    async def check(user: Annotated[User, Depends(current_user)]) -> User:
        if not (user.role_set & allowed):
            raise Problem("forbidden", detail=roles_needed(*roles))
        return user

    return check


def viewer_with_role(*roles: Role) -> Callable[[Request], Viewer]:
    """The same check as :func:`require_role`, on the viewer ``load_user`` (a dependency of
    every mounted router) put on the request: for a package below identity that the app hands
    a plain guard (the ledger's routes and pages)."""
    allowed = frozenset(roles)

    def check(request: Request) -> Viewer:
        viewer: Viewer | None = getattr(request.state, "user", None)
        if viewer is None:
            raise Problem("unauthenticated")
        if not (viewer.roles & allowed):
            raise Problem("forbidden", detail=roles_needed(*roles))
        return viewer

    return check


CurrentUser = Annotated[User, Depends(current_user)]
OptionalUser = Annotated[User | None, Depends(load_user)]
DB = DBSession


AdminUser = Annotated[User, Depends(require_role(Role.admin))]
# Who may see and decide binding requests (``bindings.APPROVER_ROLES``; never their own).
BindingApprover = Annotated[User, Depends(require_role(Role.admin, Role.identity_reviewer))]


def client_address(request: Request) -> str:
    """Whom wrong passwords are counted against besides the account: the peer's address."""
    return request.client.host if request.client else "unknown"


def retry_after_headers(extra: dict[str, object]) -> dict[str, str]:
    """``Retry-After`` for a throttled login's refusal (its problem's ``retry_after``)."""
    wait = extra.get("retry_after")
    return {"Retry-After": str(wait)} if isinstance(wait, int) else {}


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    settings = request.app.state.settings
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_hours * 3600,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
        path="/",
    )
