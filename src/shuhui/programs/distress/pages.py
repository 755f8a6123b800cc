"""The pages of 困难企业 (under /hrss/distress): the list with reasons and figures, one
enterprise's page, the list per measure and starting a measure (asked first), and the
enterprise's own measures."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from shuhui.core import display
from shuhui.core.bounds import Page, day_in_window
from shuhui.core.clock import format_local, local_today
from shuhui.core.confirm import Ask, ask_first, confirmed
from shuhui.core.display import mask_citizen_id, yuan
from shuhui.core.errors import Problem, invalid
from shuhui.core.http import render
from shuhui.core.i18n import Text
from shuhui.core.regions import region_by_code
from shuhui.programs import service as programs
from shuhui.programs.distress import service
from shuhui.programs.distress.models import DistressFinding, DistressRun
from shuhui.programs.distress.routes import Enterprise, content_of
from shuhui.programs.routes import Officer, library_of
from shuhui.rules.explain import InputUse
from shuhui.standard import TABLES
from shuhui.trust.identity.deps import DB
from shuhui.trust.identity.models import User

pages = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
LABELS: dict[str, tuple[str, str]] = {
    "evaluated_on": ("评估日", "Evaluation date"),
    "measure": ("纾困措施", "Measure"),
    "policy": ("政策", "Policy"),
    "department": ("实施部门", "Department"),
}


def _district(code: str) -> str:
    found = region_by_code(code)
    return found.name if found else code


def _day(raw: str, field: str = "evaluated_on") -> date | None:
    if not raw:
        return None
    try:
        on = date.fromisoformat(raw[:10])
    except ValueError:
        raise invalid(field, Text("请按“年-月-日”填写日期", "YYYY-MM-DD")) from None
    day_in_window(field, on)
    return on


def _figure(name: str, value: Any) -> str:
    """A figure in plain words: money in 元, kWh and people with their unit."""
    if value is None:
        return "—"
    if name.startswith("tax_"):
        return yuan(int(value)) + " 元"
    if name.startswith("power_") and name != "power_last":
        return f"{int(value):,} 千瓦时"
    if name.startswith("staff_"):
        return f"{int(value)} 人"
    if name == "arrears_months":
        return f"{int(value)} 个月"
    if name.endswith("_last"):
        return str(value)[:7]
    return str(value)


def _change(before: Any, after: Any) -> str:
    if not isinstance(before, int | float) or not isinstance(after, int | float) or not before:
        return ""
    return f"{(after - before) / before * 100:+.0f}%"


def reason_lines(f: DistressFinding | None, figures: dict[str, Any]) -> list[dict[str, Any]]:
    """Each signal in plain words with the months compared, the values and the change."""
    shown = set(f.reasons) if f else set()
    lines = []
    for rid, (zh, en, _points) in service.REASONS.items():
        names = service.REASON_FIGURES[rid]
        pairs = [(n, _figure(n, figures.get(n))) for n in names]
        change = ""
        if rid == "headcount":
            change = _change(figures.get("staff_before"), figures.get("staff_now"))
        elif rid in ("power", "tax"):
            change = _change(figures.get(f"{rid}_before"), figures.get(f"{rid}_recent"))
        lines.append(
            {
                "id": rid,
                "zh": zh,
                "en": en,
                "held": rid in shown,
                "figures": pairs,
                "change": change,
            }
        )
    return lines


SPECS = {spec.name: spec for spec in TABLES}


def evidence(i: InputUse) -> dict[str, Any]:
    """An input's source rows with the data standard's Chinese column titles; personal values
    (an employee's ID) masked: the page is about the enterprise."""
    spec = SPECS.get(i.table or "")
    columns = {c.name: c for c in spec.columns} if spec else {}
    rows = []
    for row in i.rows:
        shown = []
        for key, value in row.items():
            column = columns.get(key)
            title = column.title if column else key
            if column is not None and column.personal and isinstance(value, str):
                value = mask_citizen_id(value)
            shown.append((title, value))
        rows.append(shown)
    return {
        "zh": i.zh,
        "value": _figure(i.name, i.value),
        "table": spec.title if spec else i.table,
        "version": i.version,
        "count": i.row_count,
        "rows": rows,
    }


def _row(f: DistressFinding) -> dict[str, Any]:
    return {
        "f": f,
        "district": _district(f.district_code),
        "reasons": [service.REASONS[r] for r in f.reasons if r in service.REASONS],
        "lines": [line for line in reason_lines(f, f.figures) if line["held"]],
    }


def _errors(failed: str | None, refusal: Problem | None) -> dict[str, Any]:
    return display.shown_errors(refusal, display.labels_from(LABELS), failed)


def _list_page(
    request: Request,
    db: Session,
    user: User,
    *,
    on: date | None = None,
    district: str = "",
    industry: str = "",
    measure_code: str = "",
    page: int = 1,
    failed: str | None = None,
    refusal: Problem | None = None,
) -> Response:
    programs.require_department(library_of(request).rule(service.RULE), user.department)
    content = content_of(request)
    all_measures = service.measures(content)
    r: DistressRun | None = service.latest_run(db) if on is None else None
    if on is not None:
        r = service.run_on(db, on)
    rows: list[DistressFinding] = []
    total = 0
    districts: list[str] = []
    industries: list[str] = []
    chart = {"names": [zh for zh, _, _ in service.REASONS.values()], "counts": [0, 0, 0, 0]}
    if r is not None:
        m = all_measures.get(measure_code) if measure_code else None
        rows, total = service.findings(
            db,
            r,
            district=district or None,
            industry=industry or None,
            measure_of=m,
            offset=(max(1, page) - 1) * PAGE_SIZE,
            limit=PAGE_SIZE,
        )
        districts, industries = service.facets(db, r)
        everyone, _ = service.findings(db, r, limit=10**9)
        chart["counts"] = [sum(1 for f in everyone if rid in f.reasons) for rid in service.REASONS]
    return render(
        request,
        "distress_list.html",
        {
            "run": r,
            "runs": service.runs(db)[:12],
            "run_at": format_local(r.created_at) if r else "",
            "rows": [_row(f) for f in rows],
            "total": total,
            "page": max(1, page),
            "pages": max(1, -(-total // PAGE_SIZE)),
            "districts": [(d, _district(d)) for d in districts],
            "industries": industries,
            "measures": all_measures,
            "chosen": {"district": district, "industry": industry, "measure": measure_code},
            "today": local_today().isoformat(),
            "chart": chart,
            **_errors(failed, refusal),
        },
        status=refusal.http_status if refusal else 200,
    )


@pages.get("/hrss/distress", response_class=HTMLResponse)
def listing(
    request: Request,
    db: DB,
    user: Officer,
    date: str = "",
    district: str = "",
    industry: str = "",
    measure: str = "",
    page: Page = 1,
) -> Response:
    return _list_page(
        request,
        db,
        user,
        on=_day(date[:10], "date"),
        district=district[:6],
        industry=industry[:128],
        measure_code=measure[:64],
        page=page,
    )


@pages.post("/hrss/distress/runs", response_class=HTMLResponse)
async def run(request: Request, db: DB, user: Officer) -> Response:
    form = await request.form()
    raw = form.get("evaluated_on")
    try:
        programs.require_department(library_of(request).rule(service.RULE), user.department)
        on = _day(raw if isinstance(raw, str) else "")
        outcome = service.run(db, library_of(request), on, actor=user.username)
    except Problem as exc:
        db.rollback()
        return _list_page(request, db, user, failed="run", refusal=exc)
    again = "" if outcome.created else "&already=1"
    return RedirectResponse(
        f"/hrss/distress?date={outcome.run.evaluated_on.isoformat()}{again}", status_code=303
    )


@pages.get("/hrss/distress/enterprises/{credit_code}", response_class=HTMLResponse)
def enterprise(
    request: Request, db: DB, user: Officer, credit_code: str, date: str = ""
) -> Response:
    programs.require_department(library_of(request).rule(service.RULE), user.department)
    code = credit_code[:18]
    r = service.run_on(db, _day(date[:10], "date"))
    e = service.explain_enterprise(db, library_of(request), r, code, actor=user.username)
    f = service.finding(db, r, code)
    figures = {i.name: i.value for i in e.inputs}
    content = content_of(request)
    st = service.states(db, r, [code], content)[code]
    return render(
        request,
        "distress_enterprise.html",
        {
            "run": r,
            "code": code,
            "f": f,
            "score": int(e.amount) if e.amount is not None else None,
            "lines": reason_lines(f, figures) if f else reason_lines(None, figures),
            "held": set(f.reasons) if f else set(),
            "e": e,
            "inputs": [evidence(i) for i in e.inputs if i.rows],
            "parameters": e.parameters,
            "measures": [(m, st[m.code]) for m in service.measures(content).values()],
        },
    )


def _measure_page(
    request: Request,
    db: Session,
    user: User,
    measure_code: str,
    *,
    on: date | None = None,
    failed: str | None = None,
    refusal: Problem | None = None,
) -> Response:
    programs.require_department(library_of(request).rule(service.RULE), user.department)
    content = content_of(request)
    m = service.measure(content, measure_code)
    r = service.run_on(db, on)
    rows, total = service.findings(db, r, measure_of=m, limit=10**9)
    st = service.states(db, r, [f.credit_code for f in rows], content)
    return render(
        request,
        "distress_measure.html",
        {
            "m": m,
            "run": r,
            "rows": [{**_row(f), "state": st[f.credit_code][m.code]} for f in rows],
            "total": total,
            "waiting": len(service.suited(db, r, m)),
            "policies": [library_of(request).rule(p) for p in m.policies],
            **_errors(failed, refusal),
        },
        status=refusal.http_status if refusal else 200,
    )


@pages.get("/hrss/distress/measures/{measure}", response_class=HTMLResponse)
def measure_page(request: Request, db: DB, user: Officer, measure: str, date: str = "") -> Response:
    return _measure_page(request, db, user, measure[:64], on=_day(date[:10], "date"))


@pages.post("/hrss/distress/measures/{measure}/start", response_class=HTMLResponse)
async def start(request: Request, db: DB, user: Officer, measure: str) -> Response:
    form = await request.form()
    raw_date, raw_policy = form.get("evaluated_on"), form.get("policy")
    policy = raw_policy if isinstance(raw_policy, str) and raw_policy else None
    code = measure[:64]
    try:
        on = _day(raw_date if isinstance(raw_date, str) else "")
        r = service.run_on(db, on)
        m = service.measure(content_of(request), code)
        if not confirmed(form):
            n = len(service.suited(db, r, m))
            if n == 0:
                raise Problem("conflict", detail=f"适合“{m.name_zh}”的困难企业都已启动")
            how = (
                (
                    f"将开展“{policy or m.policies[0]}”的政策找人，"
                    "候选限于这些企业（或其在职职工），确认后才推送；",
                    "the policy's campaign runs, limited to them; ",
                )
                if m.policies
                else ("将记录为已安排对接，企业在工作台看到；", "recorded as arranged; ")
            )
            return ask_first(
                request,
                Ask(
                    title=(f"启动“{m.name_zh}”？", f"Start {m.name_en}?"),
                    summary=(
                        f"将对 {n} 家困难企业启动“{m.name_zh}”（{r.evaluated_on} 的识别结果）。",
                        f"{m.name_en} starts for {n} enterprises in difficulty.",
                    ),
                    consequences=(
                        how,
                        ("审计账本逐家记下是您启动的。", "the ledger records it per enterprise."),
                    ),
                    action=f"/hrss/distress/measures/{code}/start",
                    cancel=f"/hrss/distress/measures/{code}",
                    button=("确认启动", "Start"),
                    count=n,
                ),
                form,
            )
        s = service.start_measure(
            db,
            library_of(request),
            content_of(request),
            r,
            code,
            policy=policy,
            actor=user.username,
            department=user.department,
        )
    except Problem as exc:
        db.rollback()
        return _measure_page(request, db, user, code, failed="start", refusal=exc)
    if s.campaign:
        return RedirectResponse(f"/hrss/campaigns/{s.campaign}", status_code=303)
    return RedirectResponse(f"/hrss/distress/measures/{code}?started={s.enterprises}", 303)


@pages.get("/hrss/distress/mine", response_class=HTMLResponse)
def mine(request: Request, db: DB, user: Enterprise) -> Response:
    content = content_of(request)
    known = service.measures(content)
    rows = [
        {"row": m, "measure": known.get(m.measure), "at": format_local(m.started_at)}
        for m in service.offered_to(db, user.credit_code)
    ]
    return render(request, "distress_mine.html", {"rows": rows})
