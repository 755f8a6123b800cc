"""An alarm's lifecycle: raised → acknowledged → dispatched → resolved → closed, escalation and
de-escalation, each step an event and a ledger entry in the caller's transaction.

Who may take which step is the service's (``service.require_step``); this module only checks
that the step is allowed from the alarm's state (a 409 naming the state otherwise, nothing
changed) and writes it.

The steps:

- ``acknowledge`` (raised → acknowledged): the centre has seen it; escalation stops.
- ``dispatch`` (acknowledged → dispatched, to a responder unit taking the alarm's scenario): a
  message goes to the unit's inbox.
- ``resolve`` (dispatched → resolved): the unit says it is dealt with.
- ``close`` (resolved → closed; or raised / acknowledged → closed, a false alarm, with a note):
  ``open_key`` is set to NULL, so the rule and source may raise a new alarm when the condition
  next starts.
- ``escalate`` (the engine's ``tick``): not acknowledged within the deadline → one level more
  severe (一级 is the top).
- ``deescalate`` and the platform's ``close`` (``tick``): the condition clear for the rule's
  minutes. The platform closes only alarms not yet dispatched: once a unit is at work, an
  officer closes it (the timeline shows when the condition cleared).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shuhui.core.clock import local_today
from shuhui.core.errors import FieldError, Problem, invalid
from shuhui.core.i18n import Text
from shuhui.monitor.alarms.models import STATES, Alarm, AlarmEvent, AlarmReading, UnitMessage
from shuhui.monitor.alarms.rules import LEVEL_NAMES, Rule, Unit, centre_of
from shuhui.monitor.readings import Reading
from shuhui.trust.crypto.canonical import JsonValue
from shuhui.trust.ledger import service as ledger

PURPOSE: Final = "城市安全风险监测预警（告警处置）"
SYSTEM: Final = "system"
NOTE_MAX: Final = 1024

# action → (states it may be taken from, the state it leads to)
TRANSITIONS: Final[dict[str, tuple[tuple[str, ...], str]]] = {
    "acknowledge": (("raised",), "acknowledged"),
    "dispatch": (("acknowledged",), "dispatched"),
    "resolve": (("dispatched",), "resolved"),
    "close": (("raised", "acknowledged", "resolved"), "closed"),
}
ACTIONS: Final[dict[str, tuple[str, str]]] = {
    "acknowledge": ("确认告警", "Acknowledge"),
    "dispatch": ("派发处置", "Dispatch"),
    "resolve": ("处置完毕", "Mark resolved"),
    "close": ("关闭告警", "Close"),
}
EVENT_NAMES: Final[dict[str, tuple[str, str]]] = {
    "raise": ("产生告警", "Raised"),
    **ACTIONS,
    "escalate": ("超时未确认，升级", "Escalated: not acknowledged in time"),
    "deescalate": ("条件恢复，降级", "De-escalated: condition cleared"),
    "auto_close": ("条件恢复，自动关闭", "Closed: condition cleared"),
}


def level_name(level: int) -> str:
    return LEVEL_NAMES[level][0]


def escalation_deadline(rule: Rule | None, level: int, units: Mapping[str, Unit]) -> int | None:
    """Minutes an alarm at ``level`` may wait unacknowledged (None: 一级 cannot go higher)."""
    if level <= 1:
        return None
    if rule is not None and rule.escalate_after is not None:
        return rule.escalate_after
    return centre_of(units).escalate_after.get(level)


def _event(
    db: Session,
    alarm: Alarm,
    action: str,
    before: str | None,
    *,
    actor: str,
    at: datetime,
    note: str | None = None,
    unit: str | None = None,
    detail: dict[str, JsonValue] | None = None,
) -> None:
    db.add(
        AlarmEvent(
            alarm_id=alarm.id,
            action=action,
            from_state=before,
            to_state=alarm.state,
            level=alarm.level,
            unit=unit,
            note=note,
            actor=actor,
            at=at,
        )
    )
    ledger.record(
        db,
        actor,
        {
            "acknowledge": "monitor.alarm_acknowledged",
            "dispatch": "monitor.alarm_dispatched",
            "resolve": "monitor.alarm_resolved",
            "escalate": "monitor.alarm_escalated",
            "deescalate": "monitor.alarm_deescalated",
        }.get(action, "monitor.alarm_closed"),
        subject=alarm.source,
        purpose=PURPOSE,
        grant=alarm.code,
        detail={
            "rule": alarm.rule,
            "from": before,
            "to": alarm.state,
            "level": alarm.level,
            "unit": unit,
            "note": note,
            **(detail or {}),
        },
    )


def upsert(db: Session, model: type[Any]) -> Any:
    """An INSERT of the session's dialect that takes ON CONFLICT (SQLite or PostgreSQL)."""
    if db.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


def _code(now: datetime) -> str:
    return f"AL-{local_today(now):%Y%m%d}-{secrets.token_hex(4).upper()}"


def raise_alarm(
    db: Session,
    rule: Rule,
    *,
    source: str,
    device: str | None,
    site: str,
    district: str,
    readings: Sequence[Reading],
    units: Mapping[str, Unit],
    now: datetime,
) -> int | None:
    """Inserts the alarm unless one is open for ``rule|source`` (ON CONFLICT DO NOTHING on the
    unique ``open_key``): its id, or None when another process or an earlier reading raised it."""
    deadline = escalation_deadline(rule, rule.level, units)
    values = {
        "code": _code(now),
        "open_key": f"{rule.code}|{source}",
        "rule": rule.code,
        "kind": rule.kind,
        "scenario": rule.scenario,
        "source": source,
        "device": device,
        "site": site,
        "district": district[:6],
        "level": rule.level,
        "raised_level": rule.level,
        "state": "raised",
        "unit": None,
        "raised_at": now,
        "escalate_at": None if deadline is None else now + timedelta(minutes=deadline),
        "updated_at": now,
    }
    stmt = upsert(db, Alarm).values(values).on_conflict_do_nothing()
    alarm_id = db.execute(stmt.returning(Alarm.id)).scalar()
    if alarm_id is None:
        return None
    if readings:
        db.execute(
            insert(AlarmReading),
            [
                {
                    "alarm_id": alarm_id,
                    "device": r.device,
                    "metric": r.metric,
                    "ts": r.ts,
                    "value": r.value,
                }
                for r in readings
            ],
        )
    db.execute(
        insert(AlarmEvent),
        [
            {
                "alarm_id": alarm_id,
                "action": "raise",
                "from_state": None,
                "to_state": "raised",
                "level": rule.level,
                "unit": None,
                "note": None,
                "actor": SYSTEM,
                "at": now,
            }
        ],
    )
    ledger.record(
        db,
        SYSTEM,
        "monitor.alarm_raised",
        subject=source,
        purpose=PURPOSE,
        grant=str(values["code"]),
        detail={
            "rule": rule.code,
            "level": rule.level,
            "source": source,
            "readings": [
                {
                    "device": r.device,
                    "metric": r.metric,
                    "ts": r.ts.isoformat(),
                    "value": str(r.value),
                }
                for r in readings[:10]
            ],
        },
    )
    return int(alarm_id)


# --- an officer's steps -----------------------------------------------------------------------


def allowed_actions(alarm: Alarm) -> list[str]:
    return [name for name, (sources, _) in TRANSITIONS.items() if alarm.state in sources]


def check_step(alarm: Alarm, action: str, note: str | None) -> tuple[str, str | None]:
    """The state ``action`` leads to and the note, or the refusal (nothing changed): an unknown
    action or a missing note a 422, a step not allowed from the alarm's state a 409."""
    if action not in TRANSITIONS:
        raise invalid("action", Text("没有这个操作", "no such action"))
    sources, target = TRANSITIONS[action]
    if alarm.state not in sources:
        state_zh = STATES[alarm.state][0]
        raise Problem(
            "conflict",
            detail=f"告警当前为“{state_zh}”，不能{ACTIONS[action][0]}",
            errors=[
                FieldError(
                    "action",
                    Text(
                        f"“{state_zh}”的告警不能{ACTIONS[action][0]}",
                        f"not allowed while {alarm.state}",
                    ),
                )
            ],
        )
    text = (note or "").strip() or None
    if text is not None and len(text) > NOTE_MAX:
        raise invalid("note", Text(f"不超过{NOTE_MAX}字", f"at most {NOTE_MAX} characters"))
    if action == "close" and alarm.state != "resolved" and text is None:
        raise invalid(
            "note",
            Text("未经处置就关闭的告警须说明理由（如误报）", "say why (e.g. a false alarm)"),
            detail="请填写关闭理由",
        )
    return target, text


def check_unit(alarm: Alarm, unit_code: str | None, units: Mapping[str, Unit]) -> Unit:
    unit = units.get(unit_code or "")
    if unit is None or unit.role != "responder":
        raise invalid(
            "unit", Text("请选择处置单位", "choose a responder unit"), detail="请选择处置单位"
        )
    if alarm.scenario not in unit.scenarios:
        raise invalid(
            "unit",
            Text(
                f"{unit.name_zh}不承担此类告警的处置", f"{unit.name_en} does not take this scenario"
            ),
            detail="所选单位不承担此类告警",
        )
    return unit


def step(
    db: Session,
    alarm: Alarm,
    action: str,
    *,
    actor: str,
    units: Mapping[str, Unit],
    now: datetime,
    note: str | None = None,
    unit: str | None = None,
    rule_name: str = "",
) -> Alarm:
    """One officer's step, with its event, its ledger entry and (dispatch) the unit's message,
    all in the caller's transaction; a refused step changes nothing."""
    target, text = check_step(alarm, action, note)
    chosen = check_unit(alarm, unit, units) if action == "dispatch" else None
    if action != "dispatch" and unit:
        raise invalid("unit", Text("只有派发时选择单位", "only when dispatching"))
    before = alarm.state
    alarm.state = target
    alarm.updated_at = now
    if action == "acknowledge":
        alarm.acknowledged_at = now
        alarm.escalate_at = None
    elif action == "dispatch" and chosen is not None:
        alarm.dispatched_at = now
        alarm.unit = chosen.code
        db.add(
            UnitMessage(
                unit=chosen.code,
                alarm_id=alarm.id,
                title=f"{level_name(alarm.level)}告警 {alarm.code}：{rule_name or alarm.rule}",
                body=(
                    f"监测值守中心派发告警 {alarm.code}（{rule_name or alarm.rule}，"
                    f"{level_name(alarm.level)}），位置 {alarm.site}"
                    + (f"，设备 {alarm.device}" if alarm.device else "")
                    + (f"。说明：{text}" if text else "。")
                ),
                created_at=now,
                read_at=None,
                read_by=None,
            )
        )
    elif action == "resolve":
        alarm.resolved_at = now
    elif action == "close":
        close(alarm, now)
    _event(
        db,
        alarm,
        action,
        before,
        actor=actor,
        at=now,
        note=text,
        unit=chosen.code if chosen else None,
    )
    db.flush()
    db.refresh(alarm, ["events"])
    return alarm


def close(alarm: Alarm, now: datetime) -> None:
    alarm.state = "closed"
    alarm.closed_at = now
    alarm.open_key = None
    alarm.escalate_at = None


# --- the platform's steps (tick) --------------------------------------------------------------


def escalate(
    db: Session, alarm: Alarm, rule: Rule | None, units: Mapping[str, Unit], now: datetime
) -> None:
    before_level = alarm.level
    alarm.level = max(1, alarm.level - 1)
    deadline = escalation_deadline(rule, alarm.level, units)
    alarm.escalate_at = None if deadline is None else now + timedelta(minutes=deadline)
    alarm.updated_at = now
    _event(
        db,
        alarm,
        "escalate",
        alarm.state,
        actor=SYSTEM,
        at=now,
        note=f"{level_name(before_level)} → {level_name(alarm.level)}",
        detail={"from_level": before_level},
    )


def deescalate(db: Session, alarm: Alarm, now: datetime) -> None:
    before_level = alarm.level
    alarm.level = min(4, alarm.level + 1)
    alarm.cleared_at = now
    alarm.updated_at = now
    _event(
        db,
        alarm,
        "deescalate",
        alarm.state,
        actor=SYSTEM,
        at=now,
        note=f"{level_name(before_level)} → {level_name(alarm.level)}",
        detail={"from_level": before_level},
    )


def auto_close(db: Session, alarm: Alarm, now: datetime) -> None:
    before = alarm.state
    alarm.cleared_at = now
    alarm.updated_at = now
    close(alarm, now)
    _event(db, alarm, "auto_close", before, actor=SYSTEM, at=now, note="监测条件已恢复正常")
