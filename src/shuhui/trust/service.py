"""Accounts, roles and login sessions. Plain functions over a SQLAlchemy session; no HTTP."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from shuhui.core.clock import utcnow
from shuhui.core.errors import FieldError, Problem
from shuhui.trust import ledger
from shuhui.trust.models import LoginSession, Role, User, UserRole
from shuhui.trust.schemas import UserCreate, UserOut

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


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    display_name: str
    roles: tuple[Role, ...]
    department: str | None = None
    citizen_id: str | None = None
    credit_code: str | None = None


# Printed by `shuhui demo`; demo accounts exist only where someone ran the demo.
DEMO_PASSWORD = "Shuhui@2026"  # noqa: S105

DEMO_ACCOUNTS = (
    DemoAccount("admin", DEMO_PASSWORD, "系统管理员", (Role.admin,)),
    DemoAccount(
        "operator",
        DEMO_PASSWORD,
        "大数据局 王运营",
        (Role.data_operator,),
        "青岛市大数据发展管理局",
    ),
    DemoAccount(
        "officer", DEMO_PASSWORD, "人社局 李科员", (Role.officer,), "青岛市人力资源和社会保障局"
    ),
    DemoAccount(
        "approver", DEMO_PASSWORD, "审批局 赵审批", (Role.officer,), "青岛市行政审批服务局"
    ),
    DemoAccount(
        "citizen", DEMO_PASSWORD, "张小青", (Role.citizen,), citizen_id="370202199003151233"
    ),
    DemoAccount(
        "enterprise",
        DEMO_PASSWORD,
        "青岛海湾示范科技有限公司",
        (Role.enterprise,),
        credit_code="91370202MA3C4D5E6T",
    ),
    DemoAccount(
        "bank",
        DEMO_PASSWORD,
        "青岛示范银行 数据接口",
        (Role.consumer,),
        "青岛示范银行",
        credit_code="9137021460181590X0",
    ),
    DemoAccount(
        "insurer",
        DEMO_PASSWORD,
        "青岛示范人寿 核保接口",
        (Role.consumer,),
        "青岛示范人寿保险股份有限公司",
        credit_code="91370200MA3R7B9K1L",
    ),
    DemoAccount("health", DEMO_PASSWORD, "卫健委 陈科员", (Role.officer,), "青岛市卫生健康委员会"),
    DemoAccount("tax", DEMO_PASSWORD, "税务局 刘科员", (Role.officer,), "国家税务总局青岛市税务局"),
    # The departments that implement the city's policies (content/qingdao/policies/).
    DemoAccount("civil", DEMO_PASSWORD, "民政局 周科员", (Role.officer,), "青岛市民政局"),
    DemoAccount("disability", DEMO_PASSWORD, "残联 吴干事", (Role.officer,), "青岛市残疾人联合会"),
)


def ensure_demo_accounts(db: Session) -> list[DemoAccount]:
    """Creates the demo accounts that are missing; running it again changes nothing."""
    created: list[DemoAccount] = []
    # Hashing is deliberately slow; the accounts share one demo password, so hash it once.
    hashes: dict[str, str] = {}
    for account in DEMO_ACCOUNTS:
        if get_user_by_username(db, account.username) is not None:
            continue
        if account.password not in hashes:
            hashes[account.password] = hash_password(account.password)
        create_user(
            db,
            UserCreate(
                username=account.username,
                display_name=account.display_name,
                password=account.password,
                roles=list(account.roles),
                department=account.department,
                citizen_id=account.citizen_id,
                credit_code=account.credit_code,
            ),
            actor="shuhui demo",
            password_hash=hashes[account.password],
        )
        created.append(account)
    return created


def bind_demo_enterprise(
    db: Session, *, credit_code: str, legal_rep_citizen_id: str, name: str, actor: str
) -> bool:
    """Makes the demo enterprise account one of the demo city's registered enterprises, acting
    through its legal representative, so it can sign authorisations for it. Idempotent."""
    user = get_user_by_username(db, "enterprise")
    if user is None:
        return False
    if (user.credit_code, user.citizen_id) == (credit_code, legal_rep_citizen_id):
        return False
    taken = db.scalar(
        select(User).where(User.citizen_id == legal_rep_citizen_id, User.id != user.id)
    )
    if taken is not None:
        return False
    before = {"credit_code": user.credit_code, "citizen_id": user.citizen_id}
    user.credit_code = credit_code
    user.citizen_id = legal_rep_citizen_id
    user.display_name = name
    db.flush()
    ledger.record(
        db,
        actor,
        "account.identity_bound",
        subject=f"user:{user.username}",
        purpose="demo: the enterprise account acts for a registered enterprise",
        detail={"before": before, "credit_code": credit_code, "name": name},
    )
    return True
