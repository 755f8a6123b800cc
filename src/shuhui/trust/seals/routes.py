"""E-seals over HTTP: register (admin), list, seal a document (officer), verify (anyone)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from shuhui.core import forms
from shuhui.core.errors import Problem, invalid
from shuhui.core.i18n import Text
from shuhui.core.requestbody import accepts
from shuhui.trust.identity.deps import DB, require_role
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role
from shuhui.trust.seals import service as seals
from shuhui.trust.seals.models import Seal
from shuhui.trust.seals.schemas import (
    MAX_DOCUMENT,
    MAX_ENVELOPE,
    MAX_UPLOAD_BODY,
    SealCreate,
    SealOut,
    VerdictOut,
    VerifyIn,
)
from shuhui.trust.seals.uploads import read_upload, verify_in_thread

api = APIRouter(prefix="/api/v1/seals", tags=["e-seals"])

AdminUser = Annotated[User, Depends(require_role(Role.admin))]
Sealer = Annotated[User, Depends(require_role(Role.officer, Role.admin))]


def _out(seal: Seal) -> SealOut:
    return SealOut(
        code=seal.code,
        name=seal.name,
        department=seal.department,
        key_id=seal.key_id,
        public_key_pem=seal.public_key_pem,
        valid_from=seals.iso(seal.valid_from),
        valid_to=seals.iso(seal.valid_to),
        created_at=seals.iso(seal.created_at),
        revoked_at=seals.iso(seal.revoked_at) if seal.revoked_at else None,
        image_url=f"/api/v1/seals/{seal.code}/image.svg",
    )


def _data_dir(request: Request) -> Path:
    return Path(request.app.state.settings.data_dir)


def _seal_or_404(db: Session, code: str) -> Seal:
    seal = seals.get_seal(db, code)
    if seal is None:
        raise Problem("not-found", detail=f"印章 {code} 不存在")
    return seal


@api.post("", response_model=SealOut, status_code=201, summary="Register a seal, issue its key")
def create(request: Request, db: DB, admin: AdminUser, body: SealCreate) -> SealOut:
    start, end = seals.valid_window(body.days, body.valid_from)
    seal = seals.create_seal(
        db,
        _data_dir(request),
        code=body.code,
        name=body.name,
        department=body.department,
        valid_from=start,
        valid_to=body.valid_to or end,
        actor=admin.username,
    )
    return _out(seal)


@api.get("", response_model=list[SealOut], summary="All seals (public information)")
def list_all(db: DB) -> list[SealOut]:
    return [_out(s) for s in seals.list_seals(db)]


@api.get(
    "/{code}/image.svg",
    summary="The seal's image",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {"schema": {"type": "string"}}}}},
)
def image(db: DB, code: str) -> Response:
    return Response(_seal_or_404(db, code).image_svg, media_type="image/svg+xml")


@api.post("/{code}/revoke", response_model=SealOut, summary="Revoke a seal (admin)")
def revoke(db: DB, admin: AdminUser, code: str) -> SealOut:
    return _out(seals.revoke_seal(db, code, actor=admin.username))


@api.post("/{code}/sign", summary="Seal an uploaded document; returns the signature envelope")
@accepts(max_bytes=MAX_UPLOAD_BODY)
def sign(
    request: Request,
    db: DB,
    user: Sealer,
    code: str,
    file: Annotated[UploadFile, File(description="the document to seal")],
) -> dict[str, Any]:
    seal = _seal_or_404(db, code)
    # An officer uses their own department's seals; only an administrator may use any.
    if Role.admin not in user.role_set and user.department != seal.department:
        raise Problem("forbidden", detail=f"只能使用本部门的印章（{seal.department}）")
    document = file.file.read(MAX_DOCUMENT + 1)
    if len(document) > MAX_DOCUMENT:
        raise invalid(
            "file",
            Text(
                f"文件超过 {MAX_DOCUMENT // (1024 * 1024)} MB",
                f"larger than {MAX_DOCUMENT // (1024 * 1024)} MiB",
            ),
        )
    return seals.sign_document(db, _data_dir(request), code, document, signer=user.username)


@api.post(
    "/verify",
    response_model=VerdictOut,
    summary="Verify a sealed document (multipart document+envelope, or JSON)",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": VerifyIn.model_json_schema()},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["document", "envelope"],
                        "properties": {
                            "document": {"type": "string", "format": "binary"},
                            "envelope": {"type": "string", "format": "binary"},
                        },
                    }
                },
            }
        }
    },
)
@accepts(max_bytes=MAX_UPLOAD_BODY)
async def verify(request: Request, db: DB) -> VerdictOut:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    envelope: Any
    if ctype == "application/json":
        try:
            body = VerifyIn.model_validate_json(await request.body())
        except ValidationError as exc:
            if any(e["type"] == "json_invalid" for e in exc.errors()):
                raise Problem("malformed-request", detail="请求体不是合法的 JSON") from None
            raise forms.validation_problem(exc.errors()) from None
        try:
            document = base64.b64decode(body.document_base64, validate=True)
        except ValueError:
            raise invalid("document_base64", Text("不是有效的 Base64 编码", "not base64")) from None
        envelope = body.envelope
    elif ctype == "multipart/form-data":
        form = await request.form()
        got_document = await read_upload(form, "document", MAX_DOCUMENT)
        if got_document is None:
            raise invalid("document", Text("请把文档作为文件上传", "upload the document as a file"))
        got_envelope = await read_upload(form, "envelope", MAX_ENVELOPE)
        if got_envelope is None:
            raise invalid(
                "envelope", Text("请上传签名文件（JSON）", "upload the signature envelope (JSON)")
            )
        document, envelope = got_document, got_envelope
    else:
        raise Problem(
            "unsupported-media-type",
            detail=Text(
                "请以 application/json 或 multipart/form-data 格式提交",
                "use application/json or multipart/form-data",
            ),
        )
    verdict = await verify_in_thread(db, envelope, document)
    seals.refuse_malformed(verdict)
    return VerdictOut(**verdict.as_dict())
