"""The wall's page ``/monitor``: drawn from the snapshot, then kept live by the stream."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from shuhui.core.clock import utcnow
from shuhui.core.http import render
from shuhui.monitor.alarms import service as alarms
from shuhui.monitor.alarms.routes import catalogue_of
from shuhui.monitor.alarms.rules import LEVEL_NAMES
from shuhui.monitor.telemetry.routes import directory_of
from shuhui.monitor.wall import service
from shuhui.monitor.wall.routes import Centre
from shuhui.trust.identity.deps import DB

pages = APIRouter(include_in_schema=False)


@pages.get("/monitor", response_class=HTMLResponse)
def wall_page(request: Request, db: DB, scope: Centre) -> Response:
    shown = service.snapshot(db, catalogue_of(request), scope, directory_of(request), utcnow())
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
        },
    )
