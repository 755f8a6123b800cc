"""The wall's page ``/monitor``: drawn from the snapshot, then kept live by the stream.

``/monitor`` is also the module's entry in the navigation, so whoever is not the monitoring
centre is sent to their own page rather than refused: a responder unit's officer to the unit's
inbox, any other officer or data operator to the infrastructure registry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from shuhui.core.clock import utcnow
from shuhui.core.errors import Problem
from shuhui.core.http import render
from shuhui.monitor.alarms import service as alarms
from shuhui.monitor.alarms.routes import catalogue_of
from shuhui.monitor.alarms.rules import LEVEL_NAMES
from shuhui.monitor.telemetry.routes import directory_of
from shuhui.monitor.wall import service
from shuhui.trust.identity.deps import DB, require_role
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role

pages = APIRouter(include_in_schema=False)
Viewer = Annotated[User, Depends(require_role(Role.officer, Role.data_operator, Role.admin))]


@pages.get("/monitor", response_class=HTMLResponse)
def wall_page(request: Request, db: DB, user: Viewer) -> Response:
    cat = catalogue_of(request)
    try:
        scope = service.wall_scope(alarms.scope_of(user, cat))
    except Problem:
        unit = alarms.unit_of(user, cat)
        return RedirectResponse(
            "/monitor/inbox" if unit else "/monitor/infrastructure", status_code=303
        )
    shown = service.snapshot(db, cat, scope, directory_of(request), utcnow())
    return render(
        request,
        "monitor_wall.html",
        {
            "wall": shown,
            "levels": {
                str(n): {"zh": zh, "en": en, "colour": colour}
                for n, (zh, en, colour) in LEVEL_NAMES.items()
            },
            "scenarios": alarms.SCENARIO_NAMES,
            "statuses": service.STATUS_NAMES,
            "points_every_ms": round(request.app.state.settings.monitor_points_every * 1000),
        },
    )
