"""The administrator's ledger page (``/admin/ledger``): the ledger's state, the latest entries,
and two buttons, one signing a checkpoint now, one verifying the ledger from its stored bytes.

Signing is the platform's checkpointer (``publish.Publisher``) run now, as it runs every second
in the server: it signs, writes the checkpoint to the files in the data directory and pushes it
to the witnesses, and writes no entry (a checkpoint is itself a signed record of the ledger).
Verifying is
:func:`service.verify_ledger`, what ``shuhui audit verify`` runs, bounded to ``VERIFY_LIMIT``
entries so a request stays short; a bigger ledger is verified by the command.

Who is an admin and what an account is called are the identity layer's to say, and identity sits
above the ledger: :func:`admin` refuses everyone and :func:`actor_names` names nobody until the
app binds them (``app.state.ledger_guards`` and ``ledger_actor_names``, in ``shuhui.web.app``),
as for the API's auditor.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from shuhui.core.bounds import MAX_INDEX
from shuhui.core.clock import utcnow
from shuhui.core.display import mask_citizen_id
from shuhui.core.errors import Problem
from shuhui.core.http import DBSession as DB
from shuhui.core.http import render
from shuhui.core.i18n import Text
from shuhui.trust.crypto.sm import SM2PrivateKey
from shuhui.trust.ledger import service as ledger
from shuhui.trust.ledger.actions import action_name, purpose_name
from shuhui.trust.ledger.findings import finding_text
from shuhui.trust.ledger.models import LedgerEntry
from shuhui.trust.ledger.publish import Publisher

pages = APIRouter(include_in_schema=False)

PER_PAGE = 50
MAX_PER_PAGE = 100
# About 1.5 s of verification on the reference machine (docs/benchmarks.md: 1M entries in 16 s).
VERIFY_LIMIT = 100_000

ActorNames = Callable[[Session, Iterable[str]], Mapping[str, str]]


def admin(request: Request) -> object:
    """Lets admins through, once the app binds identity's role check in
    ``app.state.ledger_guards["admin"]``; unbound, nobody."""
    guard = getattr(request.app.state, "ledger_guards", {}).get("admin")
    if guard is None:
        raise Problem("forbidden", detail="账本页面未配置访问控制 (no admin check bound)")
    return guard(request)


def _no_names(db: Session, actors: Iterable[str]) -> Mapping[str, str]:
    return {}


def actor_names(request: Request) -> ActorNames:
    """How accounts and institutions are named: the lookup the app binds in
    ``app.state.ledger_actor_names`` (identity's), else none."""
    names: ActorNames = getattr(request.app.state, "ledger_actor_names", _no_names)
    return names


Admin = Annotated[object, Depends(admin)]
Names = Annotated[ActorNames, Depends(actor_names)]


@dataclass(frozen=True)
class Row:
    seq: int
    at: Any
    action: str
    action_name: Text
    actor: str
    actor_name: Text | str | None
    subject: str
    purpose: str | None
    purpose_name: Text | None
    grant: str | None


def _actor_label(actor: str, names: Mapping[str, str]) -> Text | str | None:
    if actor in names:
        return names[actor]
    if actor == "system":
        return Text("系统自动处理", "The system")
    if actor.startswith("cli:"):
        return Text("服务器上的命令行操作", "A command run on the server")
    if actor.startswith("consumer:"):
        return Text("数据使用方（未登记账户）", "A data consumer without an account")
    if actor == "anonymous":
        return Text("未能识别的调用方", "An unidentified caller")
    return None


def _rows(db: Session, entries: list[LedgerEntry], names: ActorNames) -> list[Row]:
    known = names(db, {e.actor for e in entries})
    return [
        Row(
            seq=e.seq,
            at=e.recorded_at,
            action=e.action,
            action_name=action_name(e.action),
            actor=e.actor,
            actor_name=_actor_label(e.actor, known),
            subject=mask_citizen_id(e.subject) if e.subject else "",
            purpose=e.purpose,
            purpose_name=purpose_name(e.purpose) if e.purpose else None,
            grant=e.grant,
        )
        for e in entries
    ]


@dataclass(frozen=True)
class Verification:
    """What the button 校验账本 checked and found; ``too_big`` when it did not run."""

    entries: int
    checkpoints: int
    findings: list[Text]
    too_big: bool = False


def _verify(db: Session, key: SM2PrivateKey) -> Verification:
    size = ledger.committed_size(db)
    checkpoints = ledger.checkpoint_count(db)
    if size > VERIFY_LIMIT:
        return Verification(size, checkpoints, [], too_big=True)
    found = [finding_text(f) for f in ledger.verify_ledger(db, key.public_key)]
    return Verification(size, checkpoints, found)


def _page(
    request: Request,
    db: Session,
    names: ActorNames,
    *,
    page: int = 1,
    size: int = PER_PAGE,
    signed: int | None = None,
    verification: Verification | None = None,
) -> Response:
    key: SM2PrivateKey = request.app.state.ledger_key
    total, algorithm = ledger.head(db)
    latest = ledger.latest_checkpoint(db)
    pages_count = max(1, math.ceil(total / size))
    return render(
        request,
        "admin_ledger.html",
        {
            "total": total,
            "algorithm": algorithm.upper(),
            "latest": latest,
            "latest_root": latest.root_hash.hex() if latest else "",
            "platform_key": key.public_key.fingerprint(),
            "unchecked": ledger.unchecked_size(db),
            "rows": _rows(db, ledger.newest_entries(db, page, size), names),
            "page": page,
            "size": size,
            "pages": pages_count,
            "signed": signed,
            "verification": verification,
            "verified_at": utcnow(),
            "verify_limit": VERIFY_LIMIT,
        },
    )


@pages.get("/admin/ledger", response_class=HTMLResponse)
def ledger_page(
    request: Request,
    db: DB,
    _: Admin,
    names: Names,
    page: Annotated[int, Query(ge=1, le=1_000_000_000)] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = PER_PAGE,
    signed: Annotated[int | None, Query(ge=0, le=MAX_INDEX)] = None,
) -> Response:
    return _page(request, db, names, page=page, size=size, signed=signed)


@pages.post("/admin/ledger/checkpoint", response_class=HTMLResponse)
def sign_checkpoint(request: Request, db: DB, _: Admin) -> Response:
    """Signs a checkpoint over the whole ledger now (or finds the one already over it)."""
    state = request.app.state
    publisher = Publisher(
        state.settings, state.ledger_key, state.session_factory, state.ledger_tree
    )
    publisher.run_once(force=True, wait=True)
    db.expire_all()
    signed = ledger.latest_checkpoint(db)
    size = signed.tree_size if signed is not None else 0
    return RedirectResponse(f"/admin/ledger?signed={size}", status_code=303)


@pages.post("/admin/ledger/verify", response_class=HTMLResponse)
def verify(request: Request, db: DB, _: Admin, names: Names) -> Response:
    return _page(request, db, names, verification=_verify(db, request.app.state.ledger_key))
