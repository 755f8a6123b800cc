"""Alarms over HTTP (``/api/v1/monitor/alarms``, ``/api/v1/monitor/inbox``): the queue, one
alarm, each step, a unit's inbox. The centre's officers and admins; a unit's officers their own."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request

from shuhui.core.bounds import Offset
from shuhui.core.clock import utcnow
from shuhui.monitor.alarms import service
from shuhui.monitor.alarms.lifecycle import EVENT_NAMES, allowed_actions
from shuhui.monitor.alarms.models import STATES, Alarm
from shuhui.monitor.alarms.rules import LEVEL_NAMES
from shuhui.monitor.alarms.schemas import DispatchIn, StepIn
from shuhui.trust.identity.deps import DB, require_role
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role

api = APIRouter(prefix="/api/v1/monitor", tags=["monitor alarms (监测告警)"])

Code = Annotated[str, Path(max_length=32, pattern=r"^[A-Za-z0-9-]{1,32}$")]


def catalogue_of(request: Request) -> service.Catalogue:
    return service.catalogue(request.app.state.settings)


def _scope(
    request: Request, user: Annotated[User, Depends(require_role(Role.officer, Role.admin))]
) -> service.Scope:
    return service.scope_of(user, catalogue_of(request))


Scope = Annotated[service.Scope, Depends(_scope)]


def _at(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def alarm_out(cat: service.Catalogue, a: Alarm, *, full: bool = False) -> dict[str, Any]:
    name = cat.rule_name(a.rule)
    out: dict[str, Any] = {
        "code": a.code,
        "rule": a.rule,
        "rule_zh": name[0],
        "kind": a.kind,
        "scenario": a.scenario,
        "source": a.source,
        "device": a.device,
        "site": a.site,
        "district": a.district,
        "level": a.level,
        "level_zh": LEVEL_NAMES[a.level][0],
        "colour": LEVEL_NAMES[a.level][2],
        "raised_level": a.raised_level,
        "state": a.state,
        "state_zh": STATES[a.state][0],
        "unit": a.unit,
        "raised_at": _at(a.raised_at),
        "acknowledged_at": _at(a.acknowledged_at),
        "dispatched_at": _at(a.dispatched_at),
        "resolved_at": _at(a.resolved_at),
        "closed_at": _at(a.closed_at),
        "cleared_at": _at(a.cleared_at),
    }
    if full:
        out["actions"] = allowed_actions(a)
        out["timings"] = [
            {
                "step": t.step,
                "minutes": t.minutes,
                "target": t.target,
                "done": t.done,
                "overdue": t.overdue,
            }
            for t in service.timings(cat, a)
        ]
        out["timeline"] = [
            {
                "action": e.action,
                "action_zh": EVENT_NAMES[e.action][0],
                "from": e.from_state,
                "to": e.to_state,
                "level": e.level,
                "unit": e.unit,
                "note": e.note,
                "actor": e.actor,
                "at": _at(e.at),
            }
            for e in a.events
        ]
        out["readings"] = [
            {"device": r.device, "metric": r.metric, "ts": _at(r.ts), "value": r.value}
            for r in a.readings
        ]
    return out


@api.get("/alarms", summary="The alarm queue: most severe, then longest waiting, first")
def alarms(
    request: Request,
    db: DB,
    scope: Scope,
    state: Literal["raised", "acknowledged", "dispatched", "resolved", "closed"] | None = None,
    level: Annotated[int | None, Query(ge=1, le=4)] = None,
    scenario: Literal["high_rise", "forest", "hazchem"] | None = None,
    open: bool = False,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    cat = catalogue_of(request)
    rows, total = service.alarms(
        db,
        scope,
        state=state,
        level=level,
        scenario=scenario,
        open_only=open,
        offset=offset,
        limit=limit,
    )
    return {
        "total": total,
        "board": {str(k): v for k, v in service.board(db, scope).items()},
        "items": [alarm_out(cat, a) for a in rows],
    }


@api.get("/alarms/{code}", summary="An alarm: its timeline, the readings that raised it, times")
def alarm(code: Code, request: Request, db: DB, scope: Scope) -> dict[str, Any]:
    return alarm_out(catalogue_of(request), service.alarm(db, scope, code), full=True)


def _step(
    request: Request, db: DB, scope: service.Scope, code: str, action: str, body: StepIn
) -> dict[str, Any]:
    cat = catalogue_of(request)
    done = service.take_step(
        db, cat, scope, code, action, note=body.note, unit=body.unit, now=utcnow()
    )
    return alarm_out(cat, done, full=True)


@api.post("/alarms/{code}/acknowledge", summary="Acknowledge (409 unless raised)")
def acknowledge(code: Code, body: StepIn, request: Request, db: DB, scope: Scope) -> dict[str, Any]:
    return _step(request, db, scope, code, "acknowledge", body)


@api.post(
    "/alarms/{code}/dispatch", summary="Dispatch to a responder unit (409 unless acknowledged)"
)
def dispatch(
    code: Code, body: DispatchIn, request: Request, db: DB, scope: Scope
) -> dict[str, Any]:
    return _step(request, db, scope, code, "dispatch", body)


@api.post("/alarms/{code}/resolve", summary="Mark resolved (409 unless dispatched)")
def resolve(code: Code, body: StepIn, request: Request, db: DB, scope: Scope) -> dict[str, Any]:
    return _step(request, db, scope, code, "resolve", body)


@api.post("/alarms/{code}/close", summary="Close (a note unless resolved; 409 once dispatched)")
def close(code: Code, body: StepIn, request: Request, db: DB, scope: Scope) -> dict[str, Any]:
    return _step(request, db, scope, code, "close", body)


@api.get("/inbox", summary="A responder unit's inbox: the alarms dispatched to it")
def inbox(
    request: Request,
    db: DB,
    scope: Scope,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    if scope.unit is None:
        return {"unit": None, "total": 0, "unread": 0, "items": []}
    rows, total = service.inbox(db, scope.unit, offset=offset, limit=limit)
    return {
        "unit": scope.unit,
        "total": total,
        "unread": service.unread_count(db, scope.unit),
        "items": [
            {
                "id": m.id,
                "alarm": code,
                "state": state,
                "level": level,
                "title": m.title,
                "body": m.body,
                "created_at": _at(m.created_at),
                "read_at": _at(m.read_at),
            }
            for m, code, state, level in rows
        ],
    }
