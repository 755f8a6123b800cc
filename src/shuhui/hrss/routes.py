"""The HR & social-security services over HTTP (``/api/v1/hrss/…``): one's own record and
certificates of insured status; an officer's reads of a person's record, with a purpose."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from shuhui.approval.lookups import Lookups, lookups_for
from shuhui.core.bounds import Month
from shuhui.hrss import certificates, injury, reminders, service
from shuhui.hrss.schemas import (
    CertificateIn,
    CitizenId,
    OfficerCertificateIn,
    Purpose,
    ReminderRunIn,
)
from shuhui.hrss.views import certificate_out, record_out
from shuhui.programs import service as programs_service
from shuhui.trust.identity.deps import DB, require_role
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role

api = APIRouter(prefix="/api/v1/hrss", tags=["HR & social-security services (一网通办)"])
Citizen = Annotated[User, Depends(require_role(Role.citizen))]
Officer = Annotated[User, Depends(require_role(Role.officer))]
Holder = Annotated[User, Depends(require_role(Role.citizen, Role.officer))]
Number = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Z]{1,12}-\d{4}-\d{6,}$")]
MonthFrom = Annotated[Month | None, Query(description="first month, YYYY-MM")]
MonthTo = Annotated[Month | None, Query(description="last month, YYYY-MM")]


def lookups_of(request: Request) -> Lookups:
    return lookups_for(request.app.state.datacore)


def data_dir_of(request: Request) -> FilePath:
    path: FilePath = request.app.state.settings.data_dir
    return path


def sealed_pdf(content: bytes, name: str) -> Response:
    """A sealed document's PDF, shown in the browser, never cached."""
    return Response(
        content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{name}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )


def seal_envelope(envelope: Any, filename: str) -> Response:
    """A sealed document's envelope (the SM2 signature over its PDF), as the file ``shuhui seal
    verify`` and ``/seals/verify`` take beside it."""
    return Response(
        json.dumps(envelope, ensure_ascii=False, indent=2),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )


def content_of(request: Request) -> FilePath | None:
    path: FilePath | None = request.app.state.settings.city_content
    return path


@api.get("/me/record", summary="My social-insurance record: enrolments, months, benefits paid")
def my_record(
    request: Request, user: Citizen, months_from: MonthFrom = None, months_to: MonthTo = None
) -> JSONResponse:
    record = service.my_record(lookups_of(request), user, months_from, months_to)
    return JSONResponse(record_out(record))


@api.get(
    "/people/{citizen_id}/record",
    summary="A person's record, read by an HR & social-security officer (in the ledger)",
)
def person_record(
    request: Request,
    db: DB,
    user: Officer,
    citizen_id: Annotated[CitizenId, Path()],
    purpose: Annotated[Purpose, Query()],
    months_from: MonthFrom = None,
    months_to: MonthTo = None,
) -> JSONResponse:
    record = service.officer_record(
        db,
        lookups_of(request),
        user,
        citizen_id,
        purpose=purpose,
        months_from=months_from,
        months_to=months_to,
        city_content=content_of(request),
    )
    return JSONResponse(record_out(record))


@api.post("/me/certificates", status_code=201, summary="Issue my certificate of insured status")
def issue_mine(request: Request, db: DB, user: Citizen, body: CertificateIn) -> dict[str, Any]:
    made = service.issue_own_certificate(
        db,
        data_dir_of(request),
        lookups_of(request),
        user,
        months_from=body.months_from,
        months_to=body.months_to,
        city_content=content_of(request),
    )
    return certificate_out(made)


@api.get("/me/certificates", summary="My certificates of insured status, newest first")
def list_mine(db: DB, user: Citizen) -> list[dict[str, Any]]:
    return [certificate_out(c) for c in service.my_certificates(db, user)]


@api.post(
    "/certificates",
    status_code=201,
    summary="Issue a person's certificate at the counter (an officer, with a purpose)",
)
def issue_for(
    request: Request, db: DB, user: Officer, body: OfficerCertificateIn
) -> dict[str, Any]:
    made = service.issue_certificate_for(
        db,
        data_dir_of(request),
        lookups_of(request),
        user,
        citizen_id=body.citizen_id,
        purpose=body.purpose,
        months_from=body.months_from,
        months_to=body.months_to,
        city_content=content_of(request),
    )
    return certificate_out(made)


@api.get("/certificates/{number}", summary="One certificate (its holder or an HRSS officer)")
def certificate(request: Request, db: DB, user: Holder, number: Number) -> dict[str, Any]:
    return certificate_out(service.certificate_for(db, user, number, content_of(request)))


@api.get(
    "/certificates/{number}/pdf",
    summary="The sealed PDF; verify it with its envelope at /seals/verify",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def certificate_pdf(request: Request, db: DB, user: Holder, number: Number) -> Response:
    found = service.certificate_for(db, user, number, content_of(request))
    return sealed_pdf(certificates.certificate_pdf(data_dir_of(request), found), found.number)


@api.get(
    "/certificates/{number}/envelope",
    summary="The certificate's seal envelope (SM2 signature over the PDF)",
)
def certificate_envelope(request: Request, db: DB, user: Holder, number: Number) -> Response:
    found = service.certificate_for(db, user, number, content_of(request))
    return seal_envelope(found.envelope, f"{found.number}.seal.json")


@api.post(
    "/reminders/{code}/runs",
    status_code=201,
    summary="Send a proactive reminder to everyone its rule finds (an HRSS officer)",
)
def run_reminder(
    request: Request,
    db: DB,
    user: Officer,
    code: Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9-]*$")],
    body: ReminderRunIn,
) -> dict[str, Any]:
    service.check_officer(user, content_of(request))
    kind = reminders.kind_of(code, content_of(request))
    library = programs_service.Library(request.app.state.settings, request.app.state.datacore)
    outcome = reminders.run(db, library, kind, body.evaluated_on, actor=user.username)
    return {
        "reminder": outcome.reminder,
        "evaluated_on": outcome.evaluated_on.isoformat(),
        "found": outcome.found,
        "sent": outcome.sent,
        "already": outcome.already,
    }


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def injury_out(a: injury.Application) -> dict[str, Any]:
    day = _iso
    return {
        "case": a.case_code,
        "applicant_name": a.applicant_name,
        "state": a.state,
        "relation": a.relation,
        "accident": day(a.accident),
        "filed": day(a.filed),
        "filing_deadline": day(a.filing_deadline),
        "filed_late": a.filed_late,
        "accepted": day(a.accepted),
        "facts_clear": a.facts_clear,
        "decision_due": day(a.decision_due),
        "days_left": a.days_left,
        "warning": a.warning,
        "overdue": a.overdue,
    }


@api.get("/injury/applications", summary="Open work-injury applications with their clocks")
def injury_applications(request: Request, db: DB, user: Officer) -> list[dict[str, Any]]:
    service.check_officer(user, content_of(request))
    return [injury_out(a) for a in injury.open_applications(db, content_of(request))]


@api.post(
    "/injury/applications/{code}/clear",
    summary="Mark an accepted application's facts clear (decided within 15 days)",
)
def injury_clear(
    request: Request,
    db: DB,
    user: Officer,
    code: Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Z0-9-]+$")],
) -> dict[str, Any]:
    marked = injury.mark_clear(
        db, code, actor=user.username, department=user.department, city_content=content_of(request)
    )
    return injury_out(marked)


@api.get(
    "/injury/benefits",
    summary="The one-time disability subsidy for a grade, by the rule book (an HRSS officer)",
)
def injury_benefits(
    request: Request,
    db: DB,
    user: Officer,
    citizen_id: Annotated[CitizenId, Query()],
    grade: Annotated[int, Query(ge=1, le=10, description="the assessment's grade, 1 to 10")],
    purpose: Annotated[Purpose, Query()],
) -> dict[str, Any]:
    service.check_officer(user, content_of(request))
    library = programs_service.Library(request.app.state.settings, request.app.state.datacore)
    found = injury.disability_benefits(
        db, library, citizen_id, grade, actor=user.username, purpose=purpose
    )
    return {
        "citizen_id": found.citizen_id,
        "grade": found.grade,
        "outcome": found.outcome,
        "months": found.months,
        "wage_fen": found.wage_fen,
        "subsidy_fen": found.subsidy_fen,
        "rule": injury.BENEFITS_RULE,
    }
