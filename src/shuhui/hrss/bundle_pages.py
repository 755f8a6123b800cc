"""The pages of the one-thing bundles (一件事): the list, a bundle's one form, and a filing's
combined status with each department's part."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from shuhui.core import display
from shuhui.core.clock import local_today
from shuhui.core.errors import Problem
from shuhui.core.forms import validate
from shuhui.core.http import render
from shuhui.hrss import bundle_cases
from shuhui.hrss.bundle_routes import (
    BundleCode,
    Filer,
    FilingCode,
    bundle_in_force,
    bundles,
    catalogue_of,
)
from shuhui.hrss.bundles import Bundle
from shuhui.hrss.schemas import BundleFiling, given
from shuhui.hrss.views import bundle_out, status_out, union_out
from shuhui.trust.identity.deps import DB
from shuhui.trust.identity.models import User

pages = APIRouter(include_in_schema=False)


@pages.get("/hrss/bundles", response_class=HTMLResponse)
def list_page(request: Request, db: DB, user: Filer) -> Response:
    own = user.citizen_id or user.credit_code
    return render(
        request,
        "hrss_bundles.html",
        {
            "bundles": [
                bundle_out(b)
                for b in bundles(request).in_force(local_today())
                if (b.holder == "person") == bool(user.citizen_id)
            ],
            "filings": [
                status_out(bundle_cases.status(db, c))
                for c in (bundle_cases.of_applicant(db, own) if own else [])
            ],
        },
    )


def _form_page(
    request: Request,
    db: Session,
    user: User,
    bundle: Bundle,
    *,
    typed: dict[str, str] | None = None,
    refusal: Problem | None = None,
) -> Response:
    fields = union_out(bundle_cases.form(db, request.app.state.datacore, bundle, user))
    for f in fields:
        if typed is not None and f["name"] in typed:
            f["value"] = typed[f["name"]]
    labels = {f["name"]: (f["title"], f["title_en"]) for f in fields}
    # A refusal may name an item's material (materials.<code>): by its name, never its code.
    for item in bundle.items:
        for m in item.materials:
            labels.setdefault(f"materials.{m.code}", (m.name_zh, m.name_en))
    shown = display.shown_errors(
        refusal, lambda name: labels.get(name, (name, name)), "bundle" if refusal else None
    )
    return render(
        request,
        "hrss_bundle_form.html",
        {"bundle": bundle_out(bundle), "fields": fields, **shown},
        status=refusal.http_status if refusal else 200,
    )


@pages.get("/hrss/bundles/{code}", response_class=HTMLResponse)
def form_page(request: Request, db: DB, user: Filer, code: BundleCode) -> Response:
    return _form_page(request, db, user, bundle_in_force(request, code))


@pages.post("/hrss/bundles/{code}", response_class=HTMLResponse)
async def file_page(request: Request, db: DB, user: Filer, code: BundleCode) -> Response:
    bundle = bundle_in_force(request, code)
    form = await request.form()
    typed = {f.name: value for f in bundle.fields if isinstance(value := form.get(f.name), str)}
    try:
        # The API's schema bounds each value (a page posts text).
        filing = validate(BundleFiling, {"values": typed})
        made = bundle_cases.file(
            db,
            request.app.state.datacore,
            catalogue_of(request),
            bundle,
            user,
            given(filing.values),
        )
    except Problem as refusal:
        if refusal.slug != "validation":
            raise
        # The reads are kept (the page answers, it does not raise); the person corrects.
        return _form_page(request, db, user, bundle, typed=typed, refusal=refusal)
    return RedirectResponse(f"/hrss/bundle-cases/{made.code}", status_code=303)


@pages.get("/hrss/bundle-cases/{code}", response_class=HTMLResponse)
def filing_page(request: Request, db: DB, user: Filer, code: FilingCode) -> Response:
    found = bundle_cases.for_user(db, user, code)
    view: dict[str, Any] = status_out(bundle_cases.status(db, found))
    return render(request, "hrss_bundle_case.html", {"s": view})
