"""The data-asset registry's API, ``/api/v1/assets``: apply, resubmit, review, value."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request

from shuhui.assets import service
from shuhui.assets.deps import Applicant, Operator, data_dir, registrar
from shuhui.assets.models import AssetRegistration
from shuhui.assets.schemas import ApplicationIn, ReviewIn, ValuationIn
from shuhui.trust.identity.deps import DB

api = APIRouter(prefix="/api/v1/assets", tags=["data-asset registry"])


def out(row: AssetRegistration) -> dict[str, Any]:
    return {
        "code": row.code,
        "kind": row.kind,
        "dataset": row.dataset.name if row.dataset else None,
        "title": row.title,
        "holder": {"name": row.holder_name, "credit_code": row.holder_code},
        "rights": service.rights_of(row),
        "sources": row.sources,
        "processing": row.processing,
        "scenarios": row.scenarios,
        "status": row.status,
        "applicant": row.applicant,
        "submitted_at": row.submitted_at.isoformat(),
        "reviewer": row.reviewer,
        "review_reason": row.review_reason,
        "certificate_no": row.certificate_no,
        "certificate_url": (
            f"/catalog/assets/{row.code}/certificate.json" if row.certificate else None
        ),
        "seal_url": f"/catalog/assets/{row.code}/certificate.seal.json"
        if row.certificate
        else None,
        "valuation": json.loads(row.valuation) if row.valuation else None,
    }


@api.post("", status_code=201, summary="Apply to register a dataset or data product as an asset")
def apply(db: DB, user: Applicant, body: ApplicationIn) -> dict[str, Any]:
    return out(service.apply(db, body, applicant=user))


@api.get("", summary="Applications and registrations the caller may see")
def list_all(db: DB, user: Applicant, status: str | None = None) -> list[dict[str, Any]]:
    return [out(r) for r in service.listing(db, user, status=status)]


@api.get("/{code}", summary="One application or registration")
def show(db: DB, user: Applicant, code: str) -> dict[str, Any]:
    return out(service.get_for(db, code, user))


@api.put("/{code}", summary="Resubmit a returned application (the original applicant only)")
def resubmit(db: DB, user: Applicant, code: str, body: ApplicationIn) -> dict[str, Any]:
    return out(service.resubmit(db, code, body, applicant=user))


@api.post("/{code}/review", summary="Accept (seal a certificate), return or reject")
def review(request: Request, db: DB, user: Operator, code: str, body: ReviewIn) -> dict[str, Any]:
    row = service.review(
        db,
        data_dir(request),
        registrar(request),
        code,
        decision=body.decision,
        reason=body.reason,
        reviewer=user.username,
    )
    return out(row)


@api.post("/{code}/valuation", summary="Value a registered asset; returns the workings")
def value(request: Request, db: DB, user: Operator, code: str, body: ValuationIn) -> dict[str, Any]:
    return service.value(
        db, request.app.state.settings.city_content, code, body, valuer=user.username
    )
