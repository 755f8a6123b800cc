"""Accounts, roles and login sessions. Plain functions over a SQLAlchemy session; no HTTP."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, joinedload

from shuhui.core.clock import utcnow
from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text
from shuhui.trust.crypto.canonical import JsonValue
from shuhui.trust.identity import bindings
from shuhui.trust.identity.models import BindingRequest, LoginSession, LoginThrottle, User, UserRole
from shuhui.trust.identity.roles import Role
from shuhui.trust.identity.schemas import (
    BindingOut,
    PasswordChange,
    UserCreate,
    UserOut,
    UserUpdate,
    refuse_username_in,
)
from shuhui.trust.ledger import service as ledger

# argon2id with argon2-cffi's defaults (RFC 9106's second recommended option: 3 passes over
# 64 MiB): about 0.1 s a hash on one core, which is the point.
DEFAULT_PASSWORD_HASHER: Final = PasswordHasher()
_hasher = DEFAULT_PASSWORD_HASHER
# Verifying against this when the username is unknown keeps both paths equally slow. Made at the
# first login, not at import: a hash is 0.1 s of every process that imports this module (each
# command, each served worker), most of which never check a password.
_DUMMY_HASH: str | None = None


def use_password_hasher(hasher: PasswordHasher) -> None:
    """Hash and verify with ``hasher`` from now on in this process. For the test suite, which
    logs in thousands of times and checks who may log in, not the work factor; stored hashes
    made with other parameters still verify (argon2 reads them from the hash) and are rehashed
    at the next login."""
    global _hasher, _DUMMY_HASH
    _hasher = hasher
    _DUMMY_HASH = None


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = _hasher.hash("shuhui-no-such-user")
    return _DUMMY_HASH


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def to_out(
    user: User, locked_until: datetime | None = None, pending: BindingRequest | None = None
) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        roles=sorted(user.role_set),
        citizen_id=user.citizen_id,
        credit_code=user.credit_code,
        department=user.department,
        is_active=user.is_active,
        must_change_password=user.must_change_password,
        created_at=user.created_at,
        last_login_at=user.last_login_at,
        locked_until=locked_until,
        password_by_holder=user.password_by_holder,
        pending_binding=None if pending is None else binding_out(pending),
    )


def binding_out(row: BindingRequest) -> BindingOut:
    return BindingOut(
        id=row.id,
        username=row.user.username,
        citizen_id=row.citizen_id,
        credit_code=row.credit_code,
        status=row.status,
        requested_by=row.requested_by,
        requested_at=row.requested_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        reason=row.reason,
    )


def get_user_by_username(db: Session, username: str) -> User | None:
    return db.scalar(select(User).where(User.username == username))


# How the data channel's gateway names the institution calling it in the ledger.
CONSUMER_ACTOR = "consumer:"


def actor_names(db: Session, actors: Iterable[str]) -> dict[str, str]:
    """The names people know the ledger's actors by, where an account says so: an account's
    name for its username, an institution's (its account's organisation) for
    ``consumer:<credit code>``. Actors without an account are left out; two queries in all."""
    wanted = set(actors)
    codes = {a.removeprefix(CONSUMER_ACTOR) for a in wanted if a.startswith(CONSUMER_ACTOR)}
    names: dict[str, str] = {}
    if wanted:
        accounts = select(User.username, User.display_name).where(User.username.in_(wanted))
        names.update((username, name) for username, name in db.execute(accounts))
    if codes:
        institutions = (
            select(User.credit_code, User.department, User.display_name)
            .where(User.credit_code.in_(codes))
            .order_by(User.id)
        )
        for code, department, name in db.execute(institutions):
            names.setdefault(f"{CONSUMER_ACTOR}{code}", department or name)
    return names


def list_users(db: Session) -> list[User]:
    return list(db.scalars(select(User).order_by(User.id)))


def create_user(
    db: Session,
    data: UserCreate,
    *,
    actor: str = "system",
    password_hash: str | None = None,
    password_by_holder: bool = False,
) -> User:
    """Creates an account. A citizen ID or credit code in ``data`` is not bound here: it becomes
    a binding request by ``actor`` that someone else must approve (``bindings``). The password
    counts as someone else's choice (signing refused until the person sets their own) unless
    ``password_by_holder``: only the demo's fictional personas and the tests pass it, never a
    route or command."""
    if get_user_by_username(db, data.username) is not None:
        raise Problem(
            "conflict",
            detail=f"用户名 {data.username} 已存在",
            errors=[FieldError("username", Text("已被占用", "already taken"))],
        )
    bindings.check_free(db, data.citizen_id)  # before anything is written
    user = User(
        username=data.username,
        display_name=data.display_name,
        password_hash=password_hash or hash_password(data.password),
        department=data.department,
        password_by_holder=password_by_holder,
        roles=[UserRole(role=r) for r in sorted(set(data.roles))],
    )
    db.add(user)
    db.flush()
    ledger.record(
        db,
        actor,
        "account.created",
        subject=f"user:{user.username}",
        detail={
            "roles": sorted(r.value for r in user.role_set),
            "password_by_holder": password_by_holder,
        },
    )
    if data.citizen_id or data.credit_code:
        bindings.request(
            db, user, citizen_id=data.citizen_id, credit_code=data.credit_code, actor=actor
        )
    return user


def user_or_404(db: Session, username: str) -> User:
    user = None if "\x00" in username else get_user_by_username(db, username)
    if user is None:
        raise Problem("not-found", detail=f"用户 {username} 不存在")
    return user


def _keep_an_admin(db: Session, user: User, *, losing: str) -> None:
    """Refuses a change that would leave no active admin: nobody could then manage accounts
    from the web (``shuhui users`` at the server would be the only way back)."""
    if Role.admin not in user.role_set or not user.is_active:
        return
    others = db.scalar(
        select(User.id)
        .join(UserRole)
        .where(UserRole.role == Role.admin, User.is_active.is_(True), User.id != user.id)
        .limit(1)
    )
    if others is None:
        raise Problem(
            "conflict",
            detail="至少要保留一个启用的系统管理员账户",
            errors=[FieldError(losing, "这是最后一个启用的系统管理员账户")],
        )


def set_roles(db: Session, user: User, roles: list[Role], *, actor: str = "system") -> User:
    before = sorted(r.value for r in user.role_set)
    wanted = set(roles)
    if Role.admin not in wanted:
        _keep_an_admin(db, user, losing="roles")
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


def update_user(db: Session, user: User, data: UserUpdate, *, actor: str) -> User:
    """An admin's change to an account's name or department; recorded with what it was."""
    before: dict[str, JsonValue] = {}
    after: dict[str, JsonValue] = {}
    if data.display_name is not None and data.display_name != user.display_name:
        before["display_name"], after["display_name"] = user.display_name, data.display_name
        user.display_name = data.display_name
    if "department" in data.model_fields_set:
        department = data.department or None
        if department != user.department:
            before["department"], after["department"] = user.department, department
            user.department = department
    if not after:
        return user  # nothing changed, nothing to record
    db.flush()
    ledger.record(
        db,
        actor,
        "account.updated",
        subject=f"user:{user.username}",
        detail={"before": before, "after": after},
    )
    return user


def set_active(db: Session, user: User, active: bool, *, actor: str, reason: str = "") -> User:
    """Disables an account (it cannot log in, and its sessions end now) or enables it again."""
    if user.is_active == active:
        return user
    if not active:
        if actor == user.username:
            raise Problem(
                "conflict",
                detail="不能停用自己正在使用的账户",
                errors=[FieldError("username", "不能停用自己")],
            )
        _keep_an_admin(db, user, losing="username")
        end_sessions_of(db, user)
    else:
        # A fresh start: failures counted before it was disabled no longer hold it back.
        clear_failures(db, user.username)
    user.is_active = active
    db.flush()
    ledger.record(
        db,
        actor,
        "account.enabled" if active else "account.disabled",
        subject=f"user:{user.username}",
        detail={"reason": reason} if reason else None,
    )
    return user


def change_password(db: Session, user: User, data: PasswordChange, *, keep: str | None) -> User:
    """A person's own change: the old password must match. Every other session of the account
    ends (a change is often made because someone else may know the old one); ``keep`` is the
    token of the session making the change."""
    if not verify_password(user.password_hash, data.old_password):
        raise Problem(
            "validation",
            detail="原密码不正确",
            errors=[FieldError("old_password", "原密码不正确")],
        )
    try:
        refuse_username_in(data.new_password, user.username)
    except ValueError as exc:
        raise Problem(
            "validation", detail=str(exc), errors=[FieldError("new_password", str(exc))]
        ) from None
    forced = user.must_change_password
    _set_password(user, data.new_password)
    user.password_by_holder = True
    end_sessions_of(db, user, keep=keep)
    db.flush()
    ledger.record(
        db,
        user.username,
        "account.password_changed",
        subject=f"user:{user.username}",
        detail={"after_reset": forced},
    )
    return user


def reset_password(db: Session, user: User, temporary: str | None, *, actor: str) -> str:
    """An admin's reset: a temporary password (made here when none is given) that the person
    must replace at the next login. Every session of the account ends, and failures counted
    against it are forgotten. Returns the temporary password, to be handed over once."""
    password = temporary or make_temporary_password()
    _set_password(user, password)
    user.must_change_password = True
    end_sessions_of(db, user)
    clear_failures(db, user.username)
    db.flush()
    ledger.record(
        db,
        actor,
        "account.password_reset",
        subject=f"user:{user.username}",
        detail={"must_change_password": True},
    )
    _set_by_someone_else(db, user, actor)
    return password


def set_password(db: Session, user: User, password: str, *, actor: str, temporary: bool) -> User:
    """A password set at the server (``shuhui users passwd``): the operator's act, recorded;
    ``temporary`` makes the person replace it at the next login."""
    _set_password(user, password)
    user.must_change_password = temporary
    end_sessions_of(db, user)
    clear_failures(db, user.username)
    db.flush()
    ledger.record(
        db,
        actor,
        "account.password_reset" if temporary else "account.password_set",
        subject=f"user:{user.username}",
        detail={"must_change_password": temporary},
    )
    _set_by_someone_else(db, user, actor)
    return user


# Told when someone other than the holder sets an account's password (an admin's reset, the
# operator's ``shuhui users passwd``): ``trust.authorisations`` revokes the person's platform-held
# signing key, which sits above identity and so registers itself (``on_password_set_for``).
PasswordSetFor = Callable[[Session, User, str], None]
_password_listeners: dict[str, PasswordSetFor] = {}


def on_password_set_for(name: str, listener: PasswordSetFor) -> None:
    """Calls ``listener(db, user, actor)`` in the setter's transaction whenever someone else
    sets ``user``'s password; registering a name again replaces its listener."""
    _password_listeners[name] = listener


def _set_by_someone_else(db: Session, user: User, actor: str) -> None:
    user.password_by_holder = False
    db.flush()
    for listener in list(_password_listeners.values()):
        listener(db, user, actor)


def _set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    user.must_change_password = False


# Letters and digits no one misreads when an admin reads the password out (no 0/O, 1/l/I).
_TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def make_temporary_password() -> str:
    """Three groups of four, e.g. ``k7Qm-x3Fa-9TzR``: about 70 bits, easy to read out."""
    while True:
        groups = ["".join(secrets.choice(_TEMPORARY_ALPHABET) for _ in range(4)) for _ in "abc"]
        candidate = "-".join(groups)
        if any(c.isdigit() for c in candidate):
            return candidate


def check_credentials(db: Session, username: str, password: str) -> User | None:
    """The account if the password is right and the account active, else None; both paths
    take one password hash's time, so timing does not tell which names exist."""
    # Made before either path, so the first login of a process costs the same whichever it takes.
    dummy = _dummy_hash()
    # No account name holds a NUL, and PostgreSQL refuses one in a query parameter outright.
    user = None if "\x00" in username else get_user_by_username(db, username)
    if user is None:
        verify_password(dummy, password)
        return None
    if not verify_password(user.password_hash, password) or not user.is_active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def authenticate(db: Session, username: str, password: str) -> User:
    """``check_credentials`` refusing with a problem (no throttle: see ``throttle.attempt``)."""
    user = check_credentials(db, username, password)
    if user is None:
        raise Problem("invalid-credentials")
    return user


def clear_failures(db: Session, username: str) -> None:
    """Forgets the wrong passwords counted against an account name (not its addresses')."""
    db.execute(
        delete(LoginThrottle).where(
            LoginThrottle.scope == "account", LoginThrottle.key == username[:128]
        )
    )


def account_locks(db: Session, usernames: list[str] | None = None) -> Mapping[str, datetime]:
    """Until when each locked account name is locked (for the admin's list)."""
    query = select(LoginThrottle.key, LoginThrottle.locked_until).where(
        LoginThrottle.scope == "account", LoginThrottle.locked_until > utcnow()
    )
    if usernames is not None:
        query = query.where(LoginThrottle.key.in_(usernames))
    return {key: until for key, until in db.execute(query) if until is not None}


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
    # One query: the session, its account and the account's roles (every request asks this).
    found = (
        db.execute(
            select(LoginSession)
            .options(joinedload(LoginSession.user).joinedload(User.roles))
            .where(LoginSession.token_hash == _token_hash(token))
        )
        .unique()
        .scalar_one_or_none()
    )
    if found is None or found.expires_at <= utcnow() or not found.user.is_active:
        return None
    return found.user


def count_sessions(db: Session, user: User) -> int:
    """The account's open sessions (what disabling or a reset would end)."""
    return int(
        db.scalar(
            select(func.count())
            .select_from(LoginSession)
            .where(LoginSession.user_id == user.id, LoginSession.expires_at > utcnow())
        )
        or 0
    )


def end_sessions_of(db: Session, user: User, *, keep: str | None = None) -> int:
    """Ends every session of ``user`` (but the one whose token is ``keep``)."""
    query = delete(LoginSession).where(LoginSession.user_id == user.id)
    if keep:
        query = query.where(LoginSession.token_hash != _token_hash(keep))
    return int(getattr(db.execute(query), "rowcount", 0) or 0)


def end_session(db: Session, token: str | None) -> None:
    if token:
        db.execute(delete(LoginSession).where(LoginSession.token_hash == _token_hash(token)))


def purge_expired_sessions(db: Session) -> int:
    result = db.execute(delete(LoginSession).where(LoginSession.expires_at <= utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)
