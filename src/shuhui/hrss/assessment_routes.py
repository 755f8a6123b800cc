"""Labour-capacity assessment over HTTP: the API (``/api/v1/hrss/assessments``) and the pages
(``/hrss/assessments``) for the committee's office, the panel's experts and the worker. Both
validate through the schemas here; the work is in ``assessment``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from shuhui.approval.items import Catalogue
from shuhui.core import display
from shuhui.core.clock import SHANGHAI
from shuhui.core.errors import Problem
from shuhui.core.forms import validate_form
from shuhui.core.http import render
from shuhui.core.requestbody import accepts
from shuhui.hrss import assessment, assessment_conclusion
from shuhui.hrss.assessment_pdf import grade_text, self_care_text
from shuhui.hrss.routes import content_of, data_dir_of, seal_envelope, sealed_pdf
from shuhui.programs import service as programs_service
from shuhui.trust.identity.deps import DB, require_role
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role

api = APIRouter(
    prefix="/api/v1/hrss/assessments", tags=["labour-capacity assessment (劳动能力鉴定)"]
)
pages = APIRouter(include_in_schema=False)
Member = Annotated[User, Depends(require_role(Role.citizen, Role.officer))]
Officer = Annotated[User, Depends(require_role(Role.officer))]
CaseCode = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Z0-9-]+$")]


class ExamIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    exam_at: datetime = Field(description="when the video examination is (local time if no zone)")


class FindingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    findings: str = Field(min_length=2, max_length=2000, description="检查所见")


class OpinionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grade: int = Field(ge=0, le=10, description="the disability grade 1-10; 0: no grade reached")
    self_care: str = Field(
        min_length=1, max_length=8, description="生活自理障碍: 无, 部分, 大部分 or 完全"
    )
    basis: str = Field(
        min_length=2, max_length=1000, description="the clauses of GB/T 16180 it rests on"
    )


BodyIn = TypeVar("BodyIn", bound=BaseModel)

LABELS: dict[str, tuple[str, str]] = {
    "exam_at": ("检查时间", "Examination time"),
    "findings": ("检查所见", "Findings"),
    "grade": ("伤残等级", "Grade"),
    "self_care": ("生活自理障碍", "Self-care"),
    "basis": ("鉴定依据", "Basis"),
    "opinions": ("专家意见", "Opinions"),
    "state": ("办理环节", "Stage"),
}


def _local(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=SHANGHAI)


def catalogue_of(request: Request) -> Catalogue:
    found: Catalogue = request.app.state.approval_catalogue
    return found


def row_out(row: assessment.Row) -> dict[str, Any]:
    return {
        "case": row.case_code,
        "worker_name": row.worker_name,
        "site": row.site,
        "state": row.state,
        "state_name": row.state_name,
        "accepted": row.accepted.isoformat() if row.accepted else None,
        "due": row.due.isoformat() if row.due else None,
        "days_left": row.days_left,
        "warning": row.warning,
        "overdue": row.overdue,
        "panel": list(row.panel),
        "exam_at": row.exam_at.isoformat() if row.exam_at else None,
        "opinions": row.opinions,
    }


def view_out(v: assessment.View) -> dict[str, Any]:
    a = v.assessment
    return {
        **row_out(v.row),
        "side": v.side,
        "panel": [
            {"username": e.username, "name": e.name, "speciality": e.speciality} for e in v.panel
        ],
        "exam_session": a.exam_session if a else None,
        "findings": a.findings if a and v.side != "worker" else None,
        "opinions": [
            {"expert": o.expert, "grade": o.grade, "self_care": o.self_care, "basis": o.basis}
            for o in v.opinions
        ],
        "majority": list(v.majority) if v.majority else None,
        "conclusion": (
            None
            if a is None or a.conclusion_no is None
            else {
                "number": a.conclusion_no,
                "grade": a.grade,
                "grade_text": grade_text(a.grade),
                "self_care": a.self_care,
                "self_care_text": self_care_text(a.self_care),
                "benefits": a.benefits,
                "concluded_at": a.concluded_at.isoformat() if a.concluded_at else None,
            }
        ),
    }


def _view(request: Request, db: Session, user: User, code: str) -> assessment.View:
    return assessment.view(db, catalogue_of(request), code, user, city_content=content_of(request))


# --- the API ----------------------------------------------------------------------------------


@api.get("", summary="The applications I work on (the office, a panel) or my own (a worker)")
def listed(request: Request, db: DB, user: Member) -> list[dict[str, Any]]:
    if Role.officer in user.role_set:
        return [row_out(r) for r in assessment.worklist(db, user, content_of(request))]
    own = assessment.of_worker(db, user.citizen_id or "")
    return [view_out(_view(request, db, user, a.case_code)) for a in own]


@api.get("/{code}", summary="One application: panel, examination, opinions, conclusion")
def one(request: Request, db: DB, user: Member, code: CaseCode) -> dict[str, Any]:
    return view_out(_view(request, db, user, code))


@api.post("/{code}/panel", status_code=201, summary="Draw the expert panel at random (the office)")
def panel(request: Request, db: DB, user: Officer, code: CaseCode) -> dict[str, Any]:
    assessment.draw_panel(db, code, officer=user, city_content=content_of(request))
    return view_out(_view(request, db, user, code))


# What the API and the pages both do with a validated body (the pages then show the page again).


def _schedule(request: Request, db: Session, user: User, code: str, body: ExamIn) -> None:
    assessment.schedule_exam(
        db, code, _local(body.exam_at), officer=user, city_content=content_of(request)
    )


def _findings(request: Request, db: Session, user: User, code: str, body: FindingsIn) -> None:
    assessment.record_findings(
        db, code, body.findings, expert=user, city_content=content_of(request)
    )


def _opinion(request: Request, db: Session, user: User, code: str, body: OpinionIn) -> None:
    assessment.give_opinion(
        db,
        code,
        expert=user,
        grade=body.grade,
        self_care=body.self_care,
        basis=body.basis,
        city_content=content_of(request),
    )


@api.post("/{code}/exam", summary="Arrange or move the video examination (the office)")
def exam(request: Request, db: DB, user: Officer, code: CaseCode, body: ExamIn) -> dict[str, Any]:
    _schedule(request, db, user, code, body)
    return view_out(_view(request, db, user, code))


@api.post("/{code}/findings", summary="The examining expert's findings after the video")
def findings(
    request: Request, db: DB, user: Officer, code: CaseCode, body: FindingsIn
) -> dict[str, Any]:
    _findings(request, db, user, code, body)
    return view_out(_view(request, db, user, code))


@api.post("/{code}/opinion", summary="A panel member's signed opinion (given or revised)")
def opinion(
    request: Request, db: DB, user: Officer, code: CaseCode, body: OpinionIn
) -> dict[str, Any]:
    _opinion(request, db, user, code, body)
    return view_out(_view(request, db, user, code))


def _conclude(request: Request, db: Session, user: User, code: str) -> None:
    state = request.app.state
    assessment_conclusion.conclude(
        db,
        data_dir_of(request),
        state.datacore,
        catalogue_of(request),
        programs_service.Library(state.settings, state.datacore),
        code,
        officer=user,
        city_content=content_of(request),
    )


@api.post("/{code}/conclusion", summary="Conclude on the panel's majority, sealed (the office)")
def conclusion(request: Request, db: DB, user: Officer, code: CaseCode) -> dict[str, Any]:
    _conclude(request, db, user, code)
    return view_out(_view(request, db, user, code))


def _concluded(request: Request, db: Session, user: User, code: str) -> Any:
    found = _view(request, db, user, code).assessment
    if found is None or found.conclusion_no is None:
        raise Problem("not-found", detail=f"申请 {code} 尚未作出鉴定结论")
    return found


@api.get(
    "/{code}/conclusion.pdf",
    summary="The sealed conclusion; verify it with its envelope at /seals/verify",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def conclusion_pdf(request: Request, db: DB, user: Member, code: CaseCode) -> Response:
    found = _concluded(request, db, user, code)
    return sealed_pdf(
        assessment_conclusion.conclusion_pdf(data_dir_of(request), found), found.conclusion_no
    )


@api.get("/{code}/conclusion.seal.json", summary="The conclusion's seal envelope")
def conclusion_envelope(request: Request, db: DB, user: Member, code: CaseCode) -> Response:
    found = _concluded(request, db, user, code)
    return seal_envelope(found.envelope, f"{found.conclusion_no}.pdf.seal.json")


@api.post(
    "/{code}/recording",
    summary="The examination's recording (WebM), sent by the examining expert's call page",
    openapi_extra={
        "requestBody": {
            "content": {"video/webm": {"schema": {"type": "string", "format": "binary"}}}
        }
    },
)
@accepts(max_bytes=assessment.MAX_RECORDING)
async def upload_recording(
    request: Request, db: DB, user: Officer, code: CaseCode
) -> dict[str, Any]:
    content = await request.body()
    found = assessment.store_recording(
        db, data_dir_of(request), code, content, expert=user, city_content=content_of(request)
    )
    return {"case": code, "bytes": found.recording_bytes, "sha256": found.recording_sha256}


@api.get(
    "/{code}/recording",
    summary="The examination's recording, for the panel, the office and the worker",
    response_class=Response,
    responses={200: {"content": {"video/webm": {}}}},
)
def get_recording(request: Request, db: DB, user: Member, code: CaseCode) -> Response:
    content = assessment.recording(
        db, data_dir_of(request), code, user, city_content=content_of(request)
    )
    return Response(
        content,
        media_type="video/webm",
        headers={"Cache-Control": "private, no-store"},
    )


# --- the pages --------------------------------------------------------------------------------


@pages.get("/hrss/assessments", response_class=HTMLResponse)
def list_page(request: Request, db: DB, user: Member) -> Response:
    if Role.officer in user.role_set:
        rows = assessment.worklist(db, user, content_of(request))
        own: list[Any] = []
    else:
        rows = []
        own = assessment.of_worker(db, user.citizen_id or "")
    return render(
        request,
        "hrss_assessments.html",
        {"rows": rows, "own": own, "rules": assessment.rules(content_of(request))},
    )


def _page(
    request: Request,
    db: Session,
    user: User,
    code: str,
    refusal: Problem | None = None,
    form: str = "",
) -> Response:
    v = _view(request, db, user, code)
    return render(
        request,
        "hrss_assessment.html",
        {
            "v": v,
            "a": v.assessment,
            "rules": assessment.rules(content_of(request)),
            "self_care_levels": assessment.SELF_CARE,
            "grade_text": grade_text,
            "self_care_text": self_care_text,
            **display.shown_errors(refusal, display.labels_from(LABELS), form or None),
        },
        status=refusal.http_status if refusal else 200,
    )


@pages.get("/hrss/assessments/{code}", response_class=HTMLResponse)
def one_page(request: Request, db: DB, user: Member, code: CaseCode) -> Response:
    return _page(request, db, user, code)


def _after(
    request: Request, db: Session, user: User, code: str, form: str, act: Callable[[], object]
) -> Response:
    try:
        act()
    except Problem as exc:
        db.rollback()
        return _page(request, db, user, code, exc, form)
    return RedirectResponse(f"/hrss/assessments/{code}#{form}", status_code=303)


@pages.post("/hrss/assessments/{code}/panel", response_class=HTMLResponse)
def panel_page(request: Request, db: DB, user: Officer, code: CaseCode) -> Response:
    return _after(
        request,
        db,
        user,
        code,
        "panel",
        lambda: assessment.draw_panel(db, code, officer=user, city_content=content_of(request)),
    )


async def _posted(
    request: Request,
    db: Session,
    user: User,
    code: str,
    form_name: str,
    schema: type[BodyIn],
    act: Callable[[Request, Session, User, str, BodyIn], None],
) -> Response:
    form = await request.form()
    return _after(
        request,
        db,
        user,
        code,
        form_name,
        lambda: act(request, db, user, code, validate_form(schema, form)),
    )


@pages.post("/hrss/assessments/{code}/exam", response_class=HTMLResponse)
async def exam_page(request: Request, db: DB, user: Officer, code: CaseCode) -> Response:
    return await _posted(request, db, user, code, "exam", ExamIn, _schedule)


@pages.post("/hrss/assessments/{code}/findings", response_class=HTMLResponse)
async def findings_page(request: Request, db: DB, user: Officer, code: CaseCode) -> Response:
    return await _posted(request, db, user, code, "findings", FindingsIn, _findings)


@pages.post("/hrss/assessments/{code}/opinion", response_class=HTMLResponse)
async def opinion_page(request: Request, db: DB, user: Officer, code: CaseCode) -> Response:
    return await _posted(request, db, user, code, "opinion", OpinionIn, _opinion)


@pages.post("/hrss/assessments/{code}/conclusion", response_class=HTMLResponse)
def conclusion_page(request: Request, db: DB, user: Officer, code: CaseCode) -> Response:
    return _after(request, db, user, code, "conclusion", lambda: _conclude(request, db, user, code))
