"""Scoring a run: the truth file against the alarms raised during the run.

An alarm belongs to the run when it was raised between the run's start and end (plus
``GRACE``) on one of its devices or sites, and was not in the database before the run began.
It **explains** an incident when it is on the incident's site or one of its devices and raised
between the incident's start and its end plus ``GRACE``. An incident is **detected** when an
alarm of one of its ``expect`` rules explains it; its time to alarm is from the incident's
start to the first such alarm. A **false alarm** is an alarm of the run that explains no real
incident (an alarm a near-miss raised is one, counted apart too). A **duplicate** is an alarm
raised for a rule and source while another alarm of that rule and source was open."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuhui.core.clock import as_utc
from shuhui.monitor.alarms.models import Alarm

GRACE: Final = timedelta(minutes=3)


@dataclass(frozen=True)
class Truth:
    run: dict[str, Any]
    incidents: list[dict[str, Any]]
    end: dict[str, Any] | None

    @property
    def start_at(self) -> datetime:
        return datetime.fromisoformat(self.run["start"])

    @property
    def end_at(self) -> datetime:
        ended = (self.end or {}).get("ended") or self.run["end"]
        return datetime.fromisoformat(ended)


def read_truth(path: Path) -> Truth:
    run: dict[str, Any] | None = None
    incidents: list[dict[str, Any]] = []
    end: dict[str, Any] | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        kind = item.get("type")
        if kind == "run":
            run = item
        elif kind == "incident":
            incidents.append(item)
        elif kind == "end":
            end = item
    if run is None:
        raise ValueError(f"{path} is not a simulation's truth (no run line)")
    return Truth(run, incidents, end)


def latest_run(folder: Path) -> Path | None:
    runs = sorted(folder.glob("SIM-*.jsonl"))
    return runs[-1] if runs else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The nearest-rank percentile (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


@dataclass
class Score:
    run: str
    incidents: int = 0
    detected: int = 0
    missed: list[str] = field(default_factory=list)
    near_misses: int = 0
    near_miss_alarms: int = 0
    alarms: int = 0
    false_alarms: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    seconds_to_alarm: list[float] = field(default_factory=list)
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        times = self.seconds_to_alarm
        return {
            "run": self.run,
            "incidents": self.incidents,
            "detected": self.detected,
            "missed": len(self.missed),
            "missed_ids": self.missed,
            "near_misses": self.near_misses,
            "near_miss_alarms": self.near_miss_alarms,
            "alarms": self.alarms,
            "false_alarms": len(self.false_alarms),
            "false_alarm_codes": self.false_alarms,
            "duplicates": len(self.duplicates),
            "duplicate_codes": self.duplicates,
            "time_to_alarm_s": {
                "p50": percentile(times, 50),
                "p95": percentile(times, 95),
                "max": max(times) if times else None,
            },
            "by_kind": self.by_kind,
        }


def _explains(a: Alarm, incident: dict[str, Any]) -> bool:
    start = datetime.fromisoformat(incident["start"])
    end = datetime.fromisoformat(incident["end"]) + GRACE
    where = a.site == incident["site"] or (a.device or "") in incident["devices"]
    return where and start <= as_utc(a.raised_at) <= end


def score(db: Session, truth: Truth) -> Score:
    devices, sites = set(truth.run["devices"]), set(truth.run["sites"])
    start, end = truth.start_at, truth.end_at + GRACE
    # A sped-up run's times lie in the past: an alarm already there when it began is not its.
    floor = int(truth.run.get("alarms_before") or 0)
    alarms = [
        a
        for a in db.scalars(
            select(Alarm)
            .where(Alarm.raised_at >= start, Alarm.raised_at <= end)
            .order_by(Alarm.raised_at, Alarm.id)
        )
        if a.id > floor and (a.site in sites or (a.device or "") in devices)
    ]
    out = Score(truth.run["run"], alarms=len(alarms))
    explained: set[int] = set()
    for incident in truth.incidents:
        mine = [a for a in alarms if _explains(a, incident)]
        kind = out.by_kind.setdefault(incident["kind"], {"injected": 0, "detected": 0, "alarms": 0})
        kind["injected"] += 1
        kind["alarms"] += len(mine)
        if incident["near_miss"]:
            out.near_misses += 1
            out.near_miss_alarms += len(mine)
            continue
        out.incidents += 1
        explained |= {a.id for a in mine}
        hits = [a for a in mine if a.rule in incident["expect"]]
        if hits:
            out.detected += 1
            kind["detected"] += 1
            first = min(as_utc(a.raised_at) for a in hits)
            out.seconds_to_alarm.append(
                (first - datetime.fromisoformat(incident["start"])).total_seconds()
            )
        else:
            out.missed.append(incident["id"])
    out.false_alarms = [a.code for a in alarms if a.id not in explained]
    out.duplicates = _duplicates(alarms)
    return out


def _duplicates(alarms: Sequence[Alarm]) -> list[str]:
    found: list[str] = []
    last: dict[tuple[str, str], Alarm] = {}
    for a in alarms:  # raised_at order
        key = (a.rule, a.source)
        before = last.get(key)
        if before is not None and (
            before.closed_at is None or as_utc(before.closed_at) > as_utc(a.raised_at)
        ):
            found.append(a.code)
        last[key] = a
    return found
