"""Accounts on the administrator's workbench: accounts locked after wrong passwords, the
accounts there are, and ledger entries not yet under a signed checkpoint."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuhui.core.clock import utcnow
from shuhui.core.workbench import Todo
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


def todos(db: Session, user: User) -> list[Todo]:
    if Role.admin not in user.role_set:
        return []
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
    ]
