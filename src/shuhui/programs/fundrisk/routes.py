"""Fund-risk checks over HTTP (``/api/v1/fundrisk/…``): run a detection, the alert queue, an
alert with its evidence, and the lifecycle's steps. The HRSS bureau's officers only."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request

from shuhui.core.bounds import Offset
from shuhui.core.clock import local_today
from shuhui.programs.fundrisk import service
from shuhui.programs.fundrisk.models import ALERT_STATES, CHAINS, SEVERITIES, Alert
from shuhui.programs.fundrisk.schemas import ActionIn, DetectIn
from shuhui.programs.routes import explanation_out, library_of
from shuhui.trust.identity.deps import DB, require_role
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role

api = APIRouter(prefix="/api/v1/fundrisk", tags=["fund-risk checks (基金监管)"])


def _supervisor(user: Annotated[User, Depends(require_role(Role.officer))]) -> User:
    service.require_department(user.department)
    return user


Supervisor = Annotated[User, Depends(_supervisor)]


def alert_out(a: Alert) -> dict[str, Any]:
    return {
        "code": a.code,
        "rule": a.rule,
        "name": a.name,
        "chain": a.chain,
        "chain_zh": CHAINS[a.chain][0],
        "severity": a.severity,
        "severity_zh": SEVERITIES[a.severity][0],
        "entity": a.entity,
        "subject": a.subject,
        "evaluated_on": a.evaluated_on.isoformat(),
        "versions": a.versions,
        "amount_fen": a.amount_fen,
        "recovered_fen": a.recovered_fen,
        "state": a.state,
        "state_zh": ALERT_STATES[a.state][0],
        "reason": a.reason,
        "actions": service.allowed_actions(a),
        "created_at": a.created_at.isoformat(),
        "updated_at": a.updated_at.isoformat(),
        "history": [
            {
                "action": e.action,
                "from": e.from_state,
                "to": e.to_state,
                "amount_fen": e.amount_fen,
                "note": e.note,
                "actor": e.actor,
                "at": e.at.isoformat(),
            }
            for e in a.events
        ],
    }


@api.post("/detections", status_code=201, summary="Run every detector on a date (idempotent)")
def detect(body: DetectIn, request: Request, db: DB, user: Supervisor) -> dict[str, Any]:
    summary = service.detect(
        db,
        request.app.state.settings,
        library_of(request),
        body.date or local_today(),
        actor=user.username,
    )
    return summary.as_json()


@api.get("/alerts", summary="The alert queue, by chain, state and detector")
def alerts(
    db: DB,
    user: Supervisor,
    chain: Literal["policy", "funds", "business", "information"] | None = None,
    state: Literal["new", "checking", "confirmed", "dismissed", "recovering", "recovered"]
    | None = None,
    rule: Annotated[str | None, Query(max_length=64)] = None,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    rows, total = service.alerts(
        db, chain=chain, state=state, rule=rule, offset=offset, limit=limit
    )
    return {
        "total": total,
        "board": service.board(db),
        **service.money(db),
        "items": [alert_out(a) for a in rows],
    }


@api.get("/alerts/{code}", summary="An alert and its lifecycle")
def alert(code: str, db: DB, user: Supervisor) -> dict[str, Any]:
    return alert_out(service.alert(db, code[:32]))


@api.get(
    "/alerts/{code}/evidence",
    summary="The rows the finding rests on (rules.explain at the alert's date); a ledger entry",
)
def evidence(code: str, request: Request, db: DB, user: Supervisor) -> dict[str, Any]:
    a = service.alert(db, code[:32])
    return explanation_out(service.explain_alert(db, library_of(request), a, actor=user.username))


@api.post("/alerts/{code}/actions", summary="One step of the lifecycle (409 if not allowed now)")
def act(code: str, body: ActionIn, db: DB, user: Supervisor) -> dict[str, Any]:
    a = service.alert(db, code[:32])
    done = service.act(
        db, a, body.action, actor=user.username, reason=body.reason, amount_fen=body.amount_fen
    )
    return alert_out(done)
