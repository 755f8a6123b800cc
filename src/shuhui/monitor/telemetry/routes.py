"""Telemetry over HTTP (``/api/v1/monitor/…``): the batch ingest (the monitoring centre and
admin), a device's series and the rejection counts (any officer, data operator or admin)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request

from shuhui.core.bounds import Moment
from shuhui.core.clock import utcnow
from shuhui.core.errors import FieldError, Problem
from shuhui.core.requestbody import accepts
from shuhui.datacore.store import DataCore
from shuhui.monitor.devices import Directory
from shuhui.monitor.telemetry import service, store
from shuhui.monitor.telemetry.ingest import DEVICE_ID, reason_names
from shuhui.monitor.telemetry.retention import Retention
from shuhui.trust.identity.deps import DB, require_role
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role

api = APIRouter(prefix="/api/v1/monitor", tags=["monitoring: telemetry (监测数据)"])

Reader = Annotated[User, Depends(require_role(Role.officer, Role.data_operator, Role.admin))]
DeviceId = Annotated[str, Path(pattern=DEVICE_ID.pattern, max_length=64)]
# 5,000 items with their units and long ids: more than the platform's 1 MiB default.
MAX_BODY = 4 * 1024 * 1024


def _sender(user: Annotated[User, Depends(require_role(Role.officer, Role.admin))]) -> User:
    service.require_ingest(user)
    return user


Sender = Annotated[User, Depends(_sender)]


def directory_of(request: Request) -> Directory:
    """The app's device directory, read from the data core at most once a minute."""
    state = request.app.state
    cache = getattr(state, "monitor_directory", None)
    if cache is None:
        settings = state.settings
        cache = service.DirectoryCache(
            lambda: service.load_directory(
                DataCore.from_settings(settings), settings.content_dir, settings.city
            )
        )
        state.monitor_directory = cache
    directory: Directory = cache.get()
    return directory


def retention_of(request: Request) -> Retention:
    found = getattr(request.app.state, "monitor_retention", None)
    if found is None:
        found = request.app.state.monitor_retention = Retention.from_env()
    policy: Retention = found
    return policy


@api.post("/telemetry", summary="Readings in a batch (≤ 5,000 items); rejected items by index")
@accepts(max_bytes=MAX_BODY)
def ingest(
    request: Request,
    db: DB,
    user: Sender,
    items: Annotated[
        list[Any],
        Body(
            min_length=1,
            max_length=service.MAX_ITEMS,
            description='[{"device": id, "ts": ISO 8601 with offset, "values": {metric: number},'
            ' "units": {metric: unit}}]',
        ),
    ],
) -> dict[str, Any]:
    result = service.ingest(
        db,
        directory_of(request),
        items,
        utcnow(),
        retention=retention_of(request),
        evaluators=getattr(request.app.state, "monitor_evaluators", ()),
    )
    return result.as_json()


@api.get("/devices/{device_id}/series", summary="A device's metric over time")
def series(
    request: Request,
    db: DB,
    user: Reader,
    device_id: DeviceId,
    metric: Annotated[str, Query(max_length=32)],
    start: Moment | None = None,
    end: Moment | None = None,
    resolution: Literal["raw", "minute", "hour", "day"] | None = None,
) -> dict[str, Any]:
    device = service.device_or_404(directory_of(request), device_id)
    service.metric_or_422(device, metric)
    end = end or utcnow()
    start = start or end - timedelta(days=service.CHART_DAYS)
    if start >= end:
        raise Problem(
            "validation", "起始时间须早于截止时间", errors=[FieldError("start", "须早于 end")]
        )
    chosen = resolution or store.pick_resolution(
        db, device_id, metric, store.micros(start), store.micros(end)
    )
    points = store.series(db, device_id, metric, start, end, chosen)
    return {
        "device": device_id,
        "metric": metric,
        "unit": device.sensor_type.metrics[metric].unit,
        "resolution": chosen,
        "points": [[ts.isoformat(), value] for ts, value in points],
    }


@api.get("/rejections", summary="Messages refused, by reason, since a time (default 7 days)")
def rejections(db: DB, user: Reader, since: Moment | None = None) -> dict[str, Any]:
    since = since or utcnow() - timedelta(days=7)
    return {
        "since": since.isoformat(),
        "reasons": reason_names(store.rejection_counts(db, since)),
    }
