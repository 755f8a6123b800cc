"""Cases over HTTP (``/api/v1/approval/…``): an applicant starts, fills, uploads to and submits
a case, withdraws or rates it; an officer works the department's queue, decides steps, issues
the result and files an application at a service-hall window (``counter``); the e-licence is
fetched with its seal envelope; the pre-check runs on its own; the metrics. Thin: each route
parses with ``schemas``, calls ``service`` (or the module that holds the step) and returns a
schema."""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from shuhui.approval import cases, counter, licences, metrics, officer_views, ratings, service
from shuhui.approval.items import Catalogue
from shuhui.approval.models import Case
from shuhui.approval.precheck import kinds, precheck, record_lookups
from shuhui.approval.precheck.uploads import MAX_BYTES
from shuhui.approval.schemas import (
    ApplicationIn,
    CaseFieldOut,
    CaseFormOut,
    CaseMaterialOut,
    CaseOut,
    CaseTaskOut,
    CounterFilingIn,
    FormValuesIn,
    LicenceOut,
    MetricRow,
    RatingIn,
    RatingOut,
    SubmissionIn,
    TaskDecisionIn,
)
from shuhui.core.bounds import Day, Id, Limit, Offset
from shuhui.core.errors import FieldError, Problem
from shuhui.core.http import problem_answer
from shuhui.core.i18n import Text
from shuhui.core.requestbody import accepts
from shuhui.datacore.store import DataCore
from shuhui.trust.identity.deps import DB, require_role
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role
from shuhui.trust.ledger.service import record

api = APIRouter(prefix="/api/v1/approval", tags=["smart approval (智审慧办)"])

Applicant = Annotated[User, Depends(require_role(Role.citizen, Role.enterprise))]
Officer = Annotated[User, Depends(require_role(Role.officer))]
Reader = Annotated[User, Depends(require_role(Role.officer, Role.admin, Role.data_operator))]
Anyone = Annotated[
    User, Depends(require_role(Role.citizen, Role.enterprise, Role.officer, Role.admin))
]
CaseCode = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Z0-9-]+$")]
CertificateNo = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Z0-9-]+$")]
MaterialCode = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
# An upload's body: the file's bound and room for the multipart framing around it.
UPLOAD_BODY = MAX_BYTES + 64 * 1024


def _catalogue(request: Request) -> Catalogue:
    catalogue: Catalogue = request.app.state.approval_catalogue
    return catalogue


def _datacore(request: Request) -> DataCore:
    core: DataCore = request.app.state.datacore
    return core


def _data_dir(request: Request) -> FilePath:
    data_dir: FilePath = request.app.state.settings.data_dir
    return data_dir


def _form_out(view: service.FormView) -> CaseFormOut:
    return CaseFormOut(
        case=view.case,
        fields=[
            CaseFieldOut(
                name=f.name,
                title=f.title,
                value=f.value,
                required=f.required,
                fill=f.fill,
                fill_zh=f.fill_zh,
                source=f.source_zh,
                offered=f.offered,
                kept=f.kept,
                correction=f.correction,
            )
            for g in view.groups
            for f in g.fields
        ],
        materials=[
            CaseMaterialOut(
                code=m.code,
                name=m.name,
                required=m.required,
                kind=m.kind,
                replaced_by=m.replaced_by,
                waived=m.waived,
                certificate_no=m.certificate_no,
                uploaded=m.uploaded,
                file_name=m.file_name,
                size=m.size,
                precheck_ok=m.precheck_ok,
                issues=[{"field": f, "reason": r} for f, r in m.issues],
                fields=m.fields,
                correction=m.correction,
            )
            for m in view.materials
        ],
        filled=view.filled,
        total=view.total,
        waived=view.waived,
        materials_total=view.materials_total,
    )


# --- the applicant ---------------------------------------------------------------------------


@api.post(
    "/cases",
    status_code=201,
    response_model=CaseOut,
    summary="Start an application: a draft with the form pre-filled (an agent names the principal)",
    responses={403: {"description": "no mandate covers applying for this applicant"}},
)
def start(request: Request, db: DB, user: Applicant, body: ApplicationIn) -> CaseOut | JSONResponse:
    try:
        case = service.start_application(
            db,
            _datacore(request),
            _catalogue(request),
            user=user,
            item_code=body.item,
            applicant_id=body.applicant,
        )
    except Problem as refused:
        if refused.slug != "mandate-refused":
            raise
        return problem_answer(request, refused)
    return cases.case_out(case)


@api.post(
    "/submissions",
    status_code=201,
    response_model=CaseOut,
    summary="Apply and submit in one request (items whose materials e-certificates waive)",
    responses={
        403: {"description": "no mandate covers applying for this applicant"},
        422: {"description": "every faulty field and missing material named; no case made"},
    },
)
def submit_whole(
    request: Request, db: DB, user: Applicant, body: SubmissionIn
) -> CaseOut | JSONResponse:
    try:
        case = service.submit_whole(
            db,
            _datacore(request),
            _catalogue(request),
            user=user,
            item_code=body.item,
            values=body.values,
            applicant_id=body.applicant,
        )
    except Problem as refused:
        if refused.slug not in ("mandate-refused", "validation"):
            raise
        # Answered, not raised: the pre-fill's read (or the mandate's refusal) stays recorded.
        return problem_answer(request, refused)
    return cases.case_out(case)


@api.get("/cases", response_model=list[CaseOut], summary="My cases (as applicant or agent)")
def my_cases(
    db: DB,
    user: Applicant,
    state: Annotated[str | None, Query(max_length=16, pattern=r"^[a-z]+$")] = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> list[CaseOut]:
    return [
        cases.case_out(c) for c in cases.cases_of(db, user, limit=limit, offset=offset, state=state)
    ]


@api.get("/cases/{code}", response_model=CaseOut, summary="A case of mine, or of my department")
def one_case(db: DB, user: Anyone, code: CaseCode) -> CaseOut:
    return cases.case_out(cases.case_for(db, user, code))


@api.get(
    "/cases/{code}/form",
    response_model=CaseFormOut,
    summary="A case's form: each field's value and source, each material and its pre-check",
)
def case_form(request: Request, db: DB, user: Anyone, code: CaseCode) -> CaseFormOut:
    case = cases.case_for(db, user, code)
    return _form_out(service.form_view(db, _catalogue(request), case))


@api.put("/cases/{code}/form", response_model=CaseFormOut, summary="Save values of a draft's form")
def save_form(
    request: Request, db: DB, user: Applicant, code: CaseCode, body: FormValuesIn
) -> CaseFormOut:
    case = cases.party_case(db, user, code)
    service.save(db, _catalogue(request), case, body.values, actor=user.username)
    return _form_out(service.form_view(db, _catalogue(request), case))


@api.post(
    "/cases/{code}/materials/{material}",
    response_model=CaseMaterialOut,
    summary="Upload a material (PNG, JPEG or PDF): kept, pre-checked and attached",
    responses={
        413: {"description": "larger than the bound"},
        415: {"description": "not an image or PDF"},
    },
)
@accepts(max_bytes=UPLOAD_BODY)
def upload_material(
    request: Request,
    db: DB,
    user: Applicant,
    code: CaseCode,
    material: MaterialCode,
    file: Annotated[UploadFile, File(description="the scanned or photographed document")],
) -> CaseMaterialOut:
    case = cases.party_case(db, user, code)
    content = file.file.read(MAX_BYTES + 1)
    service.upload(
        db,
        _data_dir(request),
        _datacore(request),
        _catalogue(request),
        case,
        material=material,
        content=content,
        file_name=file.filename or "upload",
        actor=user.username,
    )
    view = service.form_view(db, _catalogue(request), case)
    return next(m for m in _form_out(view).materials if m.code == material)


@api.post(
    "/cases/{code}/submit",
    response_model=CaseOut,
    summary="Submit a draft, or resubmit after a correction request (422 names every fault)",
)
def submit(request: Request, db: DB, user: Applicant, code: CaseCode) -> CaseOut:
    case = cases.party_case(db, user, code)
    return cases.case_out(service.send(db, _catalogue(request), case, actor=user.username))


@api.post("/cases/{code}/withdraw", response_model=CaseOut, summary="Withdraw a case of mine")
def withdraw(db: DB, user: Applicant, code: CaseCode) -> CaseOut:
    case = cases.party_case(db, user, code)
    return cases.case_out(service.withdraw(db, case, actor=user.username))


@api.post(
    "/cases/{code}/rating",
    status_code=201,
    response_model=RatingOut,
    summary="Rate a finished case (好差评): 1–2 stars open a follow-up for the department",
)
def rate(db: DB, user: Applicant, code: CaseCode, body: RatingIn) -> RatingOut:
    return ratings.rating_out(db, ratings.rate(db, user, code, body))


# --- the officer -----------------------------------------------------------------------------


class QueueEntryOut(CaseTaskOut):
    case: CaseOut


@api.get("/tasks", response_model=list[QueueEntryOut], summary="My department's open steps")
def queue(
    db: DB,
    officer: Officer,
    role: Annotated[str | None, Query(max_length=32, pattern=r"^[a-z]+$")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[QueueEntryOut]:
    return [
        QueueEntryOut.model_validate(
            {**CaseTaskOut.model_validate(task).model_dump(), "case": cases.case_out(case)}
        )
        for task, case in cases.queue(db, officer, role=role, limit=limit, offset=offset)
    ]


@api.post(
    "/tasks/{task_id}",
    response_model=CaseOut,
    summary="Decide an open step (accept, correct, pass, agree, disagree, approve, reject)",
    responses={409: {"description": "another officer took the step first"}},
)
def decide(db: DB, officer: Officer, task_id: Id, body: TaskDecisionIn) -> CaseOut:
    return cases.case_out(service.decide(db, task_id, officer=officer, decision=body))


@api.post(
    "/counter/cases",
    status_code=201,
    response_model=CaseOut,
    summary="File an application at a service-hall window for the applicant present (窗口办理)",
    responses={
        403: {"description": "not an officer of a department that accepts the item, or own"},
        422: {"description": "the applicant's ID, or every faulty field and missing material"},
    },
)
def file_at_counter(
    request: Request, db: DB, officer: Officer, body: CounterFilingIn
) -> CaseOut | JSONResponse:
    try:
        case = counter.file_at_counter(
            db,
            _datacore(request),
            _catalogue(request),
            officer=officer,
            given=body,
            content_dir=request.app.state.settings.city_content,
        )
    except Problem as refused:
        if refused.slug != "validation":
            raise
        # Answered, not raised: the pre-fill's read of the applicant's data stays recorded.
        return problem_answer(request, refused)
    return cases.case_out(case)


class IssuedOut(CaseOut):
    licence: LicenceOut | None = None


@api.post(
    "/cases/{code}/issue",
    response_model=IssuedOut,
    summary="Issue an approved case's result: the sealed e-licence where the item issues one",
)
def issue(request: Request, db: DB, officer: Officer, code: CaseCode) -> IssuedOut:
    case = cases.case_for(db, officer, code)
    licence = service.issue(
        db,
        _data_dir(request),
        _datacore(request),
        _catalogue(request),
        case,
        officer=officer,
        city_content=request.app.state.settings.city_content,
    )
    shown = None if licence is None else officer_views.licence_out(licence, case, viewer=officer)
    return IssuedOut(**cases.case_out(case).model_dump(), licence=shown)


# --- e-licences ------------------------------------------------------------------------------


def _licence_for(db: DB, user: User, number: str) -> tuple[Any, Case]:
    licence = licences.get_licence(db, number)
    case = None if licence is None else db.get(Case, licence.case_id)
    if licence is None or case is None:
        raise Problem("not-found", detail=Text("没有这个电子证照", "no such e-licence"))
    cases.case_for(db, user, case.code)  # the holder, the agent or the department; else 404
    return licence, case


@api.get("/licences/{number}", response_model=LicenceOut, summary="An e-licence's particulars")
def licence(db: DB, user: Anyone, number: CertificateNo) -> LicenceOut:
    found, case = _licence_for(db, user, number)
    return officer_views.licence_out(found, case, viewer=user)


@api.get(
    "/licences/{number}/pdf",
    response_class=Response,
    summary="The sealed e-licence (PDF); verify it with its envelope at /seals/verify",
    responses={200: {"content": {"application/pdf": {}}}},
)
def licence_pdf(request: Request, db: DB, user: Anyone, number: CertificateNo) -> Response:
    found, case = _licence_for(db, user, number)
    if found.holder_id not in (user.citizen_id, user.credit_code):
        record(
            db,
            user.username,
            "approval.licence.read",
            subject=found.holder_id,
            purpose=f"查看办件 {case.code} 的电子证照",
            detail={"licence": number, "case": case.code},
        )
    content = licences.licence_pdf(db, _data_dir(request), number)
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{number}.pdf"'},
    )


@api.get(
    "/licences/{number}/envelope",
    summary="The e-licence's seal envelope (SM2 signature over the PDF), for /seals/verify",
)
def licence_envelope(db: DB, user: Anyone, number: CertificateNo) -> dict[str, Any]:
    found, _case = _licence_for(db, user, number)
    envelope: dict[str, Any] = found.envelope
    return envelope


# --- the pre-check on its own, and the metrics ---------------------------------------------------


@api.post(
    "/precheck",
    summary="Pre-check a document, as `shuhui approval precheck FILE --material TYPE --json` does",
    responses={
        413: {"description": "larger than the bound"},
        415: {"description": "not an image or PDF"},
    },
)
@accepts(max_bytes=UPLOAD_BODY)
def precheck_document(
    request: Request,
    db: DB,
    user: Applicant,
    material: Annotated[
        Literal[
            "id-card",
            "business-licence",
            "diploma",
            "labour-contract",
            "medical-certificate",
            "site-plan",
        ],
        Form(description="the document's kind"),
    ],
    file: Annotated[UploadFile, File(description="the scanned or photographed document")],
) -> dict[str, Any]:
    if material not in kinds.KINDS:
        raise Problem("validation", errors=[FieldError("material", "不认识的材料类型")])
    content = file.file.read(MAX_BYTES + 1)
    result = precheck(
        content, material, datacore=_datacore(request), file_name=file.filename or "upload"
    )
    record_lookups(db, result, actor=user.username, file_name=file.filename)
    return result.as_json()


@api.get(
    "/metrics",
    response_model=list[MetricRow],
    summary="Approval figures per item, department or domain",
)
def figures(
    request: Request,
    db: DB,
    user: Reader,
    by: Literal["item", "department", "domain", "all"] = "domain",
    since: Day | None = None,
    until: Day | None = None,
) -> list[MetricRow]:
    return metrics.metrics(db, by=by, since=since, until=until, catalogue=_catalogue(request))
