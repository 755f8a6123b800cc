"""Binding a citizen ID or a credit code to an account, by two people.

Whoever holds an account bound to a citizen ID signs in that person's name (委托授权, 用证授权),
so no single administrator may bind one: an admin (or, at the server, the operator) *requests*
the binding, and a second person *approves* it before the account is bound:

- who may request: an admin, through the account pages or the API (at creation, or later); the
  operator at the command line (``shuhui users add``), recorded as ``cli:<login>``;
- who may approve or reject: an active account holding ``admin`` or ``identity_reviewer``
  (身份核验员), never the one who requested it nor the account to be bound. A refused
  decision (one's own request, a role that may not decide) is itself a ledger entry, written
  in the caller's transaction: the routes answer the refusal rather than raise it, so it is
  committed.

The request, the approval or rejection and the refused attempts are ledger entries
(``account.binding_*``) naming the account, the IDs and the request. Until approved the
account is not bound: it acts as nobody.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuhui.core.clock import utcnow
from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text
from shuhui.trust.crypto.canonical import JsonValue
from shuhui.trust.identity.models import BindingRequest, User
from shuhui.trust.identity.roles import Role
from shuhui.trust.ledger import service as ledger

# Who may approve or reject a binding someone else requested.
APPROVER_ROLES: Final = frozenset({Role.admin, Role.identity_reviewer})
PENDING: Final = "pending"
STATUS_ZH: Final = {"pending": "待批准", "approved": "已批准", "rejected": "已驳回"}


def pending_of(db: Session, user: User) -> BindingRequest | None:
    """The account's binding waiting for a second person, if any."""
    return db.scalar(
        select(BindingRequest).where(
            BindingRequest.user_id == user.id, BindingRequest.status == PENDING
        )
    )


def pending_by_user(db: Session) -> dict[int, BindingRequest]:
    """Every pending binding by account id (for the account list)."""
    query = select(BindingRequest).where(BindingRequest.status == PENDING)
    return {r.user_id: r for r in db.scalars(query)}


def listing(db: Session, *, pending_only: bool, limit: int = 200) -> list[BindingRequest]:
    """Bindings, pending first, then the latest decided."""
    query = select(BindingRequest)
    if pending_only:
        query = query.where(BindingRequest.status == PENDING)
    order = (BindingRequest.status != PENDING, BindingRequest.id.desc())
    return list(db.scalars(query.order_by(*order).limit(limit)))


def count_to_decide(db: Session, user: User) -> int:
    """Pending bindings ``user`` may decide: those someone else requested, for another account."""
    if not (user.role_set & APPROVER_ROLES):
        return 0
    query = select(func.count()).where(
        BindingRequest.status == PENDING,
        BindingRequest.requested_by != user.username,
        BindingRequest.user_id != user.id,
    )
    return int(db.scalar(query) or 0)


def check_free(db: Session, citizen_id: str | None) -> None:
    """Refuses a citizen ID another account holds or a pending request names (checked before
    an account is made for it, so that a refusal leaves nothing behind)."""
    if citizen_id is None:
        return
    _taken(db, None, citizen_id)
    _rival(db, citizen_id)


def _taken(db: Session, user: User | None, citizen_id: str | None) -> None:
    if citizen_id is None:
        return
    query = select(User.id).where(User.citizen_id == citizen_id)
    if user is not None:
        query = query.where(User.id != user.id)
    other = db.scalar(query)
    if other is not None:
        raise Problem(
            "conflict",
            detail="该身份证号已绑定其他账户",
            errors=[
                FieldError("citizen_id", Text("已绑定其他账户", "already bound to another account"))
            ],
        )


def request(
    db: Session,
    user: User,
    *,
    citizen_id: str | None,
    credit_code: str | None,
    actor: str,
) -> BindingRequest:
    """Asks for ``citizen_id`` and/or ``credit_code`` (already validated) to be bound to
    ``user``; nothing is bound until someone else approves."""
    if citizen_id is None and credit_code is None:
        raise Problem(
            "validation",
            detail="请填写要绑定的身份证号或统一社会信用代码",
            errors=[FieldError("citizen_id", Text("请填写", "give a citizen ID or credit code"))],
        )
    if (citizen_id or user.citizen_id, credit_code or user.credit_code) == (
        user.citizen_id,
        user.credit_code,
    ):
        raise Problem(
            "conflict",
            detail="该账户已绑定这些身份",
            errors=[FieldError("citizen_id", Text("已绑定", "already bound"))],
        )
    _taken(db, user, citizen_id)
    if pending_of(db, user) is not None:
        raise Problem(
            "conflict",
            detail="该账户已有待批准的绑定申请",
            errors=[FieldError("citizen_id", Text("已有待批准的申请", "a request is pending"))],
        )
    _rival(db, citizen_id)
    row = BindingRequest(
        user_id=user.id,
        citizen_id=citizen_id,
        credit_code=credit_code,
        status=PENDING,
        requested_by=actor[:64],
        requested_at=utcnow(),
    )
    db.add(row)
    db.flush()
    ledger.record(
        db,
        actor,
        "account.binding_requested",
        subject=f"user:{user.username}",
        detail=_detail(row),
    )
    return row


def _rival(db: Session, citizen_id: str | None) -> None:
    if citizen_id is None:
        return
    rival = db.scalar(
        select(BindingRequest.id).where(
            BindingRequest.status == PENDING, BindingRequest.citizen_id == citizen_id
        )
    )
    if rival is not None:
        raise Problem(
            "conflict",
            detail="已有把该身份证号绑定到其他账户的申请在等待批准",
            errors=[
                FieldError("citizen_id", Text("已有待批准的申请", "another request is pending"))
            ],
        )


def _detail(row: BindingRequest) -> dict[str, JsonValue]:
    return {"request": row.id, "citizen_id": row.citizen_id, "credit_code": row.credit_code}


def get_or_404(db: Session, request_id: int) -> BindingRequest:
    row = db.get(BindingRequest, request_id) if 0 < request_id < 2**63 else None
    if row is None:
        raise Problem("not-found", detail=f"绑定申请 {request_id} 不存在")
    return row


def _may_decide(db: Session, row: BindingRequest, decider: User, decision: str) -> None:
    """Refuses (and records the refused attempt) a decision ``decider`` may not make."""
    reason: Text | None = None
    if not decider.is_active or not (decider.role_set & APPROVER_ROLES):
        reason = Text(
            "只有系统管理员或身份核验员可以审批身份绑定",
            "only an administrator or identity reviewer decides bindings",
        )
    elif decider.username == row.requested_by:
        reason = Text(
            "不能审批自己提出的绑定申请，须由另一位管理员或身份核验员审批",
            "a binding is decided by someone other than who requested it",
        )
    elif decider.id == row.user_id:
        reason = Text(
            "不能审批绑定到自己账户的申请，须由另一位管理员或身份核验员审批",
            "nobody decides a binding to their own account",
        )
    if reason is None:
        return
    ledger.record(
        db,
        decider.username,
        "account.binding_refused",
        subject=f"user:{row.user.username}",
        detail={**_detail(row), "decision": decision, "reason": str(reason)},
    )
    raise Problem("forbidden", detail=reason, errors=[FieldError("decision", reason)])


def _still_pending(row: BindingRequest) -> None:
    if row.status != PENDING:
        raise Problem(
            "conflict",
            detail=f"这项绑定申请已{STATUS_ZH.get(row.status, row.status)}",
            errors=[FieldError("decision", Text("已处理", f"already {row.status}"))],
        )


def approve(db: Session, row: BindingRequest, *, approver: User) -> User:
    """Binds the IDs: ``approver`` is not who asked. A refusal is recorded, then raised: the
    caller commits it (see the module's docstring)."""
    _still_pending(row)
    _may_decide(db, row, approver, "approve")
    user = row.user
    _taken(db, user, row.citizen_id)
    before = {"citizen_id": user.citizen_id, "credit_code": user.credit_code}
    if row.citizen_id is not None:
        user.citizen_id = row.citizen_id
    if row.credit_code is not None:
        user.credit_code = row.credit_code
    row.status, row.decided_by, row.decided_at = "approved", approver.username, utcnow()
    db.flush()
    ledger.record(
        db,
        approver.username,
        "account.binding_approved",
        subject=f"user:{user.username}",
        detail={**_detail(row), "requested_by": row.requested_by, "before": before},
    )
    return user


def reject(db: Session, row: BindingRequest, *, approver: User, reason: str) -> BindingRequest:
    """Rejects the request, with the reason; the account stays as it was."""
    _still_pending(row)
    _may_decide(db, row, approver, "reject")
    row.status, row.decided_by, row.decided_at = "rejected", approver.username, utcnow()
    row.reason = reason[:500]
    db.flush()
    ledger.record(
        db,
        approver.username,
        "account.binding_rejected",
        subject=f"user:{row.user.username}",
        detail={**_detail(row), "requested_by": row.requested_by, "reason": row.reason},
    )
    return row
