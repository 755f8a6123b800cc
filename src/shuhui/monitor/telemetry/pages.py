"""Telemetry's pages: a device with its latest values and 30-day chart
(``/monitor/devices/{id}``), and the messages refused by day and reason (``/monitor/telemetry``).
Any officer, data operator or admin (sensor readings are not personal data)."""

from __future__ import annotations

import json
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from shuhui.core.clock import format_local, utcnow
from shuhui.core.http import render
from shuhui.monitor.telemetry import service, store
from shuhui.monitor.telemetry.ingest import REASONS
from shuhui.monitor.telemetry.routes import DeviceId, Reader, directory_of
from shuhui.trust.identity.deps import DB

pages = APIRouter(include_in_schema=False)


@pages.get("/monitor/devices/{device_id}", response_class=HTMLResponse)
def device_page(request: Request, db: DB, user: Reader, device_id: DeviceId) -> Response:
    device = service.device_or_404(directory_of(request), device_id)
    now = utcnow()
    last = store.latest(db, [device.id]).get(device.id)
    values = [
        {
            "zh": m.name_zh,
            "en": m.name_en,
            "unit": m.unit,
            "value": None if last is None else last.values.get(code),
            "at": "" if last is None or code not in last.times else format_local(last.times[code]),
        }
        for code, m in device.sensor_type.metrics.items()
    ]
    return render(
        request,
        "monitor_device.html",
        {
            "device": device,
            "values": values,
            "last_seen": format_local(last.ts) if last else "",
            "chart": json.dumps(service.chart(db, device, now), ensure_ascii=False),
        },
    )


@pages.get("/monitor/telemetry", response_class=HTMLResponse)
def telemetry_page(request: Request, db: DB, user: Reader) -> Response:
    today = utcnow().date()
    since = today - timedelta(days=6)
    by_day = store.rejections_by_day(db, since)
    days = [since + timedelta(days=i) for i in range(7)]
    rows = [
        {
            "zh": zh,
            "en": en,
            "counts": [by_day.get(day, {}).get(code, 0) for day in days],
            "total": sum(by_day.get(day, {}).get(code, 0) for day in days),
        }
        for code, (zh, en) in REASONS.items()
    ]
    return render(
        request,
        "monitor_telemetry.html",
        {"days": [d.strftime("%m-%d") for d in days], "rows": rows},
    )
