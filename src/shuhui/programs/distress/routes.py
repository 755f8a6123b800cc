"""Struggling enterprises over HTTP (``/api/v1/programs/distress/…``): runs, the list, one
enterprise's reasons, the measures and starting them; an enterprise's own measures."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse

from shuhui.core.bounds import Day, Offset
from shuhui.programs import service as programs
from shuhui.programs.distress import service
from shuhui.programs.distress.models import DistressFinding, DistressMeasure, DistressRun
from shuhui.programs.distress.schemas import RunIn, StartIn
from shuhui.programs.routes import Officer, library_of
from shuhui.trust.identity.deps import DB, require_role
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role

api = APIRouter(prefix="/api/v1/programs/distress", tags=["struggling enterprises (困难企业)"])
Enterprise = Annotated[User, Depends(require_role(Role.enterprise))]


def content_of(request: Request) -> Any:
    return request.app.state.settings.city_content


def run_out(r: DistressRun) -> dict[str, Any]:
    return {
        "evaluated_on": r.evaluated_on.isoformat(),
        "rule": r.rule,
        "counts": r.counts,
        "found": r.found,
        "versions": r.versions,
        "ms": r.ms,
        "created_by": r.created_by,
        "created_at": r.created_at.isoformat(),
    }


def finding_out(f: DistressFinding) -> dict[str, Any]:
    return {
        "credit_code": f.credit_code,
        "name": f.name,
        "district_code": f.district_code,
        "industry": f.industry,
        "score": f.score,
        "reasons": f.reasons,
        "figures": f.figures,
    }


def measure_row_out(m: DistressMeasure) -> dict[str, Any]:
    return {
        "measure": m.measure,
        "credit_code": m.credit_code,
        "policy": m.policy,
        "campaign": m.campaign,
        "started_at": m.started_at.isoformat(),
    }


def _check_department(request: Request, user: User) -> None:
    # The score is its rule's department's program: others see no enterprise's signals.
    programs.require_department(library_of(request).rule(service.RULE), user.department)


@api.post(
    "/runs",
    status_code=201,
    summary="Score every enterprise on a date (once per date)",
    responses={200: {"description": "The date was run already: that run, nothing written"}},
)
def run(body: RunIn, request: Request, db: DB, user: Officer) -> JSONResponse:
    _check_department(request, user)
    outcome = service.run(db, library_of(request), body.evaluated_on, actor=user.username)
    payload = {**run_out(outcome.run), "already_run": not outcome.created}
    return JSONResponse(payload, status_code=201 if outcome.created else 200)


@api.get("/runs", summary="The runs, latest first")
def runs(request: Request, db: DB, user: Officer) -> list[dict[str, Any]]:
    _check_department(request, user)
    return [run_out(r) for r in service.runs(db)]


@api.get("/enterprises", summary="The struggling enterprises of a run (default: the latest)")
def enterprises(
    request: Request,
    db: DB,
    user: Officer,
    evaluated_on: Day | None = None,
    district: Annotated[str | None, Query(max_length=6)] = None,
    industry: Annotated[str | None, Query(max_length=128)] = None,
    measure: Annotated[str | None, Query(max_length=64)] = None,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    _check_department(request, user)
    r = service.run_on(db, evaluated_on)
    m = service.measure(content_of(request), measure) if measure else None
    rows, total = service.findings(
        db, r, district=district, industry=industry, measure_of=m, offset=offset, limit=limit
    )
    return {"run": run_out(r), "total": total, "items": [finding_out(f) for f in rows]}


@api.get("/enterprises/{credit_code}", summary="Why an enterprise is (or is not) struggling")
def enterprise(
    request: Request,
    db: DB,
    user: Officer,
    credit_code: Annotated[str, Path(min_length=1, max_length=18)],
    evaluated_on: Day | None = None,
) -> dict[str, Any]:
    _check_department(request, user)
    r = service.run_on(db, evaluated_on)
    e = service.explain_enterprise(db, library_of(request), r, credit_code, actor=user.username)
    f = service.finding(db, r, credit_code)
    st = service.states(db, r, [credit_code], content_of(request))[credit_code]
    return {
        "run": run_out(r),
        "struggling": f is not None,
        "finding": finding_out(f) if f else None,
        "explanation": e.as_dict(),
        "measures": {
            k: {"started": s.started, "state": s.state_zh, "campaign": s.campaign}
            for k, s in st.items()
        },
    }


@api.get("/measures", summary="The five measures: the signals each suits, its policies")
def measures(request: Request, user: Officer) -> list[dict[str, Any]]:
    return [
        {
            "code": m.code,
            "name": {"zh": m.name_zh, "en": m.name_en},
            "department": m.department,
            "policies": list(m.policies),
            "reasons": list(m.reasons),
            "reference": m.reference,
            "summary": m.summary,
        }
        for m in service.measures(content_of(request)).values()
    ]


@api.post(
    "/measures/{measure}/start",
    status_code=201,
    summary="Start a measure for the struggling enterprises it suits (its policy's campaign)",
)
def start(measure: str, body: StartIn, request: Request, db: DB, user: Officer) -> dict[str, Any]:
    _check_department(request, user)
    r = service.run_on(db, body.evaluated_on)
    s = service.start_measure(
        db,
        library_of(request),
        content_of(request),
        r,
        measure[:64],
        policy=body.policy,
        actor=user.username,
        department=user.department,
        scope=body.scope,
        limit=body.limit,
    )
    return {
        "measure": s.measure.code,
        "policy": s.policy,
        "campaign": s.campaign,
        "enterprises": s.enterprises,
        "evaluated_on": r.evaluated_on.isoformat(),
    }


@api.get("/mine", summary="The measures started for the enterprise logged in")
def mine(db: DB, user: Enterprise) -> list[dict[str, Any]]:
    return [measure_row_out(m) for m in service.offered_to(db, user.credit_code)]
