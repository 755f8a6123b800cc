"""The enterprise direct link over HTTP: batches from an enterprise's own system (``api``,
authenticated by its key and signature, no session: mounted beside the data-channel gateway),
and the enterprise operator's connection and batch results (``console``, behind the login)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from shuhui.approval.lookups import lookups_for
from shuhui.core.errors import Problem
from shuhui.core.http import problem_answer
from shuhui.core.i18n import Text
from shuhui.core.requestbody import accepts
from shuhui.hrss import link
from shuhui.trust.identity.deps import DB, require_role
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role

api = APIRouter(prefix="/api/v1/hrss/link", tags=["enterprise direct link (人社政企直连)"])
console = APIRouter(prefix="/api/v1/hrss/link", tags=["enterprise direct link (人社政企直连)"])
Enterprise = Annotated[User, Depends(require_role(Role.enterprise))]
BatchId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]{1,64}$")]


class ConnectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    public_key_pem: str = Field(
        min_length=1, max_length=1024, description="the SM2 public key batches are signed with"
    )


def _process(request: Request, db: Session, body: bytes) -> Response:
    key = request.headers.get("x-link-key")
    signature = request.headers.get("x-link-signature")
    try:
        client = link.authenticate(db, key, signature, body)
    except Problem as refused:
        # Answered, not raised: a wrong signature's ledger entry is kept.
        return problem_answer(request, refused, {"WWW-Authenticate": "X-Link-Key"})
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "text/csv":
        batch = link.read_csv(
            body, request.query_params.get("batch_id"), request.query_params.get("kind")
        )
    elif kind == "application/json":
        batch = link.read_json(body)
    else:
        raise Problem(
            "unsupported-media-type",
            detail=Text("请求体应为 application/json 或 text/csv", "JSON or CSV"),
        )
    made, new = link.submit(db, lookups_for(request.app.state.datacore), client, batch, body)
    return JSONResponse(link.result_out(db, made, again=not new), status_code=201 if new else 200)


@api.post(
    "/batches",
    status_code=201,
    summary="A batch of hires, departures or contribution bases from an enterprise's system",
    responses={
        200: {"description": "the same batch received before: its stored result"},
        401: {"description": "an unknown key, or a signature that does not verify"},
        409: {"description": "the batch id was used for a different body"},
    },
)
@accepts(max_bytes=link.MAX_BODY_BYTES, own_json=True)
async def post_batch(
    request: Request,
    db: DB,
    batch_id: Annotated[str | None, Query(max_length=64, description="CSV: the batch id")] = None,
    kind: Annotated[str | None, Query(max_length=16, description="CSV: the records' kind")] = None,
) -> Response:
    body = await request.body()
    # Tens of thousands of records are checked off the event loop.
    return await run_in_threadpool(_process, request, db, body)


@console.post("/client", status_code=201, summary="Connect the enterprise's HR system")
def connect(request: Request, db: DB, user: Enterprise, body: ConnectIn) -> dict[str, Any]:
    code = user.credit_code or ""
    found = lookups_for(request.app.state.datacore).enterprise(code) if code else None
    client, key = link.connect(
        db,
        credit_code=code,
        public_key_pem=body.public_key_pem,
        actor=user.username,
        enterprise_known=bool(found and found.rows),
    )
    return {"key": key, "key_prefix": client.key_prefix, "sm2_key": client.key_id}


@console.get("/batches", summary="The enterprise's batches, newest first")
def list_batches(db: DB, user: Enterprise) -> list[dict[str, Any]]:
    return [
        {
            "batch_id": b.batch_id,
            "kind": b.kind,
            "records": b.records,
            "accepted": b.accepted,
            "refused": b.refused,
            "received_at": b.received_at.isoformat(),
        }
        for b in link.batches_of(db, user.credit_code or "")
    ]


@console.get("/batches/{batch_id}", summary="One batch and each record's result")
def batch(db: DB, user: Enterprise, batch_id: BatchId) -> JSONResponse:
    found = link.received(db, user.credit_code or "", batch_id)
    if found is None:
        raise Problem("not-found", detail=Text(f"没有批次 {batch_id}", f"no batch {batch_id}"))
    return JSONResponse(link.result_out(db, found))
