"""Request dependencies for who is asking: the current user and role checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request, Response

from shuhui.core.errors import Problem
from shuhui.core.http import SESSION_COOKIE, DBSession
from shuhui.trust.identity import service
from shuhui.trust.identity.models import Role, User
from shuhui.trust.identity.schemas import Viewer


def load_user(request: Request, db: DBSession) -> User | None:
    """Installed on every route, so pages and logs know who is asking."""
    user = service.resolve_session(db, request.cookies.get(SESSION_COOKIE))
    # Pages, error pages and the access log may run after the database session has closed,
    # so they get a detached snapshot, not the ORM object.
    request.state.user = Viewer.of(user) if user else None
    request.state.username = user.username if user else None
    return user


def ensure_viewer(request: Request) -> None:
    """For responses made outside a route (an unknown address, an early error): who is looking."""
    if hasattr(request.state, "user"):
        return
    with request.app.state.session_factory() as db:
        user = service.resolve_session(db, request.cookies.get(SESSION_COOKIE))
        request.state.user = Viewer.of(user) if user else None
        request.state.username = user.username if user else None


def current_user(user: Annotated[User | None, Depends(load_user)]) -> User:
    if user is None:
        raise Problem("unauthenticated")
    return user


def require_role(*roles: Role) -> Callable[[User], User]:
    """A dependency that lets through users holding any of ``roles``.

    Admins get no implicit pass: who may read personal data must be visible at the route.
    """
    allowed = frozenset(roles)

    def check(user: Annotated[User, Depends(current_user)]) -> User:
        if not (user.role_set & allowed):
            needed = "、".join(sorted(r.value for r in roles))
            raise Problem("forbidden", detail=f"需要以下角色之一：{needed}")
        return user

    return check


CurrentUser = Annotated[User, Depends(current_user)]
OptionalUser = Annotated[User | None, Depends(load_user)]
DB = DBSession


AdminUser = Annotated[User, Depends(require_role(Role.admin))]


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
