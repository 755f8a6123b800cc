"""Telemetry's services for the pages, the API and the CLI: the device directory (until the
registry's lands), the HTTP batch ingest and who may send it, the device list and a device's
page. No HTTP here."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from shuhui.core.errors import FieldError, Problem
from shuhui.monitor.alarms.rules import centre_of, load_units
from shuhui.monitor.devices import Device, Directory
from shuhui.monitor.readings import Reading
from shuhui.monitor.telemetry import store
from shuhui.monitor.telemetry.ingest import REASONS, Rejected, parse_item
from shuhui.monitor.telemetry.retention import Retention
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role

log = logging.getLogger(__name__)

Evaluator = Callable[[Session, Directory, Sequence[Reading], datetime], object]

MAX_ITEMS = 5_000
CHART_DAYS = 30


class DirectoryCache:
    """A directory read at most once a minute per process (the API's ingest and pages)."""

    def __init__(self, load: Callable[[], Directory], ttl: float = 60.0) -> None:
        self.load, self.ttl = load, ttl
        self._value: Directory | None = None
        self._at = 0.0
        self._lock = threading.Lock()

    def get(self) -> Directory:
        with self._lock:
            if self._value is None or time.monotonic() - self._at > self.ttl:
                self._value, self._at = self.load(), time.monotonic()
            return self._value

    def set(self, directory: Directory) -> None:
        with self._lock:
            self._value, self._at = directory, time.monotonic()


@lru_cache(maxsize=8)
def centre_department(content_dir: Path, city: str) -> str:
    """The monitoring centre's department (``monitor/units.yaml``): its officers, and admin,
    may send telemetry over HTTP."""
    return centre_of(load_units(content_dir, city)).department


def may_ingest(user: User, centre: str) -> bool:
    roles = user.role_set
    return Role.admin in roles or (Role.officer in roles and (user.department or "") == centre)


def require_ingest(user: User, centre: str) -> None:
    if not may_ingest(user, centre):
        raise Problem("forbidden", "只有监测中心的工作人员可以上报监测数据")


@dataclass
class IngestResult:
    accepted: int = 0
    readings_stored: int = 0
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "readings_stored": self.readings_stored,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
        }


def ingest(
    db: Session,
    directory: Directory,
    items: Sequence[object],
    now: datetime,
    *,
    retention: Retention | None = None,
    evaluators: Sequence[Evaluator] = (),
) -> IngestResult:
    """A batch from HTTP: each item validated as an MQTT message is, the readings stored,
    rejections counted, the evaluators given the newly stored readings (one transaction)."""
    if not 1 <= len(items) <= MAX_ITEMS:
        raise Problem(
            "validation",
            f"一次上报 1–{MAX_ITEMS} 条",
            errors=[FieldError("body", f"须为 1–{MAX_ITEMS} 条")],
        )
    oldest = (retention or Retention()).oldest_raw(now)
    result = IngestResult()
    readings: list[Reading] = []
    counts: Counter[str] = Counter()
    for index, item in enumerate(items):
        outcome = parse_item(item, directory, now, oldest)
        if isinstance(outcome, Rejected):
            counts[outcome.reason] += 1
            zh, en = REASONS[outcome.reason]
            result.rejected.append(
                {
                    "index": index,
                    "reason": outcome.reason,
                    "reason_zh": zh,
                    "reason_en": en,
                    "detail": outcome.detail,
                }
            )
        else:
            result.accepted += 1
            readings += outcome
    new = store.write(db, readings, now)
    store.count_rejections(db, counts, now.astimezone(UTC).date())
    for evaluate in evaluators:
        evaluate(db, directory, new, now)
    result.readings_stored = len(new)
    result.duplicates = len(readings) - len(new)
    return result


def device_rows(db: Session, directory: Directory) -> list[dict[str, Any]]:
    """Every device of the directory with its type, site, district and when it was last
    heard from (``shuhui monitor devices``)."""
    seen = store.latest(db)
    rows = []
    for device in sorted(directory.devices.values(), key=lambda d: d.id):
        last = seen.get(device.id)
        rows.append(
            {
                "id": device.id,
                "type": device.sensor_type.code,
                "type_zh": device.sensor_type.name_zh,
                "scenario": device.sensor_type.scenario,
                "site": device.site,
                "district": device.district,
                "lon": device.lon,
                "lat": device.lat,
                "last_seen": last.ts.isoformat() if last else None,
            }
        )
    return rows


def device_or_404(directory: Directory, device_id: str) -> Device:
    device = directory.get(device_id)
    if device is None:
        raise Problem("not-found", "没有这个监测设备", errors=[FieldError("id", "未登记")])
    return device


def metric_or_422(device: Device, metric: str) -> None:
    if metric not in device.sensor_type.metrics:
        raise Problem(
            "validation",
            "该设备不测此项",
            errors=[FieldError("metric", f"须为 {'、'.join(device.sensor_type.metrics)}")],
        )


def chart(db: Session, device: Device, now: datetime) -> dict[str, Any]:
    """The device's last 30 days, one series per metric from the hour roll-ups."""
    end = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    start = end - timedelta(days=CHART_DAYS)
    return {
        "metrics": [
            {
                "code": code,
                "zh": metric.name_zh,
                "en": metric.name_en,
                "unit": metric.unit,
                "points": [
                    [ts.isoformat(), round(value, 4)]
                    for ts, value in store.series(db, device.id, code, start, end, "hour")
                ],
            }
            for code, metric in device.sensor_type.metrics.items()
        ]
    }
