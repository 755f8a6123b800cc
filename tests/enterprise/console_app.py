"""The console's routers on a test app: mounted by the app factory once it includes them, and
included here until then, as the factory would (CSRF and the session's user first)."""

from __future__ import annotations

from fastapi import Depends, FastAPI

import shuhui.web.app as factory
from shuhui.core.http import csrf_protect
from shuhui.enterprise import console_routes
from shuhui.trust.identity.deps import load_user


def with_console(app: FastAPI) -> FastAPI:
    if not any(value is console_routes for value in vars(factory).values()):
        guarded = [Depends(csrf_protect), Depends(load_user)]
        app.include_router(console_routes.api, dependencies=guarded)
        app.include_router(console_routes.pages, dependencies=guarded)
    return app
