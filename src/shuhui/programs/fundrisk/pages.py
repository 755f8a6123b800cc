"""The pages of the fund-risk checks (基金监管, under /hrss/fundrisk): the alert queue by chain
with its chart and filters, one alert with the rows it rests on, its history and its actions.
Thin: every step goes through ``service`` and the API's schemas."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from shuhui.core import display
from shuhui.core.bounds import Page
from shuhui.core.clock import format_local, local_today
from shuhui.core.confirm import Ask, ask_first, confirmed
from shuhui.core.display import mask_citizen_id, yuan
from shuhui.core.errors import FieldError, Problem, invalid
from shuhui.core.http import render
from shuhui.core.i18n import Text
from shuhui.core.money import MoneyError, parse_yuan
from shuhui.programs.fundrisk import service
from shuhui.programs.fundrisk.models import ALERT_STATES, CHAINS, SEVERITIES, Alert
from shuhui.programs.fundrisk.routes import Supervisor
from shuhui.programs.fundrisk.schemas import ActionIn
from shuhui.programs.pages import explanation_view
from shuhui.programs.routes import library_of
from shuhui.trust.identity.deps import DB
from shuhui.trust.identity.models import User

pages = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
LABELS: dict[str, tuple[str, str]] = {
    "date": ("检测日期", "Detection date"),
    "action": ("操作", "Action"),
    "reason": ("理由", "Reason"),
    "amount_fen": ("追回金额", "Amount recovered"),
    "amount": ("追回金额", "Amount recovered"),
    "chain": ("风险链条", "Chain"),
    "state": ("状态", "State"),
}


def _shown_errors(failed: str | None, refusal: Problem | None) -> dict[str, Any]:
    return display.shown_errors(refusal, display.labels_from(LABELS), failed)


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def alert_view(a: Alert) -> dict[str, Any]:
    return {
        "row": a,
        "chain": CHAINS[a.chain],
        "severity": SEVERITIES[a.severity],
        "state": ALERT_STATES[a.state],
        "amount": yuan(a.amount_fen),
        "recovered": yuan(a.recovered_fen),
        "whose": mask_citizen_id(a.citizen_id) if a.citizen_id else "",
        "at": format_local(a.created_at),
    }


def _queue(
    request: Request,
    db: Session,
    *,
    chain: str = "",
    state: str = "",
    rule: str = "",
    page: int = 1,
    failed: str | None = None,
    refusal: Problem | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    settings = request.app.state.settings
    names = service.detector_names(settings)
    chosen = {
        "chain": chain if chain in CHAINS else "",
        "state": state if state in ALERT_STATES else "",
        "rule": rule if rule in names else "",
    }
    rows, total = service.alerts(
        db,
        chain=chosen["chain"] or None,
        state=chosen["state"] or None,
        rule=chosen["rule"] or None,
        offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    board = service.board(db)
    money = service.money(db)
    return render(
        request,
        "fundrisk_queue.html",
        {
            "alerts": [alert_view(a) for a in rows],
            "total": total,
            "board": board,
            "chains": CHAINS,
            "states": ALERT_STATES,
            "detectors": names,
            "chosen": chosen,
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "to_recover": yuan(money["to_recover_fen"]),
            "recovered": yuan(money["recovered_fen"]),
            "chart": {
                "chains": [CHAINS[c][0] for c in CHAINS],
                "chains_en": [CHAINS[c][1] for c in CHAINS],
                "states": [ALERT_STATES[s][0] for s in ALERT_STATES],
                "states_en": [ALERT_STATES[s][1] for s in ALERT_STATES],
                "counts": [[board[c][s] for c in CHAINS] for s in ALERT_STATES],
            },
            "runs": [{"run": r, "at": format_local(r.updated_at)} for r in service.runs(db, 5)],
            "today": local_today().isoformat(),
            "typed": typed or {},
            **_shown_errors(failed, refusal),
        },
        status=refusal.http_status if refusal else 200,
    )


@pages.get("/hrss/fundrisk", response_class=HTMLResponse)
def queue(
    request: Request,
    db: DB,
    user: Supervisor,
    chain: str = "",
    state: str = "",
    rule: str = "",
    page: Page = 1,
) -> Response:
    return _queue(request, db, chain=chain[:16], state=state[:16], rule=rule[:64], page=page)


@pages.post("/hrss/fundrisk/detect", response_class=HTMLResponse)
async def detect(request: Request, db: DB, user: Supervisor) -> Response:
    form = await request.form()
    typed = {"date": _text(form, "date").strip()}
    try:
        try:
            on = date.fromisoformat(typed["date"][:10]) if typed["date"] else local_today()
        except ValueError:
            raise invalid("date", Text("请按“年-月-日”填写日期", "YYYY-MM-DD")) from None
        summary = service.detect(
            db, request.app.state.settings, library_of(request), on, actor=user.username
        )
    except Problem as exc:
        db.rollback()
        return _queue(request, db, failed="detect", refusal=exc, typed=typed)
    new = sum(c["new"] for c in summary.counts.values())
    again = "&repeated=1" if summary.repeated else ""
    return RedirectResponse(f"/hrss/fundrisk?opened={new}{again}", status_code=303)


def _alert_page(
    request: Request,
    db: Session,
    code: str,
    user: User,
    *,
    failed: str | None = None,
    refusal: Problem | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    a = service.alert(db, code)
    library = library_of(request)
    rule = library.rule(a.rule)
    # Reading the rows behind the finding is reading the person's data: a ledger entry.
    found = service.explain_alert(db, library, a, actor=user.username)
    now_versions = {t: v for t, v in library.versions().items() if t in a.versions}
    return render(
        request,
        "fundrisk_alert.html",
        {
            "a": alert_view(a),
            "rule": rule,
            "e": explanation_view(found),
            "actions": service.allowed_actions(a),
            "action_names": service.ACTIONS,
            "states": ALERT_STATES,
            "left": yuan(None if a.amount_fen is None else a.amount_fen - a.recovered_fen),
            "changed": {t: v for t, v in now_versions.items() if v != a.versions.get(t)},
            "history": [
                {
                    "e": e,
                    "at": format_local(e.at),
                    "to": ALERT_STATES[e.to_state],
                    "amount": yuan(e.amount_fen) if e.amount_fen is not None else "",
                }
                for e in a.events
            ],
            "typed": typed or {},
            **_shown_errors(failed, refusal),
        },
        status=refusal.http_status if refusal else 200,
    )


@pages.get("/hrss/fundrisk/alerts/{code}", response_class=HTMLResponse)
def alert(request: Request, db: DB, user: Supervisor, code: str) -> Response:
    return _alert_page(request, db, code[:32], user)


def _ask(a: Alert, body: ActionIn) -> Ask:
    name = service.ACTIONS[body.action]
    where = f"/hrss/fundrisk/alerts/{a.code}"
    summary = {
        "check": (
            f"将开始核查疑点 {a.code}（{a.name}），状态改为“核查中”。",
            f"Alert {a.code} will be marked as being checked.",
        ),
        "confirm": (
            f"将确认疑点 {a.code} 属实（{a.name}），应追回 {yuan(a.amount_fen)} 元，之后进入追回。",
            f"Alert {a.code} will be confirmed; {yuan(a.amount_fen)} yuan to recover.",
        ),
        "dismiss": (
            f"将排除疑点 {a.code}，理由“{body.reason.strip()}”，排除后不能恢复。",
            f"Alert {a.code} will be dismissed for the reason given; this cannot be undone.",
        ),
        "recover": (
            f"将登记疑点 {a.code} 追回 {yuan(body.amount_fen)} 元"
            f"（应追回 {yuan(a.amount_fen)} 元，已追回 {yuan(a.recovered_fen)} 元）。",
            f"{yuan(body.amount_fen)} yuan will be recorded as recovered for {a.code}.",
        ),
    }[body.action]
    return Ask(
        title=(f"{name[0]}？", f"{name[1]}?"),
        summary=summary,
        consequences=(("审计账本记下是您的操作。", "The audit ledger records that it was you."),),
        action=f"{where}/act",
        cancel=where,
        button=name,
    )


def _body(form: Any) -> ActionIn:
    """The form read into the API's schema; a bad amount named by its field."""
    amount_text = _text(form, "amount").strip()
    try:
        amount = parse_yuan(amount_text) if amount_text else None
    except MoneyError as exc:
        raise invalid("amount", str(exc), detail="追回金额填写有误") from None
    try:
        return ActionIn(
            action=_text(form, "action"),
            reason=_text(form, "reason")[:1024],
            amount_fen=amount,
        )
    except ValidationError as exc:
        field = str(exc.errors()[0]["loc"][0]) if exc.errors() else "action"
        raise Problem(
            "validation",
            detail="填写有误",
            errors=[FieldError(field, Text("取值无效", "invalid value"))],
        ) from None


@pages.post("/hrss/fundrisk/alerts/{code}/act", response_class=HTMLResponse)
async def act(request: Request, db: DB, user: Supervisor, code: str) -> Response:
    form = await request.form()
    typed = {"reason": _text(form, "reason"), "amount": _text(form, "amount")}
    try:
        a = service.alert(db, code[:32])
        body = _body(form)
        if not confirmed(form):
            # Checked before asking, so the question is never put for a step that would fail.
            service.check_action(a, body.action, reason=body.reason, amount_fen=body.amount_fen)
            return ask_first(request, _ask(a, body), form)
        service.act(
            db, a, body.action, actor=user.username, reason=body.reason, amount_fen=body.amount_fen
        )
    except Problem as exc:
        db.rollback()
        return _alert_page(request, db, code[:32], user, failed="act", refusal=exc, typed=typed)
    return RedirectResponse(f"/hrss/fundrisk/alerts/{code[:32]}", status_code=303)
