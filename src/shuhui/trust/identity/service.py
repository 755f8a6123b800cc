"""Accounts, roles and login sessions. Plain functions over a SQLAlchemy session; no HTTP."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from shuhui.core.clock import utcnow
from shuhui.core.errors import FieldError, Problem
from shuhui.trust.identity.models import LoginSession, Role, User, UserRole
from shuhui.trust.identity.schemas import UserCreate, UserOut
from shuhui.trust.ledger import service as ledger

_hasher = PasswordHasher()
# Verifying against this when the username is unknown keeps both paths equally slow.
_DUMMY_HASH = _hasher.hash("shuhui-no-such-user")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def to_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        roles=sorted(user.role_set),
        citizen_id=user.citizen_id,
        credit_code=user.credit_code,
        department=user.department,
        is_active=user.is_active,
        created_at=user.created_at,
        last_login_at=user.last_login_at,
    )


def get_user_by_username(db: Session, username: str) -> User | None:
    return db.scalar(select(User).where(User.username == username))


def list_users(db: Session) -> list[User]:
    return list(db.scalars(select(User).order_by(User.id)))


def create_user(
    db: Session, data: UserCreate, *, actor: str = "system", password_hash: str | None = None
) -> User:
    if get_user_by_username(db, data.username) is not None:
        raise Problem(
            "conflict",
            detail=f"用户名 {data.username} 已存在",
            errors=[FieldError("username", "already taken")],
        )
    if data.citizen_id and db.scalar(select(User).where(User.citizen_id == data.citizen_id)):
        raise Problem(
            "conflict",
            detail="该身份证号已绑定其他账户",
            errors=[FieldError("citizen_id", "already bound to another account")],
        )
    user = User(
        username=data.username,
        display_name=data.display_name,
        password_hash=password_hash or hash_password(data.password),
        citizen_id=data.citizen_id,
        credit_code=data.credit_code,
        department=data.department,
        roles=[UserRole(role=r) for r in sorted(set(data.roles))],
    )
    db.add(user)
    db.flush()
    ledger.record(
        db,
        actor,
        "account.created",
        subject=f"user:{user.username}",
        detail={"roles": sorted(r.value for r in user.role_set)},
    )
    return user


def set_roles(db: Session, user: User, roles: list[Role], *, actor: str = "system") -> User:
    before = sorted(r.value for r in user.role_set)
    wanted = set(roles)
    user.roles = [r for r in user.roles if r.role in wanted] + [
        UserRole(role=r) for r in sorted(wanted - user.role_set)
    ]
    db.flush()
    ledger.record(
        db,
        actor,
        "account.roles_changed",
        subject=f"user:{user.username}",
        detail={"before": before, "after": sorted(r.value for r in wanted)},
    )
    return user


def authenticate(db: Session, username: str, password: str) -> User:
    # No account name holds a NUL, and PostgreSQL refuses one in a query parameter outright.
    user = None if "\x00" in username else get_user_by_username(db, username)
    if user is None:
        verify_password(_DUMMY_HASH, password)
        raise Problem("invalid-credentials")
    if not verify_password(user.password_hash, password) or not user.is_active:
        raise Problem("invalid-credentials")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(db: Session, user: User, *, hours: int, user_agent: str | None = None) -> str:
    """Opens a login session and returns the token for the cookie (never stored in clear)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.add(
        LoginSession(
            token_hash=_token_hash(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + timedelta(hours=hours),
            user_agent=(user_agent or "")[:256] or None,
        )
    )
    user.last_login_at = now
    db.flush()
    return token


def resolve_session(db: Session, token: str | None) -> User | None:
    if not token:
        return None
    found = db.scalar(select(LoginSession).where(LoginSession.token_hash == _token_hash(token)))
    if found is None or found.expires_at <= utcnow() or not found.user.is_active:
        return None
    return found.user


def end_session(db: Session, token: str | None) -> None:
    if token:
        db.execute(delete(LoginSession).where(LoginSession.token_hash == _token_hash(token)))


def purge_expired_sessions(db: Session) -> int:
    result = db.execute(delete(LoginSession).where(LoginSession.expires_at <= utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)
