"""What the wall shows, for its page, its snapshot API and its live stream. No HTTP here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuhui.core.clock import as_utc, format_local
from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text
from shuhui.monitor.alarms import service as alarms
from shuhui.monitor.alarms.lifecycle import EVENT_NAMES
from shuhui.monitor.alarms.models import STATES, Alarm, AlarmEvent
from shuhui.monitor.alarms.rules import LEVEL_NAMES
from shuhui.monitor.devices import SCENARIOS, Directory
from shuhui.monitor.telemetry.models import Latest

# A device is silent once nothing came for this many of its reporting intervals.
SILENT_INTERVALS: Final = 3
LATEST_ALARMS: Final = 20
# Device status codes in the points' columns.
REPORTING, SILENT, NEVER = 0, 1, 2
STATUS_NAMES: Final = {
    "reporting": ("在线", "Reporting"),
    "silent": ("离线", "Silent"),
    "never": ("未接入", "Never heard"),
}


def wall_scope(scope: alarms.Scope) -> alarms.Scope:
    """The wall is the monitoring centre's: a responder unit's officer is refused."""
    if not scope.centre:
        raise Problem(
            "forbidden",
            detail="监测大屏由监测值守中心使用；派发给本单位的告警请在处置通知中查看",
            errors=[FieldError("department", Text("无权查看监测大屏", "the centre's wall"))],
        )
    return scope


@dataclass(frozen=True)
class Places:
    """Where each device is, and each site (its devices' centre): what the points and the
    alarms are drawn at. Made once per directory."""

    ids: list[str]
    lon: list[float]
    lat: list[float]
    scenario: list[int]
    intervals: list[int]
    sites: dict[str, tuple[float, float]]


_places: dict[int, tuple[Directory, Places]] = {}


def places(directory: Directory) -> Places:
    cached = _places.get(id(directory))
    if cached is not None and cached[0] is directory:
        return cached[1]
    devices = sorted(directory.devices.values(), key=lambda d: d.id)
    sums: dict[str, list[float]] = {}
    for d in devices:
        s = sums.setdefault(d.site, [0.0, 0.0, 0.0])
        s[0] += d.lon
        s[1] += d.lat
        s[2] += 1
    made = Places(
        ids=[d.id for d in devices],
        lon=[round(d.lon, 5) for d in devices],
        lat=[round(d.lat, 5) for d in devices],
        scenario=[SCENARIOS.index(d.sensor_type.scenario) for d in devices],
        intervals=[d.sensor_type.interval for d in devices],
        sites={k: (v[0] / v[2], v[1] / v[2]) for k, v in sums.items() if v[2]},
    )
    _places.clear()  # one directory at a time: the cache follows the current one
    _places[id(directory)] = (directory, made)
    return made


def last_heard(db: Session) -> dict[str, int]:
    """When each device was last heard (microseconds since the epoch): one aggregate over
    telemetry's latest values, a row per device and metric."""
    table = Latest.__table__
    return {
        device: int(at)
        for device, at in db.execute(
            select(table.c.device, func.max(table.c.at)).group_by(table.c.device)
        )
    }


def statuses(db: Session, directory: Directory, now: datetime) -> list[int]:
    """Each device's status, in :func:`places` order."""
    where = places(directory)
    heard = last_heard(db)
    now_us = int(as_utc(now).timestamp() * 1_000_000)
    out: list[int] = []
    for device, interval in zip(where.ids, where.intervals, strict=True):
        at = heard.get(device)
        if at is None:
            out.append(NEVER)
        elif now_us - at > SILENT_INTERVALS * interval * 1_000_000:
            out.append(SILENT)
        else:
            out.append(REPORTING)
    return out


def device_summary(status: Sequence[int]) -> dict[str, int]:
    return {
        "total": len(status),
        "reporting": sum(1 for s in status if s == REPORTING),
        "silent": sum(1 for s in status if s == SILENT),
        "never": sum(1 for s in status if s == NEVER),
    }


def _at(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def alarm_point(
    cat: alarms.Catalogue, directory: Directory, a: Alarm, now: datetime | None = None
) -> dict[str, Any]:
    """An alarm as the wall shows it: what, how severe, where (its device, or its site's
    centre for a correlation), in which state, since when."""
    where = places(directory)
    device = directory.get(a.device) if a.device else None
    if device is not None:
        lon, lat = device.lon, device.lat
    else:
        lon, lat = where.sites.get(a.site, (None, None))  # type: ignore[assignment]
    zh, en, colour = LEVEL_NAMES[a.level]
    rule = cat.rule_name(a.rule)
    scenario = alarms.SCENARIO_NAMES.get(a.scenario, (a.scenario, a.scenario))
    state = STATES[a.state]
    return {
        "code": a.code,
        "rule": a.rule,
        "rule_zh": rule[0],
        "rule_en": rule[1],
        "scenario": a.scenario,
        "scenario_zh": scenario[0],
        "scenario_en": scenario[1],
        "source": a.source,
        "device": a.device,
        "site": a.site,
        "district": a.district,
        "level": a.level,
        "level_zh": zh,
        "level_en": en,
        "colour": colour,
        "state": a.state,
        "state_zh": state[0],
        "state_en": state[1],
        "open": a.state != "closed",
        "raised_at": _at(a.raised_at),
        "raised_local": format_local(a.raised_at),
        "updated_at": _at(a.updated_at),
        "lon": lon,
        "lat": lat,
        "href": f"/monitor/alarms/{a.code}",
    }


def snapshot(
    db: Session,
    cat: alarms.Catalogue,
    scope: alarms.Scope,
    directory: Directory,
    now: datetime,
    *,
    points: bool = False,
) -> dict[str, Any]:
    """Everything the wall draws. ``cursor`` is the newest alarm step included: the stream
    continues from it. ``points`` adds every device (columns: id, lon, lat, scenario index,
    status) — the map's layer, sent once per page."""
    wall_scope(scope)
    cursor = alarms.last_event_id(db)
    status = statuses(db, directory, now)
    out: dict[str, Any] = {
        "as_of": _at(as_utc(now)),
        "cursor": cursor,
        "counts": alarms.open_counts(db, scope),
        "devices": device_summary(status),
        "alarms": [alarm_point(cat, directory, a) for a in alarms.latest_open(db, scope)],
    }
    if points:
        where = places(directory)
        out["points"] = {
            "scenarios": list(SCENARIOS),
            "ids": where.ids,
            "lon": where.lon,
            "lat": where.lat,
            "scenario": where.scenario,
            "status": status,
        }
    return out


def changes(
    db: Session,
    cat: alarms.Catalogue,
    scope: alarms.Scope,
    directory: Directory,
    after: int,
    limit: int = 200,
) -> tuple[int, list[dict[str, Any]]]:
    """The alarms' steps after event ``after`` (the new cursor, and one item per step with the
    alarm as it is now and the open counts after it); nothing changed is an empty list."""
    found = alarms.events_since(db, scope, after, limit)
    if not found:
        return after, []
    counts = alarms.open_counts(db, scope)
    items = [_change(cat, directory, e, a, counts) for e, a in found]
    return found[-1][0].id, items


def _change(
    cat: alarms.Catalogue,
    directory: Directory,
    e: AlarmEvent,
    a: Alarm,
    counts: dict[str, dict[str, int]],
) -> dict[str, Any]:
    name = EVENT_NAMES.get(e.action, (e.action, e.action))
    return {
        "id": e.id,
        "action": e.action,
        "action_zh": name[0],
        "action_en": name[1],
        "at": _at(e.at),
        "alarm": alarm_point(cat, directory, a),
        "counts": counts,
    }
