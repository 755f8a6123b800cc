"""The alarm pages: the queue (``/monitor/alarms``), one alarm's timeline with the readings that
raised it and its actions (``/monitor/alarms/{code}``), a responder unit's inbox
(``/monitor/inbox``). Thin: every step goes through ``service`` with the API's schema."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from shuhui.core import display
from shuhui.core.bounds import Page
from shuhui.core.clock import format_local, utcnow
from shuhui.core.confirm import Ask, ask_first, confirmed
from shuhui.core.errors import FieldError, Problem
from shuhui.core.http import render
from shuhui.core.i18n import Text
from shuhui.monitor.alarms import service
from shuhui.monitor.alarms.lifecycle import ACTIONS, EVENT_NAMES, allowed_actions
from shuhui.monitor.alarms.models import OPEN_STATES, STATES, Alarm
from shuhui.monitor.alarms.routes import Scope, catalogue_of
from shuhui.monitor.alarms.rules import LEVEL_NAMES, LEVELS
from shuhui.monitor.alarms.schemas import StepIn
from shuhui.trust.identity.deps import DB

pages = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
LABELS: dict[str, tuple[str, str]] = {
    "action": ("操作", "Action"),
    "note": ("说明", "Note"),
    "unit": ("处置单位", "Responder unit"),
    "state": ("状态", "State"),
    "level": ("级别", "Level"),
}
METRIC_NAMES: dict[str, tuple[str, str]] = {
    "smoke": ("烟雾浓度", "Smoke"),
    "temperature": ("温度", "Temperature"),
    "water_pressure": ("管网压力", "Pipe pressure"),
    "tilt": ("倾斜角", "Tilt"),
    "strain": ("应变", "Strain"),
    "humidity": ("相对湿度", "Humidity"),
    "wind_speed": ("风速", "Wind speed"),
    "gas_lel": ("可燃气体浓度", "Combustible gas"),
    "pressure": ("罐内压力", "Tank pressure"),
    "level": ("液位", "Level"),
}


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _level(level: int) -> dict[str, str]:
    zh, en, colour = LEVEL_NAMES[level]
    return {"zh": zh, "en": en, "colour": colour}


def alarm_view(cat: service.Catalogue, a: Alarm) -> dict[str, Any]:
    unit = cat.units.get(a.unit or "")
    return {
        "row": a,
        "rule": cat.rule_name(a.rule),
        "level": _level(a.level),
        "state": STATES[a.state],
        "scenario": service.SCENARIO_NAMES.get(a.scenario, (a.scenario, a.scenario)),
        "unit": (unit.name_zh, unit.name_en) if unit else None,
        "raised": format_local(a.raised_at),
        "waited": round((utcnow() - a.raised_at).total_seconds() / 60),
    }


def _queue(
    request: Request,
    db: Session,
    scope: service.Scope,
    *,
    state: str,
    level: int | None,
    scenario: str,
    show: str,
    page: int,
) -> Response:
    cat = catalogue_of(request)
    chosen: dict[str, Any] = {
        "state": state if state in STATES else "",
        "level": level if level in LEVELS else None,
        "scenario": scenario if scenario in service.SCENARIO_NAMES else "",
        "show": "all" if show == "all" else "open",
    }
    rows, total = service.alarms(
        db,
        scope,
        state=chosen["state"] or None,
        level=chosen["level"],
        scenario=chosen["scenario"] or None,
        open_only=chosen["show"] == "open" and not chosen["state"],
        offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    board = service.board(db, scope)
    return render(
        request,
        "monitor_alarms.html",
        {
            "alarms": [alarm_view(cat, a) for a in rows],
            "total": total,
            "board": board,
            "levels": {n: _level(n) for n in LEVELS},
            "states": STATES,
            "open_states": OPEN_STATES,
            "scenarios": service.SCENARIO_NAMES,
            "chosen": chosen,
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "centre": scope.centre,
            "chart": {
                "levels": [LEVEL_NAMES[n][0] for n in LEVELS],
                "levels_en": [LEVEL_NAMES[n][1] for n in LEVELS],
                "states": [STATES[s][0] for s in OPEN_STATES],
                "states_en": [STATES[s][1] for s in OPEN_STATES],
                "counts": [[board[n][s] for n in LEVELS] for s in OPEN_STATES],
            },
        },
    )


@pages.get("/monitor/alarms", response_class=HTMLResponse)
def queue(
    request: Request,
    db: DB,
    scope: Scope,
    state: str = "",
    level: str = "",
    scenario: str = "",
    show: str = "open",
    page: Page = 1,
) -> Response:
    chosen_level = int(level) if level in {"1", "2", "3", "4"} else None
    return _queue(
        request,
        db,
        scope,
        state=state[:16],
        level=chosen_level,
        scenario=scenario[:16],
        show=show[:8],
        page=page,
    )


def _alarm_page(
    request: Request,
    db: Session,
    scope: service.Scope,
    code: str,
    *,
    refusal: Problem | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    cat = catalogue_of(request)
    a = service.alarm(db, scope, code)
    if refusal is None:
        service.mark_read(db, scope, a)
    actions = [x for x in allowed_actions(a) if scope.centre or x in service.UNIT_STEPS]
    rule = cat.rules.get(a.rule)
    return render(
        request,
        "monitor_alarm.html",
        {
            "a": alarm_view(cat, a),
            "reference": rule.reference if rule else "",
            "actions": actions,
            "action_names": ACTIONS,
            "responders": service.responders(cat, a),
            "timings": service.timings(cat, a),
            "timeline": [
                {
                    "e": e,
                    "at": format_local(e.at),
                    "name": EVENT_NAMES.get(e.action, (e.action, e.action)),
                    "to": STATES[e.to_state],
                    "level": _level(e.level),
                    "unit": cat.units[e.unit].name_zh if e.unit in cat.units else "",
                }
                for e in a.events
            ],
            "readings": [
                {
                    "r": r,
                    "at": format_local(r.ts),
                    "metric": METRIC_NAMES.get(r.metric, (r.metric, r.metric)),
                }
                for r in a.readings
            ],
            "typed": typed or {},
            **display.shown_errors(
                refusal, display.labels_from(LABELS), "act" if refusal else None
            ),
        },
        status=refusal.http_status if refusal else 200,
    )


@pages.get("/monitor/alarms/{code}", response_class=HTMLResponse)
def alarm(request: Request, db: DB, scope: Scope, code: str) -> Response:
    return _alarm_page(request, db, scope, code[:32])


def _ask(cat: service.Catalogue, a: Alarm, action: str, body: StepIn) -> Ask:
    where = f"/monitor/alarms/{a.code}"
    name = cat.rule_name(a.rule)
    unit = cat.units.get(body.unit or "")
    summary = {
        "acknowledge": (
            f"将确认告警 {a.code}（{name[0]}），停止超时升级。",
            f"Alarm {a.code} will be acknowledged; escalation stops.",
        ),
        "dispatch": (
            f"将把告警 {a.code}（{name[0]}）派发给{unit.name_zh if unit else ''}，"
            "并向该单位发送处置通知，发送后不能撤回。",
            f"Alarm {a.code} will be dispatched to {unit.name_en if unit else ''}; "
            "the unit is notified and this cannot be undone.",
        ),
        "resolve": (
            f"将登记告警 {a.code} 已处置完毕，交监测值守中心关闭。",
            f"Alarm {a.code} will be marked resolved, for the centre to close.",
        ),
        "close": (
            f"将关闭告警 {a.code}（{name[0]}），关闭后不能重新打开；条件再次出现时会产生新告警。",
            f"Alarm {a.code} will be closed for good; a new alarm is raised if the condition "
            "starts again.",
        ),
    }[action]
    return Ask(
        title=(f"{ACTIONS[action][0]}？", f"{ACTIONS[action][1]}?"),
        summary=summary,
        consequences=(("审计账本记下是您的操作。", "The audit ledger records that it was you."),),
        action=f"{where}/act",
        cancel=where,
        button=ACTIONS[action],
    )


def _body(form: Any) -> StepIn:
    try:
        return StepIn(note=_text(form, "note")[:1024], unit=_text(form, "unit")[:64] or None)
    except ValidationError as exc:
        field = str(exc.errors()[0]["loc"][0]) if exc.errors() else "note"
        raise Problem(
            "validation",
            detail="填写有误",
            errors=[FieldError(field, Text("取值无效", "invalid value"))],
        ) from None


@pages.post("/monitor/alarms/{code}/act", response_class=HTMLResponse)
async def act(request: Request, db: DB, scope: Scope, code: str) -> Response:
    form = await request.form()
    action = _text(form, "action")[:16]
    typed = {"note": _text(form, "note")[:1024], "unit": _text(form, "unit")[:64]}
    cat = catalogue_of(request)
    try:
        a = service.alarm(db, scope, code[:32])
        body = _body(form)
        # Acknowledging is what the duty officer does first and fast; every later step sends a
        # message, hands the alarm over or ends it: those ask first.
        if action != "acknowledge" and not confirmed(form):
            service.check_step(cat, scope, a, action, body.note, body.unit)
            return ask_first(request, _ask(cat, a, action, body), form)
        service.take_step(db, cat, scope, code[:32], action, note=body.note, unit=body.unit)
    except Problem as exc:
        db.rollback()
        return _alarm_page(request, db, scope, code[:32], refusal=exc, typed=typed)
    return RedirectResponse(f"/monitor/alarms/{code[:32]}", status_code=303)


@pages.get("/monitor/inbox", response_class=HTMLResponse)
def inbox(request: Request, db: DB, scope: Scope, page: Page = 1) -> Response:
    cat = catalogue_of(request)
    unit = cat.units.get(scope.unit or "")
    rows, total = (
        service.inbox(db, scope.unit, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
        if scope.unit
        else ([], 0)
    )
    return render(
        request,
        "monitor_inbox.html",
        {
            "unit": unit,
            "messages": [
                {
                    "m": m,
                    "code": code,
                    "state": STATES[state],
                    "level": _level(level),
                    "at": format_local(m.created_at),
                }
                for m, code, state, level in rows
            ],
            "total": total,
            "unread": service.unread_count(db, scope.unit) if scope.unit else 0,
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
        },
    )
