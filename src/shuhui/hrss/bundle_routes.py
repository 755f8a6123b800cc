"""One-thing bundles over HTTP (``/api/v1/hrss/bundles…``): the bundles, a bundle's one form
pre-filled, filing it, and a filing's combined status."""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse, Response

from shuhui.approval.items import Catalogue
from shuhui.core.clock import local_today
from shuhui.core.errors import Problem
from shuhui.core.http import problem_answer
from shuhui.core.i18n import Text
from shuhui.hrss import bundle_cases
from shuhui.hrss.bundles import Bundle, Bundles, bundles_of
from shuhui.hrss.schemas import BundleFiling, given
from shuhui.hrss.views import bundle_out, status_out, union_out
from shuhui.trust.identity.deps import DB, require_role
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role

api = APIRouter(prefix="/api/v1/hrss", tags=["one-thing bundles (一件事)"])
Filer = Annotated[User, Depends(require_role(Role.citizen, Role.enterprise))]
BundleCode = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9-]*$")]
FilingCode = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^YJS-\d{8}-\d{6}$")]


def content_of(request: Request) -> FilePath:
    path: FilePath = request.app.state.settings.city_content
    return path


def bundles(request: Request) -> Bundles:
    return bundles_of(str(content_of(request)))


def catalogue_of(request: Request) -> Catalogue:
    return bundles(request).catalogue


def bundle_in_force(request: Request, code: str) -> Bundle:
    found = bundles(request).get(code)
    if found is None or not found.in_force(local_today()):
        raise Problem("not-found", detail=Text(f"没有“一件事” {code}", f"no bundle {code}"))
    return found


@api.get("/bundles", summary="The one-thing bundles in force")
def list_bundles(request: Request, user: Filer) -> list[dict[str, Any]]:
    return [bundle_out(b) for b in bundles(request).in_force(local_today())]


@api.get("/bundles/{code}/form", summary="A bundle's one form, pre-filled for me")
def bundle_form(request: Request, db: DB, user: Filer, code: BundleCode) -> dict[str, Any]:
    bundle = bundle_in_force(request, code)
    fields = bundle_cases.form(db, request.app.state.datacore, bundle, user)
    return {**bundle_out(bundle), "form": union_out(fields)}


@api.post(
    "/bundles/{code}",
    status_code=201,
    summary="File a bundle: one case per department, one combined status",
    responses={422: {"description": "faulty fields: nothing filed (the reads stay recorded)"}},
)
def file_bundle(
    request: Request, db: DB, user: Filer, code: BundleCode, body: BundleFiling
) -> Response:
    bundle = bundle_in_force(request, code)
    try:
        made = bundle_cases.file(
            db, request.app.state.datacore, catalogue_of(request), bundle, user, given(body.values)
        )
    except Problem as refusal:
        if refusal.slug != "validation":
            raise
        # The pre-fills' reads happened: answered, not raised, so their entries are kept.
        return problem_answer(request, refusal)
    return JSONResponse(status_out(bundle_cases.status(db, made)), status_code=201)


@api.get("/bundle-cases", summary="My bundle filings, newest first")
def my_filings(db: DB, user: Filer) -> list[dict[str, Any]]:
    own = user.citizen_id if Role.citizen in user.role_set else user.credit_code
    if not own:
        return []
    return [status_out(bundle_cases.status(db, c)) for c in bundle_cases.of_applicant(db, own)]


@api.get("/bundle-cases/{code}", summary="A filing's combined status and its parts")
def filing(db: DB, user: Filer, code: FilingCode) -> dict[str, Any]:
    return status_out(bundle_cases.status(db, bundle_cases.for_user(db, user, code)))
