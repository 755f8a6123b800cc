"""The ledger's public face: checkpoints and proofs for anyone, entries for auditors.

Who is an auditor is the identity layer's to say, and identity records into this ledger, so this
module cannot ask it: :func:`auditor` refuses everyone until the app binds it to identity's role
check (``app.state.ledger_guards["auditor"]``, in ``shuhui.web.app``)."""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from shuhui.core.bounds import MAX_INDEX, Index
from shuhui.core.errors import Problem
from shuhui.core.http import DBSession as DB
from shuhui.trust.crypto.sm import SM2PrivateKey
from shuhui.trust.ledger import service as ledger
from shuhui.trust.ledger.publish import add_checkpoint_body

api = APIRouter(prefix="/api/v1/ledger", tags=["audit ledger"])


def auditor(request: Request) -> object:
    """Lets auditors through: the check the app puts in ``app.state.ledger_guards["auditor"]``
    (admins and data-bureau operators); unbound, it lets nobody through, so a router mounted
    without it leaks no entries. Bound through the app's state rather than
    ``app.dependency_overrides``, whose mere presence makes FastAPI re-read every dependency of
    every route on every request."""
    guard = getattr(request.app.state, "ledger_guards", {}).get("auditor")
    if guard is None:
        raise Problem("forbidden", detail="审计接口未配置访问控制 (no auditor check bound)")
    return guard(request)


Auditor = Annotated[object, Depends(auditor)]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class CheckpointOut(BaseModel):
    tree_size: int
    root_hash: str  # base64
    algorithm: str
    created_at: str
    note: str  # the exact signed text (UTF-8)
    signature: str  # base64 DER SM2 signature over ``note``, ID 1234567812345678
    key_id: str  # SM3 fingerprint of the platform public key
    public_key_pem: str
    signed_note: str  # C2SP signed note: the text, the SM2 line, witnesses' cosignatures


class EntryOut(BaseModel):
    index: int
    leaf: str  # base64 of the exact RFC 8785 bytes hashed as H(0x00 || leaf)
    leaf_hash: str
    entry: dict[str, Any]


class InclusionOut(BaseModel):
    index: int
    tree_size: int
    leaf_hash: str
    root_hash: str
    proof: list[str]


class ConsistencyOut(BaseModel):
    first: int
    second: int
    first_root: str
    second_root: str
    proof: list[str]


def _tree(request: Request, db: DB) -> Any:
    return request.app.state.ledger_tree.synced(db)


@api.get(
    "/checkpoint",
    response_model=CheckpointOut,
    summary="The newest signed checkpoint (JSON, or the C2SP note as text/plain)",
    responses={
        200: {"content": {"text/plain": {}}},
        404: {"description": "no checkpoint signed yet"},
    },
)
def checkpoint(
    request: Request,
    db: DB,
    old: Annotated[int | None, Query(ge=0, le=2**62)] = None,
) -> Any:
    """The newest checkpoint the platform signed; it signs them itself (``ledger.publish``), never
    on a request. ``Accept: text/plain`` gives the C2SP signed note (the platform's SM2 line and
    the witnesses' cosignatures); ``?old=N`` gives, as text, a tlog-witness ``add-checkpoint``
    body from size N (the consistency proof, then the note), for a witness that polls."""
    key: SM2PrivateKey = request.app.state.ledger_key
    cp = ledger.latest_checkpoint(db)
    if cp is None:
        raise Problem("not-found", detail="账本尚无检查点 (no checkpoint signed yet)")
    legacy = cp.note.startswith(f"{ledger.ORIGIN}\n")
    signed = "" if legacy else ledger.signed_note(cp, key.public_key, ledger.cosignatures(db, cp))
    if old is not None:
        ledger.check_range("old", old, 0, cp.tree_size)
        if legacy:
            raise Problem("not-found", detail="检查点不是 C2SP 格式 (not a C2SP checkpoint)")
        body = add_checkpoint_body(_tree(request, db), old, signed, cp.tree_size)
        return PlainTextResponse(body)
    if signed and "text/plain" in request.headers.get("accept", ""):
        return PlainTextResponse(signed)
    return CheckpointOut(
        tree_size=cp.tree_size,
        root_hash=b64(cp.root_hash),
        algorithm=cp.algorithm,
        created_at=cp.created_at.isoformat(),
        note=cp.note,
        signature=b64(cp.signature),
        key_id=cp.key_id,
        public_key_pem=key.public_key.to_pem(),
        signed_note=signed,
    )


@api.get("/entries", response_model=list[EntryOut], summary="Entries [start, end), with leaf bytes")
def entries(
    db: DB,
    auditor: Auditor,
    start: Index = 0,
    end: Index = 100,
) -> list[EntryOut]:
    return [
        EntryOut(
            index=e.seq, leaf=b64(e.leaf), leaf_hash=b64(e.leaf_hash), entry=json.loads(e.leaf)
        )
        for e in ledger.entries(db, start, end)
    ]


@api.get("/proof/inclusion", response_model=InclusionOut, summary="RFC 9162 inclusion proof")
def inclusion(
    request: Request,
    db: DB,
    index: Index,
    tree_size: Annotated[int, Query(ge=1, le=MAX_INDEX)],
) -> InclusionOut:
    tree = _tree(request, db)
    ledger.check_range("tree_size", tree_size, 1, tree.size)
    ledger.check_range("index", index, 0, tree_size - 1)
    return InclusionOut(
        index=index,
        tree_size=tree_size,
        leaf_hash=b64(tree.leaf_hash(index)),
        root_hash=b64(tree.root(tree_size)),
        proof=[b64(h) for h in tree.inclusion_proof(index, tree_size)],
    )


@api.get("/proof/consistency", response_model=ConsistencyOut, summary="RFC 9162 consistency proof")
def consistency(
    request: Request,
    db: DB,
    first: Index,
    second: Index,
) -> ConsistencyOut:
    tree = _tree(request, db)
    ledger.check_range("second", second, 0, tree.size)
    ledger.check_range("first", first, 0, second)
    return ConsistencyOut(
        first=first,
        second=second,
        first_root=b64(tree.root(first)),
        second_root=b64(tree.root(second)),
        proof=[b64(h) for h in tree.consistency_proof(first, second)],
    )
