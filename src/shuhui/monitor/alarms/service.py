"""Alarms for pages, the API and the CLI: who may see and do what, the queue, one alarm with
its response times against the targets, the steps, a unit's inbox. No HTTP here.

Access: the monitoring centre's officers (the department of the ``centre`` in units.yaml) and
admins see every alarm and take every step; a responder unit's officers see the alarms
dispatched to their unit (any other is a 404 to them, as if it did not exist) and may mark
them resolved; anyone else is refused (403).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from shuhui.core.clock import as_utc, utcnow
from shuhui.core.errors import FieldError, Problem, invalid
from shuhui.core.i18n import Text, codes
from shuhui.core.settings import Settings
from shuhui.monitor.alarms import lifecycle
from shuhui.monitor.alarms.models import OPEN_STATES, STATES, Alarm, AlarmEvent, UnitMessage
from shuhui.monitor.alarms.rules import (
    LEVEL_NAMES,
    LEVELS,
    Rule,
    Unit,
    centre_of,
    load_rules,
    load_units,
)
from shuhui.monitor.devices import SCENARIOS, sensor_types
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role

SCENARIO_NAMES: Final[dict[str, tuple[str, str]]] = {
    "high_rise": ("高层建筑", "High-rise buildings"),
    "forest": ("森林防火", "Forest fire"),
    "hazchem": ("危险化学品", "Hazardous chemicals"),
}
# Which steps a responder unit's officer may take (on the alarms dispatched to the unit).
UNIT_STEPS: Final = ("resolve",)


@dataclass(frozen=True)
class Catalogue:
    rules: dict[str, Rule]
    units: dict[str, Unit]

    @property
    def centre(self) -> Unit:
        return centre_of(self.units)

    def rule_name(self, code: str) -> tuple[str, str]:
        rule = self.rules.get(code)
        return (rule.name_zh, rule.name_en) if rule else (code, code)


@lru_cache(maxsize=8)
def _catalogue(content_dir: Path, city: str) -> Catalogue:
    types = sensor_types(content_dir, city)
    return Catalogue(load_rules(content_dir, city, types), load_units(content_dir, city))


def catalogue(settings: Settings) -> Catalogue:
    return _catalogue(settings.content_dir, settings.city)


@dataclass(frozen=True)
class Scope:
    """Who is asking: the centre (every alarm) or one responder unit (its own)."""

    user: User
    unit: str | None  # None: the centre (or an admin)

    @property
    def centre(self) -> bool:
        return self.unit is None


def scope_of(user: User, cat: Catalogue) -> Scope:
    roles = user.role_set
    if Role.admin in roles:
        return Scope(user, None)
    if Role.officer in roles and user.department:
        if user.department == cat.centre.department:
            return Scope(user, None)
        for unit in cat.units.values():
            if unit.role == "responder" and unit.department == user.department:
                return Scope(user, unit.code)
    raise Problem(
        "forbidden",
        detail=f"告警由{cat.centre.department}值守，处置单位查看派发给本单位的告警",
        errors=[FieldError("department", Text("无权查看告警", "not allowed to see alarms"))],
    )


def unit_of(user: User, cat: Catalogue) -> str | None:
    """The responder unit the user works for, if any (for the workbench: no refusal)."""
    try:
        return scope_of(user, cat).unit
    except Problem:
        return None


def is_centre(user: User, cat: Catalogue) -> bool:
    try:
        return scope_of(user, cat).centre
    except Problem:
        return False


def _choice(field: str, value: object, allowed: Iterable[object]) -> None:
    names = [str(a) for a in allowed]
    if value is not None and str(value) not in names:
        raise invalid(field, Text("必须是以下之一：" + codes(names), f"one of {', '.join(names)}"))


def alarms(
    db: Session,
    scope: Scope,
    *,
    state: str | None = None,
    level: int | None = None,
    scenario: str | None = None,
    open_only: bool = False,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Alarm], int]:
    """A page of the queue: most severe first, then oldest first (what has waited longest)."""
    _choice("state", state, STATES)
    _choice("level", level, LEVELS)
    _choice("scenario", scenario, SCENARIOS)
    where = []
    if scope.unit is not None:
        where.append(Alarm.unit == scope.unit)
    if state is not None:
        where.append(Alarm.state == state)
    if level is not None:
        where.append(Alarm.level == level)
    if scenario is not None:
        where.append(Alarm.scenario == scenario)
    if open_only:
        where.append(Alarm.state.in_(OPEN_STATES))
    total = int(db.scalar(select(func.count()).select_from(Alarm).where(*where)) or 0)
    closed_last = case((Alarm.state == "closed", 1), else_=0)
    rows = db.scalars(
        select(Alarm)
        .where(*where)
        .order_by(closed_last, Alarm.level, Alarm.raised_at, Alarm.id)
        .offset(offset)
        .limit(limit)
    )
    return list(rows), total


def at_sites(db: Session, sites: Sequence[str], *, limit: int = 20) -> list[dict[str, Any]]:
    """The alarms raised at some monitored sites (an enterprise's own plants, for its file),
    newest first, as plain facts: another domain shows them without the alarm's tables."""
    if not sites:
        return []
    rows = db.scalars(
        select(Alarm)
        .where(Alarm.site.in_(list(sites)))
        .order_by(Alarm.raised_at.desc(), Alarm.id.desc())
        .limit(limit)
    )
    return [
        {
            "code": a.code,
            "site": a.site,
            "scenario": a.scenario,
            "level": a.level,
            "level_name": LEVEL_NAMES[a.level][0],
            "state": a.state,
            "state_name": STATES[a.state][0],
            "raised_at": a.raised_at,
            "closed_at": a.closed_at,
        }
        for a in rows
    ]


def board(db: Session, scope: Scope) -> dict[int, dict[str, int]]:
    """Open alarms per level and state (zeros included)."""
    out = {level: dict.fromkeys(OPEN_STATES, 0) for level in LEVELS}
    query = select(Alarm.level, Alarm.state, func.count()).where(Alarm.state.in_(OPEN_STATES))
    if scope.unit is not None:
        query = query.where(Alarm.unit == scope.unit)
    for level, state, n in db.execute(query.group_by(Alarm.level, Alarm.state)):
        if level in out and state in out[level]:
            out[level][state] = int(n)
    return out


def alarm(db: Session, scope: Scope, code: str) -> Alarm:
    found = db.scalar(select(Alarm).where(Alarm.code == code[:32]))
    if found is None or (scope.unit is not None and found.unit != scope.unit):
        raise Problem(
            "not-found",
            detail=f"没有告警 {code[:32]}",
            errors=[FieldError("alarm", Text("没有这条告警", "no such alarm"))],
        )
    return found


def require_step(scope: Scope, action: str) -> None:
    if scope.unit is not None and action not in UNIT_STEPS:
        raise Problem(
            "forbidden",
            detail="处置单位只能登记处置完毕；确认、派发和关闭由监测值守中心办理",
            errors=[FieldError("action", Text("本单位不能办理此操作", "not for a unit"))],
        )


def take_step(
    db: Session,
    cat: Catalogue,
    scope: Scope,
    code: str,
    action: str,
    *,
    note: str | None = None,
    unit: str | None = None,
    now: datetime | None = None,
) -> Alarm:
    a = alarm(db, scope, code)
    require_step(scope, action)
    return lifecycle.step(
        db,
        a,
        action,
        actor=scope.user.username,
        units=cat.units,
        now=as_utc(now or utcnow()),
        note=note,
        unit=unit,
        rule_name=cat.rule_name(a.rule)[0],
    )


def check_step(
    cat: Catalogue, scope: Scope, a: Alarm, action: str, note: str | None, unit: str | None
) -> None:
    """The refusal a step would meet, without taking it (a page asks first only for a step
    that would be taken)."""
    require_step(scope, action)
    lifecycle.check_step(a, action, note)
    if action == "dispatch":
        lifecycle.check_unit(a, unit, cat.units)


def responders(cat: Catalogue, a: Alarm) -> list[Unit]:
    """The units that take the alarm's scenario, the rule's own unit first."""
    rule = cat.rules.get(a.rule)
    found = [u for u in cat.units.values() if u.role == "responder" and a.scenario in u.scenarios]
    return sorted(found, key=lambda u: (rule is None or u.code != rule.unit, u.code))


# --- response times ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    step: str
    zh: str
    en: str
    minutes: float | None  # how long it took, or has waited so far
    target: int | None
    done: bool

    @property
    def overdue(self) -> bool:
        return self.minutes is not None and self.target is not None and self.minutes > self.target


def _minutes(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds() / 60, 1)


def timings(cat: Catalogue, a: Alarm, now: datetime | None = None) -> list[Timing]:
    """Acknowledge and dispatch (from raising, the centre's targets) and resolve (from
    dispatch, the unit's), each done or waiting so far, against the alarm's current level."""
    now = as_utc(now or utcnow())
    centre = cat.centre.targets.get(a.level, {})
    unit = cat.units.get(a.unit or "")
    stop = a.closed_at or now
    out = [
        Timing(
            "acknowledge",
            "确认用时",
            "Time to acknowledge",
            _minutes(a.raised_at, a.acknowledged_at or (None if a.closed_at else now)),
            centre.get("acknowledge"),
            a.acknowledged_at is not None,
        ),
        Timing(
            "dispatch",
            "派发用时",
            "Time to dispatch",
            _minutes(a.raised_at, a.dispatched_at or (None if a.closed_at else now)),
            centre.get("dispatch"),
            a.dispatched_at is not None,
        ),
    ]
    if a.dispatched_at is not None:
        out.append(
            Timing(
                "resolve",
                "处置用时",
                "Time to resolve",
                _minutes(a.dispatched_at, a.resolved_at or stop),
                unit.targets.get(a.level, {}).get("resolve") if unit else None,
                a.resolved_at is not None,
            )
        )
    return out


# --- the inbox --------------------------------------------------------------------------------


def inbox(db: Session, unit: str, *, offset: int = 0, limit: int = 50) -> tuple[list[Any], int]:
    """The unit's messages, unread first, newest first; each with its alarm's code and state."""
    where = UnitMessage.unit == unit
    total = int(db.scalar(select(func.count()).select_from(UnitMessage).where(where)) or 0)
    unread_first = case((UnitMessage.read_at.is_(None), 0), else_=1)
    rows = db.execute(
        select(UnitMessage, Alarm.code, Alarm.state, Alarm.level)
        .join(Alarm, Alarm.id == UnitMessage.alarm_id)
        .where(where)
        .order_by(unread_first, UnitMessage.created_at.desc(), UnitMessage.id.desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return list(rows), total


def unread_count(db: Session, unit: str) -> int:
    return int(
        db.scalar(
            select(func.count())
            .select_from(UnitMessage)
            .where(UnitMessage.unit == unit, UnitMessage.read_at.is_(None))
        )
        or 0
    )


def mark_read(db: Session, scope: Scope, a: Alarm, now: datetime | None = None) -> int:
    """The unit's messages about ``a`` read (its officer opened the alarm): bookkeeping of the
    unit's own, no ledger entry (as the message centre)."""
    if scope.unit is None:
        return 0
    done = db.execute(
        update(UnitMessage)
        .where(
            UnitMessage.unit == scope.unit,
            UnitMessage.alarm_id == a.id,
            UnitMessage.read_at.is_(None),
        )
        .values(read_at=as_utc(now or utcnow()), read_by=scope.user.username)
    )
    return int(getattr(done, "rowcount", 0) or 0)


def todo_counts(db: Session, unit: str | None) -> dict[str, int]:
    """The centre: alarms waiting to be acknowledged, and acknowledged ones to dispatch; a
    unit: alarms dispatched to it not yet resolved, and unread messages."""
    if unit is None:
        by_state = dict(
            db.execute(
                select(Alarm.state, func.count())
                .where(Alarm.state.in_(("raised", "acknowledged", "resolved")))
                .group_by(Alarm.state)
            ).all()
        )
        return {s: int(by_state.get(s, 0)) for s in ("raised", "acknowledged", "resolved")}
    dispatched = db.scalar(
        select(func.count())
        .select_from(Alarm)
        .where(Alarm.unit == unit, Alarm.state == "dispatched")
    )
    return {"dispatched": int(dispatched or 0), "unread": unread_count(db, unit)}


# --- for the monitoring wall (``monitor.wall``) -----------------------------------------------


def open_counts(db: Session, scope: Scope) -> dict[str, dict[str, int]]:
    """Open alarms per level (``"1"``…``"4"``) and per scenario, zeros included: one query."""
    levels = {str(level): 0 for level in LEVELS}
    scenarios = dict.fromkeys(SCENARIOS, 0)
    query = select(Alarm.level, Alarm.scenario, func.count()).where(Alarm.state.in_(OPEN_STATES))
    if scope.unit is not None:
        query = query.where(Alarm.unit == scope.unit)
    for level, scenario, n in db.execute(query.group_by(Alarm.level, Alarm.scenario)):
        levels[str(level)] = levels.get(str(level), 0) + int(n)
        scenarios[scenario] = scenarios.get(scenario, 0) + int(n)
    return {"levels": levels, "scenarios": scenarios}


def latest_open(db: Session, scope: Scope, limit: int = 20) -> list[Alarm]:
    """The open alarms most recently raised, newest first (the wall's list)."""
    query = select(Alarm).where(Alarm.state.in_(OPEN_STATES))
    if scope.unit is not None:
        query = query.where(Alarm.unit == scope.unit)
    return list(db.scalars(query.order_by(Alarm.raised_at.desc(), Alarm.id.desc()).limit(limit)))


def last_event_id(db: Session) -> int:
    """The newest step of any alarm (the wall's cursor: what it has seen)."""
    return int(db.scalar(select(func.max(AlarmEvent.id))) or 0)


def events_since(
    db: Session, scope: Scope, after: int, limit: int = 200
) -> list[tuple[AlarmEvent, Alarm]]:
    """The alarms' steps after event ``after``, oldest first, each with its alarm: a cheap
    "what changed" for the wall's live stream (the events' primary key is the cursor)."""
    query = (
        select(AlarmEvent, Alarm)
        .join(Alarm, Alarm.id == AlarmEvent.alarm_id)
        .where(AlarmEvent.id > after)
        .order_by(AlarmEvent.id)
        .limit(limit)
    )
    if scope.unit is not None:
        query = query.where(Alarm.unit == scope.unit)
    return [(e, a) for e, a in db.execute(query)]
