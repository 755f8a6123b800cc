"""The seal verification page (签章验证): anyone uploads a document and its envelope."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from shuhui.core.errors import Problem
from shuhui.core.http import render
from shuhui.core.i18n import Text
from shuhui.core.requestbody import accepts
from shuhui.trust.identity.deps import DB
from shuhui.trust.seals import service as seals
from shuhui.trust.seals.schemas import MAX_DOCUMENT, MAX_ENVELOPE, MAX_UPLOAD_BODY
from shuhui.trust.seals.uploads import read_upload, verify_in_thread

pages = APIRouter(include_in_schema=False)


def _page(request: Request, *, result: dict[str, Any] | None = None, status: int = 200) -> Response:
    return render(request, "seal_verify.html", {"result": result}, status=status)


@pages.get("/seals/verify", response_class=HTMLResponse)
def verify_page(request: Request) -> Response:
    return _page(request)


@pages.post("/seals/verify", response_class=HTMLResponse)
@accepts(max_bytes=MAX_UPLOAD_BODY)
async def verify_page_submit(request: Request, db: DB) -> Response:
    form = await request.form()
    try:
        document = await read_upload(form, "document", MAX_DOCUMENT)
        envelope = await read_upload(form, "envelope", MAX_ENVELOPE)
    except Problem as exc:
        return _page(request, result={"valid": False, "reason": exc.detail}, status=422)
    if document is None or envelope is None:
        missing = Text("请上传文件和签章文件", "Upload both the document and the envelope")
        return _page(request, result={"valid": False, "reason": missing}, status=422)
    verdict = await verify_in_thread(db, envelope, document)
    result = verdict.as_dict()
    if verdict.reason:
        result["reason"] = seals.verdict_text(verdict.reason)
    if verdict.signed_at:
        result["signed_at_dt"] = datetime.fromisoformat(verdict.signed_at.replace("Z", "+00:00"))
    return _page(request, result=result, status=422 if verdict.malformed else 200)
