"""Accounts on the administrator's workbench: accounts locked after wrong passwords, the
accounts there are, ledger entries not yet under a signed checkpoint; and, for admins and
identity reviewers, the identity bindings someone else requested, waiting for their approval."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuhui.core.clock import utcnow
from shuhui.core.workbench import Todo
from shuhui.trust.identity import bindings
from shuhui.trust.identity.models import LoginThrottle, User
from shuhui.trust.identity.roles import Role
from shuhui.trust.ledger import service as ledger


def count_locked(db: Session) -> int:
    """Account names locked now after too many wrong passwords."""
    query = select(func.count()).where(
        LoginThrottle.scope == "account", LoginThrottle.locked_until > utcnow()
    )
    return int(db.scalar(query) or 0)


def count_active_users(db: Session) -> int:
    return int(db.scalar(select(func.count()).where(User.is_active.is_(True))) or 0)


def unchecked_entries(db: Session) -> int:
    """Ledger entries recorded since the latest signed checkpoint (all of them if none)."""
    return ledger.unchecked_size(db)


def binding_todo(db: Session, user: User) -> list[Todo]:
    """Bindings someone else requested, for whoever may approve them (not the requester)."""
    if not (user.role_set & bindings.APPROVER_ROLES):
        return []
    waiting = bindings.count_to_decide(db, user)
    return [
        Todo(
            "identity.bindings",
            "待批准的身份绑定",
            "Identity bindings to approve",
            waiting,
            "/admin/bindings",
            "核实账户持有人确是本人后批准；不能审批自己提出的申请",
            "Approve once sure the holder is that person; nobody decides their own request",
            urgent=waiting > 0,
        )
    ]


def todos(db: Session, user: User) -> list[Todo]:
    if Role.admin not in user.role_set:
        return binding_todo(db, user)
    locked = count_locked(db)
    return [
        Todo(
            "identity.locked",
            "因密码错误被锁定的账户",
            "Accounts locked after wrong passwords",
            locked,
            "/admin/users",
            "锁定到期自动解除；确认是本人后可重置密码",
            "Locks lift by themselves; reset the password once sure it is the owner",
            urgent=locked > 0,
        ),
        Todo(
            "identity.users",
            "启用中的账户",
            "Active accounts",
            count_active_users(db),
            "/admin/users",
        ),
        Todo(
            "ledger.unchecked",
            "尚未签发检查点的审计记录",
            "Audit entries not yet under a checkpoint",
            unchecked_entries(db),
            "/admin/ledger",
            "在审计账本页签署检查点（SM2 签名的树头），并可校验账本",
            "Sign a checkpoint (an SM2-signed tree head) and verify the ledger on its page",
        ),
        *binding_todo(db, user),
    ]
