"""The binding pages: an admin requests binding a citizen ID or credit code to an account (on
the account's page, ``admin_pages``), and another admin or identity reviewer approves or
rejects it on ``/admin/bindings``. Approving and rejecting are risky acts: the first post asks
(``core.confirm``), only the confirmed one acts. A refused decision (one's own request) is
recorded by the service and kept: the page answers it, it does not roll it back."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from shuhui.core.confirm import Ask, ask_first, confirmed
from shuhui.core.display import mask_citizen_id, shown_errors
from shuhui.core.errors import Problem
from shuhui.core.forms import validate
from shuhui.core.http import render
from shuhui.trust.identity import bindings, service
from shuhui.trust.identity.deps import DB, BindingApprover
from shuhui.trust.identity.models import BindingRequest, User
from shuhui.trust.identity.schemas import BindingDecision

pages = APIRouter(include_in_schema=False)

RequestId = Annotated[int, Path(ge=1, le=2**63 - 1)]
LABELS = {
    "citizen_id": ("身份证号", "Citizen ID"),
    "credit_code": ("统一社会信用代码", "Credit code"),
    "decision": ("审批", "Decision"),
    "reason": ("原因", "Reason"),
}


def _label(field: str) -> tuple[str, str]:
    return LABELS.get(field, (field, field))


def _page(
    request: Request,
    db: Session,
    viewer: str,
    refusal: Problem | None = None,
    *,
    done: str | None = None,
    status: int = 200,
) -> Response:
    rows = bindings.listing(db, pending_only=False)
    people = {r.requested_by for r in rows} | {r.decided_by for r in rows if r.decided_by}
    return render(
        request,
        "admin_bindings.html",
        {
            "rows": rows,
            "names": service.actor_names(db, people),
            "viewer": viewer,
            "status_zh": bindings.STATUS_ZH,
            "done": done,
            **shown_errors(refusal, _label),
        },
        status=status,
    )


@pages.get("/admin/bindings", response_class=HTMLResponse)
def bindings_page(request: Request, db: DB, who: BindingApprover, done: str = "") -> Response:
    return _page(request, db, who.username, done=done[:16] or None)


def _whom(row: BindingRequest) -> tuple[str, str]:
    ids = [mask_citizen_id(row.citizen_id) if row.citizen_id else "", row.credit_code or ""]
    shown = "、".join(i for i in ids if i)
    return (
        f"账户“{row.user.display_name}”绑定 {shown}",
        f"account {row.user.username} ({row.user.display_name}) bound to {shown}",
    )


def _ask(row: BindingRequest, decision: str, requester: str) -> Ask:
    zh, en = _whom(row)
    if decision == "approve":
        return Ask(
            title=("批准身份绑定", "Approve the binding"),
            summary=(f"批准后，{zh}，即可以此人（企业）的名义签署授权。", f"Once approved, {en}."),
            action=f"/admin/bindings/{row.id}/approve",
            cancel="/admin/bindings",
            button=("确认批准", "Approve"),
            consequences=(
                (
                    f"由{requester}申请，您批准，两人都记入审计账本；",
                    f"requested by {requester}, approved by you: both in the audit ledger;",
                ),
                (
                    "请先核实账户持有人确是本人（如查验证件），再批准。",
                    "check first that the holder is that person (their ID papers).",
                ),
            ),
        )
    return Ask(
        title=("驳回身份绑定", "Reject the binding"),
        summary=(f"驳回申请：{zh}。账户保持不变。", f"Reject: {en}. The account stays as it is."),
        action=f"/admin/bindings/{row.id}/reject",
        cancel="/admin/bindings",
        button=("确认驳回", "Reject"),
    )


async def _decide(
    request: Request, db: Session, who: User, request_id: int, decision: str
) -> Response:
    row = bindings.get_or_404(db, request_id)
    form = await request.form()
    typed = {"decision": decision, "reason": str(form.get("reason") or "")}
    try:
        given = validate(BindingDecision, typed)
        if not confirmed(form):
            # The question first; a forged or scripted single post changes nothing.
            requester = service.actor_names(db, [row.requested_by]).get(row.requested_by, "")
            return ask_first(request, _ask(row, decision, requester or "他人"), form)
        if given.decision == "approve":
            bindings.approve(db, row, approver=who)
        else:
            bindings.reject(db, row, approver=who, reason=given.reason)
    except Problem as refusal:
        # Kept, not rolled back: a refused decision is in the ledger (the service wrote it).
        return _page(request, db, who.username, refusal, status=refusal.http_status)
    return RedirectResponse(f"/admin/bindings?done={row.status}", status_code=303)


@pages.post("/admin/bindings/{request_id}/approve", response_class=HTMLResponse)
async def approve(
    request: Request, db: DB, who: BindingApprover, request_id: RequestId
) -> Response:
    return await _decide(request, db, who, request_id, "approve")


@pages.post("/admin/bindings/{request_id}/reject", response_class=HTMLResponse)
async def reject(request: Request, db: DB, who: BindingApprover, request_id: RequestId) -> Response:
    return await _decide(request, db, who, request_id, "reject")
