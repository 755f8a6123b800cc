"""The enterprise operator's pages of the direct link (人社政企直连): connect the HR system
(the API key shown once), the batches received, and one batch's refused records and why."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from shuhui.approval.lookups import lookups_for
from shuhui.core import display
from shuhui.core.errors import Problem
from shuhui.core.forms import validate_form
from shuhui.core.http import render
from shuhui.core.i18n import Text
from shuhui.hrss import link
from shuhui.hrss.link_routes import BatchId, ConnectIn, Enterprise
from shuhui.trust.identity.deps import DB
from shuhui.trust.identity.models import User

pages = APIRouter(include_in_schema=False)
LABELS = {"public_key_pem": ("SM2 公钥", "SM2 public key")}


def _page(
    request: Request,
    db: Session,
    user: User,
    *,
    key: str | None = None,
    refusal: Problem | None = None,
) -> Response:
    code = user.credit_code or ""
    return render(
        request,
        "hrss_link.html",
        {
            "client": link.client_of(db, code),
            "key": key,
            "batches": link.batches_of(db, code),
            "kinds": link.KINDS,
            "columns": link.COLUMNS,
            **display.shown_errors(refusal, display.labels_from(LABELS), "connect"),
        },
        status=refusal.http_status if refusal else 200,
    )


@pages.get("/hrss/link", response_class=HTMLResponse)
def home(request: Request, db: DB, user: Enterprise) -> Response:
    return _page(request, db, user)


@pages.post("/hrss/link", response_class=HTMLResponse)
async def connect(request: Request, db: DB, user: Enterprise) -> Response:
    form = await request.form()
    code = user.credit_code or ""
    try:
        asked = validate_form(ConnectIn, form)
        found = lookups_for(request.app.state.datacore).enterprise(code) if code else None
        _, key = link.connect(
            db,
            credit_code=code,
            public_key_pem=asked.public_key_pem,
            actor=user.username,
            enterprise_known=bool(found and found.rows),
        )
    except Problem as exc:
        db.rollback()
        return _page(request, db, user, refusal=exc)
    return _page(request, db, user, key=key)


@pages.get("/hrss/link/batches/{batch_id}", response_class=HTMLResponse)
def batch_page(request: Request, db: DB, user: Enterprise, batch_id: BatchId) -> Response:
    found = link.received(db, user.credit_code or "", batch_id)
    if found is None:
        raise Problem("not-found", detail=Text(f"没有批次 {batch_id}", f"no batch {batch_id}"))
    view: dict[str, Any] = link.result_out(db, found)
    return render(
        request,
        "hrss_link_batch.html",
        {
            "b": view,
            "kind_name": link.KINDS[found.kind][0],
            "refused": [r for r in view["results"] if r["status"] == "refused"],
        },
    )
