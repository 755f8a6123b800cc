"""Telemetry over HTTP (``/api/v1/monitor/…``): the batch ingest (the monitoring centre and
admin), a device's series and the rejection counts (any officer, data operator or admin)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request

from shuhui.core.clock import utcnow
from shuhui.core.errors import FieldError, Problem
from shuhui.core.requestbody import accepts
from shuhui.datacore.store import DataCore
from shuhui.monitor.devices import Directory
from shuhui.monitor.registry import service as registry_service
from shuhui.monitor.telemetry import service, store
from shuhui.monitor.telemetry.ingest import DEVICE_ID, reason_names
from shuhui.monitor.telemetry.retention import Retention
from shuhui.trust.identity.deps import DB, require_role
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role

api = APIRouter(prefix="/api/v1/monitor", tags=["monitoring: telemetry (监测数据)"])

Reader = Annotated[User, Depends(require_role(Role.officer, Role.data_operator, Role.admin))]
DeviceId = Annotated[str, Path(pattern=DEVICE_ID.pattern, max_length=64)]
# A time in a query: ISO 8601 with its offset, in the platform's year window. A string checked
# here rather than pydantic's datetime, which also takes a Unix timestamp the schema does not name.
TIME_PATTERN = (
    r"^(19[0-9]{2}|20[0-9]{2}|2100)-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]"
    r"(:[0-5][0-9](\.[0-9]{1,6})?)?(Z|[+-][01][0-9]:[0-5][0-9])$"
)
QueryTime = Annotated[
    str | None,
    Query(pattern=TIME_PATTERN, max_length=35, json_schema_extra={"format": "date-time"}),
]
# 5,000 items with their units and long ids: more than the platform's 1 MiB default.
MAX_BODY = 4 * 1024 * 1024


def _sender(
    request: Request, user: Annotated[User, Depends(require_role(Role.officer, Role.admin))]
) -> User:
    settings = request.app.state.settings
    service.require_ingest(user, service.centre_department(settings.content_dir, settings.city))
    return user


Sender = Annotated[User, Depends(_sender)]


def _time(field: str, raw: str | None) -> datetime | None:
    if raw is None:
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise Problem(
            "validation", "时间格式不对", errors=[FieldError(field, "须为带时区的 ISO 8601 时间")]
        ) from exc


def directory_of(request: Request) -> Directory:
    """The app's device directory, read from the data core at most once a minute."""
    state = request.app.state
    cache = getattr(state, "monitor_directory", None)
    if cache is None:
        settings = state.settings
        cache = service.DirectoryCache(
            lambda: registry_service.directory(
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
    start: QueryTime = None,
    end: QueryTime = None,
    resolution: Literal["raw", "minute", "hour", "day"] | None = None,
) -> dict[str, Any]:
    until = _time("end", end) or utcnow()
    since = _time("start", start) or until - timedelta(days=service.CHART_DAYS)
    device = service.device_or_404(directory_of(request), device_id)
    service.metric_or_422(device, metric)
    if since >= until:
        raise Problem(
            "validation", "起始时间须早于截止时间", errors=[FieldError("start", "须早于 end")]
        )
    chosen = resolution or store.pick_resolution(
        db, device_id, metric, store.micros(since), store.micros(until)
    )
    points = store.series(db, device_id, metric, since, until, chosen)
    return {
        "device": device_id,
        "metric": metric,
        "unit": device.sensor_type.metrics[metric].unit,
        "resolution": chosen,
        "points": [[ts.isoformat(), value] for ts, value in points],
    }


@api.get("/rejections", summary="Messages refused, by reason, over the last days (UTC dates)")
def rejections(
    db: DB, user: Reader, days: Annotated[int, Query(ge=1, le=366)] = 7
) -> dict[str, Any]:
    since = utcnow() - timedelta(days=days - 1)
    return {
        "since": since.isoformat(),
        "reasons": reason_names(store.rejection_counts(db, since)),
    }
