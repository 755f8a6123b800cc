"""The wall over HTTP: ``GET /api/v1/monitor/wall`` (the snapshot) and ``GET
/api/v1/monitor/stream`` (server-sent events). The monitoring centre's officers and admins."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from shuhui.core.clock import utcnow
from shuhui.core.db import transaction
from shuhui.monitor.alarms import service as alarms
from shuhui.monitor.alarms.routes import Scope, catalogue_of
from shuhui.monitor.telemetry.routes import directory_of
from shuhui.monitor.wall import service
from shuhui.trust.identity.deps import DB

api = APIRouter(prefix="/api/v1/monitor", tags=["monitoring wall (监测大屏)"])

POLL: Final = 0.5  # seconds between two "what changed" queries of one stream
STATUS_EVERY: Final = 10.0  # seconds between two device-status summaries
KEEPALIVE: Final = 15.0  # a comment line when nothing else was sent, so proxies keep it open
MAX_SECONDS: Final = 900


def _centre(scope: Scope) -> alarms.Scope:
    return service.wall_scope(scope)


Centre = Annotated[alarms.Scope, Depends(_centre)]


@api.get("/wall", summary="The monitoring wall: counts, device status, latest open alarms")
def wall(
    request: Request,
    db: DB,
    scope: Centre,
    points: Annotated[bool, Query(description="every device as a point (columns)")] = False,
) -> dict[str, Any]:
    return service.snapshot(
        db, catalogue_of(request), scope, directory_of(request), utcnow(), points=points
    )


def _sse(event: str, data: object, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@api.get("/stream", include_in_schema=False)
def stream(
    request: Request,
    scope: Centre,
    after: Annotated[int | None, Query(ge=0, le=2**62)] = None,
    seconds: Annotated[int, Query(ge=1, le=MAX_SECONDS)] = MAX_SECONDS,
    last_event_id: Annotated[str | None, Header(max_length=20)] = None,
) -> StreamingResponse:
    """Server-sent events: ``alarm`` for each step of an alarm (``id:`` the step's, so a
    reconnecting browser resumes after the last it saw), ``status`` with the device summary
    and the counts every ``STATUS_EVERY`` seconds. Ends after ``seconds`` (the browser
    reconnects) or when the client goes. Not in the OpenAPI document: a stream, not JSON."""
    factory = request.app.state.session_factory
    cat = catalogue_of(request)
    directory = directory_of(request)
    resumed = int(last_event_id) if last_event_id and last_event_id.isdigit() else None
    start = resumed if resumed is not None else after

    def first_cursor() -> int:
        with transaction(factory) as db:
            return alarms.last_event_id(db)

    def changes(cursor: int) -> tuple[int, list[dict[str, Any]]]:
        with transaction(factory) as db:
            return service.changes(db, cat, scope, directory, cursor)

    def status() -> dict[str, Any]:
        with transaction(factory) as db:
            return {
                "as_of": utcnow().isoformat(),
                "devices": service.device_summary(service.statuses(db, directory, utcnow())),
                "counts": alarms.open_counts(db, scope),
            }

    async def events() -> AsyncIterator[str]:
        cursor = start if start is not None else await run_in_threadpool(first_cursor)
        yield f"retry: 2000\n\n{_sse('hello', {'cursor': cursor})}"
        began = last_sent = time.monotonic()
        next_status = began
        while time.monotonic() - began < seconds:
            if await request.is_disconnected():
                return
            now = time.monotonic()
            cursor, items = await run_in_threadpool(changes, cursor)
            for item in items:
                yield _sse("alarm", item, item["id"])
                last_sent = now
            if now >= next_status:
                yield _sse("status", await run_in_threadpool(status))
                next_status, last_sent = now + STATUS_EVERY, now
            elif now - last_sent >= KEEPALIVE:
                yield ": keep-alive\n\n"
                last_sent = now
            await asyncio.sleep(POLL)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
