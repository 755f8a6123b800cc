"""The digital-level assessment over HTTP: the API (``/api/v1/enterprise/assessment``: the
pre-filled questionnaire, answers submitted, the history, one result) and the pages
(``/enterprise/assessment``: the form with each pre-filled answer marked and its source, the
result with the level, the dimensions as a radar chart and a table, and the gaps). The form
works without scripts; a script only draws the chart. The work is in ``assessment``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from shuhui.approval.lookups import Lookups, lookups_for
from shuhui.core.errors import Problem
from shuhui.core.forms import validate
from shuhui.core.http import render
from shuhui.enterprise import assessment
from shuhui.enterprise.access import EnterpriseUser, content_of, credit_code_of
from shuhui.enterprise.assessment_content import Questionnaire, edition
from shuhui.enterprise.assessment_schemas import (
    CODE_PATTERN,
    AnswerOut,
    AssessmentIn,
    AssessmentOut,
    DimensionOut,
    DimensionScoreOut,
    EditionOut,
    GapOut,
    HistoryOut,
    LevelOut,
    OptionOut,
    QuestionnaireOut,
    QuestionOut,
    SourceOut,
    SummaryOut,
)
from shuhui.enterprise.models import Assessment
from shuhui.enterprise.platforms import PlatformCatalogue
from shuhui.enterprise.platforms import load as load_platforms
from shuhui.trust.identity.deps import DB
from shuhui.trust.identity.models import User

api = APIRouter(
    prefix="/api/v1/enterprise/assessment", tags=["digital-level assessment (数字化水平评测)"]
)
pages = APIRouter(include_in_schema=False)
Code = Annotated[str, Path(min_length=1, max_length=32, pattern=CODE_PATTERN)]


def lookups_of(request: Request) -> Lookups:
    return lookups_for(request.app.state.datacore)


def catalogue_of(request: Request) -> PlatformCatalogue | None:
    """The platforms' solutions; a city without platforms.yaml suggests none."""
    content = content_of(request)
    if not (content / "enterprise" / "platforms.yaml").exists():
        return None
    return load_platforms(content)


def _prefill(request: Request, db: Session, user: User) -> assessment.Prefill:
    content = content_of(request)
    return assessment.prefill(
        db,
        lookups_of(request),
        assessment.questionnaire_for(content),
        credit_code_of(user),
        catalogue=catalogue_of(request),
    )


# --- what the API gives ---------------------------------------------------------------------


def _points(tenths: int) -> float:
    return tenths / 10


def source_out(source: assessment.Source | None) -> SourceOut | None:
    if source is None:
        return None
    return SourceOut(
        kind=source.kind,
        text=source.text,
        tables=dict(source.tables),
        assessment=source.assessment,
    )


def summary_out(q: Questionnaire | None, row: Assessment) -> SummaryOut:
    return SummaryOut(
        code=row.code,
        edition=row.edition,
        score=_points(row.score),
        level=row.level,
        level_name=assessment.level_name(q, row.level),
        submitted_at=row.submitted_at,
    )


def edition_out(q: Questionnaire) -> EditionOut:
    return EditionOut(
        code=q.code,
        edition=q.edition,
        name=q.name,
        document=q.document,
        number=q.number,
        issuer=q.issuer,
        issued=q.issued,
        reference=q.reference,
        unverified=list(q.unverified),
        levels=[
            LevelOut(
                level=lv.level, name=lv.name, min_score=_points(lv.min), description=lv.description
            )
            for lv in q.levels
        ],
    )


def questionnaire_out(request: Request, pre: assessment.Prefill) -> QuestionnaireOut:
    q = pre.questionnaire
    asked = {x.code for x in pre.asked}
    latest = pre.latest
    return QuestionnaireOut(
        edition=edition_out(q),
        dimensions=[
            DimensionOut(code=d.code, name=d.name, weight=d.weight, judged_by=d.judged_by)
            for d in q.dimensions
        ],
        questions=[
            QuestionOut(
                code=x.code,
                dimension=x.dimension,
                title=x.title,
                help=x.help,
                options=[
                    OptionOut(code=o.code, label=o.label, score=_points(o.points), level=o.level)
                    for o in x.options
                ],
                applies_when=(
                    {x.applies.question: sorted(x.applies.options)} if x.applies else None
                ),
                applicable=x.code in asked,
                prefilled=pre.offers[x.code].option if x.code in pre.offers else None,
                source=source_out(pre.offers[x.code].source) if x.code in pre.offers else None,
            )
            for x in q.questions
        ],
        prefilled=pre.filled,
        asked=len(asked),
        latest=(
            summary_out(edition(content_of(request), latest.edition), latest) if latest else None
        ),
    )


def assessment_out(request: Request, row: Assessment) -> AssessmentOut:
    view = assessment.result_view(content_of(request), row)
    return AssessmentOut(
        code=row.code,
        edition=row.edition,
        score=_points(row.score),
        level=row.level,
        level_name=view.level_name,
        level_description=view.level.description if view.level else "",
        dimensions=[
            DimensionScoreOut(code=d.code, name=d.name, weight=d.weight, rate=_points(d.rate))
            for d in view.dimensions
        ],
        answers=[
            AnswerOut(
                question=a.question.code,
                title=a.question.title,
                option=a.option.code if a.option else "",
                label=a.option.label if a.option else "",
                prefilled=a.offered,
                kept=a.kept,
                source=source_out(a.source),
            )
            for a in view.answers
        ],
        gaps=[
            GapOut(
                kind=str(g.get("kind", "")),
                text=str(g.get("text", "")),
                dimension=g.get("dimension"),
                question=g.get("question"),
                gain=_points(g["gain"]) if isinstance(g.get("gain"), int) else None,
                solutions=list(g.get("solutions") or []),
            )
            for g in row.gaps or []
        ],
        submitted_at=row.submitted_at,
        submitted_by=row.submitted_by,
    )


# --- the API ----------------------------------------------------------------------------------


@api.get("", summary="The questionnaire, with the answers the platform pre-fills and their sources")
def questionnaire(request: Request, db: DB, user: EnterpriseUser) -> QuestionnaireOut:
    return questionnaire_out(request, _prefill(request, db, user))


@api.post("", status_code=201, summary="Submit the answers: the level, the dimensions, the gaps")
def submit(request: Request, db: DB, user: EnterpriseUser, body: AssessmentIn) -> AssessmentOut:
    made = assessment.submit(
        db,
        lookups_of(request),
        content_of(request),
        user,
        body.answers,
        catalogue=catalogue_of(request),
    )
    return assessment_out(request, made)


@api.get("/history", summary="Our assessments, the latest first, and the latest level")
def history(request: Request, db: DB, user: EnterpriseUser) -> HistoryOut:
    content = content_of(request)
    rows = assessment.history(db, credit_code_of(user))
    shown = [summary_out(edition(content, r.edition), r) for r in rows]
    return HistoryOut(latest=shown[0] if shown else None, assessments=shown)


@api.get("/{code}", summary="One of our assessments")
def one(request: Request, db: DB, user: EnterpriseUser, code: Code) -> AssessmentOut:
    return assessment_out(request, assessment.get(db, credit_code_of(user), code))


# --- the pages --------------------------------------------------------------------------------


def _labels(q: Questionnaire) -> dict[str, str]:
    return {f"answers.{x.code}": x.title for x in q.questions}


def _form_page(
    request: Request,
    db: Session,
    user: User,
    *,
    typed: dict[str, str] | None = None,
    refusal: Problem | None = None,
) -> Response:
    pre = _prefill(request, db, user)
    q = pre.questionnaire
    chosen = dict(pre.answers) if typed is None else dict(typed)
    asked = {x.code for x in q.applicable(chosen)}
    content = content_of(request)
    rows = assessment.history(db, credit_code_of(user))
    field_errors: dict[str, str] = {}
    listed: list[tuple[str, str, str]] = []
    labels = _labels(q)
    if refusal is not None:
        for e in refusal.errors:
            key = e.field.removeprefix("answers.")
            reason = str(e.reason)
            field_errors[key] = f"{field_errors[key]}；{reason}" if key in field_errors else reason
            listed.append((key, labels.get(e.field, key), reason))
    return render(
        request,
        "enterprise_assessment.html",
        {
            "q": q,
            "offers": pre.offers,
            "chosen": chosen,
            "asked": asked,
            "filled": pre.filled,
            "total": len(pre.asked),
            "history": [
                (r, assessment.level_name(edition(content, r.edition), r.level)) for r in rows
            ],
            "field_errors": field_errors,
            "errors": listed,
            "message": refusal.detail if refusal is not None and not refusal.errors else None,
        },
        status=refusal.http_status if refusal is not None else 200,
    )


@pages.get("/enterprise/assessment", response_class=HTMLResponse)
def form_page(request: Request, db: DB, user: EnterpriseUser) -> Response:
    return _form_page(request, db, user)


@pages.post("/enterprise/assessment", response_class=HTMLResponse)
async def submit_page(request: Request, db: DB, user: EnterpriseUser) -> Response:
    form = await request.form()
    q = assessment.questionnaire_for(content_of(request))
    typed = {
        x.code: value
        for x in q.questions
        if isinstance(value := form.get(x.code), str) and value.strip()
    }
    try:
        body = validate(AssessmentIn, {"answers": typed})
        made = assessment.submit(
            db,
            lookups_of(request),
            content_of(request),
            user,
            body.answers,
            catalogue=catalogue_of(request),
        )
    except Problem as refusal:
        db.rollback()
        return _form_page(request, db, user, typed=typed, refusal=refusal)
    return RedirectResponse(f"/enterprise/assessment/{made.code}", status_code=303)


def radar(view: assessment.ResultView) -> dict[str, Any]:
    """The dimensions' rates for the chart (the table beside it says the same)."""
    return {
        "indicators": [{"name": d.name, "max": 100} for d in view.dimensions],
        "values": [round(d.rate / 10, 1) for d in view.dimensions],
    }


@pages.get("/enterprise/assessment/{code}", response_class=HTMLResponse)
def result_page(request: Request, db: DB, user: EnterpriseUser, code: Code) -> Response:
    row = assessment.get(db, credit_code_of(user), code)
    view = assessment.result_view(content_of(request), row)
    return render(
        request,
        "enterprise_assessment_result.html",
        {"v": view, "a": row, "radar": radar(view)},
    )
