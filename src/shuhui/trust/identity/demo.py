"""The demo accounts: who they are is content (``content/<city>/demo-accounts.yaml``, checked when
loaded), the password they share is :data:`DEMO_PASSWORD`.

An account may name what it does in the demo city (``demo_city``): ``{offer: <policy>}`` for the
citizen and the enterprise (``shuhui demo`` binds the account to a member of the city eligible for
that policy and offers it), ``{grant: <product>}`` for a data consumer (the demo onboards it up to
a grant of that product), ``{certify: <rule>}`` for a pensioner (the demo binds the account to a
pension recipient the certification cycle found without evidence, ``shuhui.demo.certification``),
``{remind: <reminder>}`` for a person a proactive reminder finds (the demo binds the account to
such a member and sends it, ``shuhui.hrss.reminders``); ``{assess: <kind>}`` for an injured
employee whose labour-capacity assessment the demo files (``shuhui.demo.injury``).
The IDs the file gives are the account's until then: the test apps,
which have no city, keep them. ``shuhui.demo`` does the binding. Every binding, the file's and
the city's, is requested by the demo admin and approved by the demo identity reviewer
(``trust.identity.bindings``), so the content names one of each.

The password stays in code: it is not something a city configures, ``shuhui demo`` prints it,
and tests log in with it; a content file with a password in it would invite real ones.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuhui.core.clock import local_today
from shuhui.core.content import ContentError, Item, load_items
from shuhui.core.ids import InvalidIdentifier, parse_citizen_id, parse_credit_code
from shuhui.trust.identity import bindings
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role
from shuhui.trust.identity.schemas import UserCreate
from shuhui.trust.identity.service import create_user, get_user_by_username, hash_password
from shuhui.trust.ledger import service as ledger

# Printed by `shuhui demo`; demo accounts exist only where someone ran the demo.
DEMO_PASSWORD = "Shuhui@2026"  # noqa: S105
CONTENT: Final = ("demo-accounts.yaml", "demo-accounts")
USERNAME: Final = re.compile(r"^[a-z][a-z0-9_.-]{2,63}$")
FIELDS: Final = frozenset({"roles", "department", "citizen_id", "credit_code", "demo_city"})
# What an account may be given in the demo city (see the module's docstring).
DEMO_CITY_ROLES: Final = frozenset({"offer", "grant", "certify", "remind", "assess"})
# What a consumer's grant may say of its application (else a bank's credit checks).
USE: Final = frozenset({"purpose", "legal_basis", "usage"})
SLUG: Final = re.compile(r"^[a-z][a-z0-9-]{1,63}$")
# Their work is scoped to a department (reviews, campaigns), so they must name one.
NEEDS_DEPARTMENT: Final = frozenset({Role.officer, Role.data_operator})


@dataclass(frozen=True)
class DemoAccount:
    username: str
    display_name: str
    roles: tuple[Role, ...]
    department: str | None = None
    citizen_id: str | None = None
    credit_code: str | None = None
    # ("offer", policy), ("grant", product) or ("certify", rule): what `shuhui demo` gives the
    # account in the city.
    demo_city: tuple[str, str] | None = None
    # A consumer's application for its grant: purpose, legal basis and usage (None: the file's
    # defaults for a bank's credit checks, see shuhui.demo.city).
    demo_use: tuple[str, str, str] | None = None


def demo_accounts(city_content: Path, on: date | None = None) -> tuple[DemoAccount, ...]:
    """The city's demo accounts in force on ``on`` (default: today), checked."""
    day = on or local_today()
    return tuple(a for a, item in _load(city_content / CONTENT[0]) if item.in_force(day))


@lru_cache(maxsize=8)
def _load(path: Path) -> tuple[tuple[DemoAccount, Item], ...]:
    items = load_items(path, CONTENT[1])
    out: list[tuple[DemoAccount, Item]] = []
    bound: dict[str, str] = {}
    for item in items:
        account = _account(path, item)
        if account.citizen_id is not None:
            if account.citizen_id in bound:
                raise ContentError(
                    path,
                    f"{item.code}.citizen_id",
                    f"already bound to {bound[account.citizen_id]} (one account per person)",
                )
            bound[account.citizen_id] = item.code
        out.append((account, item))
    return tuple(out)


def _account(path: Path, item: Item) -> DemoAccount:
    where = item.code
    if not USERNAME.match(item.code):
        raise ContentError(
            path, f"{where}.code", "a username: 3-64 of a-z 0-9 _ . -, from a letter"
        )
    unknown = sorted(set(item.attrs) - FIELDS)
    if unknown:
        raise ContentError(
            path, f"{where}.{unknown[0]}", f"unknown field (known: {sorted(FIELDS)})"
        )
    roles = item.attrs.get("roles")
    if not isinstance(roles, list) or not roles:
        raise ContentError(path, f"{where}.roles", "a non-empty list of roles")
    known = {r.value for r in Role}
    for role in roles:
        if role not in known:
            raise ContentError(path, f"{where}.roles", f"{role!r}: not one of {sorted(known)}")
    department = _optional_text(path, f"{where}.department", item.attrs.get("department"))
    parsed = tuple(sorted({Role(r) for r in roles}))
    if department is None and NEEDS_DEPARTMENT & set(parsed):
        raise ContentError(path, f"{where}.department", "an officer or operator names a department")
    citizen_id = _optional_text(path, f"{where}.citizen_id", item.attrs.get("citizen_id"))
    credit_code = _optional_text(path, f"{where}.credit_code", item.attrs.get("credit_code"))
    try:
        if citizen_id is not None:
            citizen_id = parse_citizen_id(citizen_id).number
    except InvalidIdentifier as exc:
        raise ContentError(path, f"{where}.citizen_id", exc.reason) from None
    try:
        if credit_code is not None:
            credit_code = parse_credit_code(credit_code).code
    except InvalidIdentifier as exc:
        raise ContentError(path, f"{where}.credit_code", exc.reason) from None
    return DemoAccount(
        username=item.code,
        display_name=item.name_zh,
        roles=parsed,
        department=department,
        citizen_id=citizen_id,
        credit_code=credit_code,
        demo_city=_demo_city(path, f"{where}.demo_city", item.attrs.get("demo_city")),
        demo_use=_demo_use(path, f"{where}.demo_city", item.attrs.get("demo_city")),
    )


def _demo_city(path: Path, where: str, value: Any) -> tuple[str, str] | None:
    if value is None:
        return None
    kinds = [k for k in value if k in DEMO_CITY_ROLES] if isinstance(value, dict) else []
    if not isinstance(value, dict) or len(kinds) != 1 or set(value) - DEMO_CITY_ROLES - USE:
        raise ContentError(
            path, where, f"one of {sorted(DEMO_CITY_ROLES)}: a code (a grant may add {sorted(USE)})"
        )
    kind, code = kinds[0], value[kinds[0]]
    if kind not in DEMO_CITY_ROLES:
        raise ContentError(path, where, f"{kind!r}: not one of {sorted(DEMO_CITY_ROLES)}")
    if not isinstance(code, str) or not SLUG.match(code):
        raise ContentError(path, f"{where}.{kind}", "a policy or product code (a-z 0-9 -)")
    return str(kind), code


def _demo_use(path: Path, where: str, value: Any) -> tuple[str, str, str] | None:
    """A grant's purpose, legal basis and usage, when the file names them (all three)."""
    if not isinstance(value, dict) or not set(value) & USE:
        return None
    if "grant" not in value or set(value) & USE != USE:
        raise ContentError(path, where, f"a grant names all of {sorted(USE)} or none")
    purpose, basis, usage = (
        _optional_text(path, f"{where}.{k}", value[k]) for k in ("purpose", "legal_basis", "usage")
    )
    assert purpose is not None and basis is not None and usage is not None
    return purpose, basis, usage


def _optional_text(path: Path, where: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > 128:
        raise ContentError(path, where, "text of 1-128 characters")
    return value.strip()


def demo_staff(db: Session, accounts: Sequence[DemoAccount]) -> tuple[User, User]:
    """The two demo staff who bind IDs to the demo accounts: the demo admin requests, the demo
    identity reviewer approves (``bindings``: never one person alone). Both are content."""
    found: dict[Role, User] = {}
    for role in (Role.admin, Role.identity_reviewer):
        for a in accounts:
            user = get_user_by_username(db, a.username) if role in a.roles else None
            if user is not None and role not in found:
                found[role] = user
        if role not in found:
            raise LookupError(f"no demo {role} to bind the demo IDs: add one to demo-accounts.yaml")
    return found[Role.admin], found[Role.identity_reviewer]


def _bind(
    db: Session,
    user: User,
    staff: tuple[User, User],
    *,
    citizen_id: str | None,
    credit_code: str | None,
) -> None:
    requester, approver = staff
    row = bindings.request(
        db, user, citizen_id=citizen_id, credit_code=credit_code, actor=requester.username
    )
    bindings.approve(db, row, approver=approver)


def ensure_demo_accounts(db: Session, accounts: tuple[DemoAccount, ...]) -> list[DemoAccount]:
    """Creates the demo accounts that are missing; running it again changes nothing.

    The IDs the content gives are bound as every binding is: the demo admin requests, the demo
    identity reviewer approves, both named in the ledger (``shuhui demo`` runs as the platform's
    operator, so it is honest that two staff did it). Demo only: the shared demo password counts
    as chosen by the account holder (``password_by_holder``), because the personas are fictional
    and the demo's citizen must be able to sign; a real account's password set by anyone else
    never does."""
    created: list[DemoAccount] = []
    # Hashing is deliberately slow, and the accounts share one password: hash it once.
    password_hash: str | None = None
    for account in accounts:
        if get_user_by_username(db, account.username) is not None:
            continue
        password_hash = password_hash or hash_password(DEMO_PASSWORD)
        create_user(
            db,
            UserCreate(
                username=account.username,
                display_name=account.display_name,
                password=DEMO_PASSWORD,
                roles=list(account.roles),
                department=account.department,
            ),
            actor="shuhui demo",
            password_hash=password_hash,
            password_by_holder=True,
        )
        created.append(account)
    to_bind = [a for a in created if a.citizen_id or a.credit_code]
    if to_bind:
        staff = demo_staff(db, accounts)
        for account in to_bind:
            user = get_user_by_username(db, account.username)
            assert user is not None
            _bind(db, user, staff, citizen_id=account.citizen_id, credit_code=account.credit_code)
    return created


def bind_demo_account(
    db: Session,
    username: str,
    *,
    name: str,
    actor: str,
    staff: tuple[User, User],
    citizen_id: str | None = None,
    credit_code: str | None = None,
) -> bool:
    """Makes a demo account a member of the demo city: a resident (``citizen_id``), or an
    enterprise acting through its registered legal representative (``credit_code`` and the
    representative's ``citizen_id``), so what it signs and is offered is theirs. The IDs are
    bound by the two demo ``staff`` (requested, approved: ``demo_staff``); the account's name
    becomes theirs (``actor``'s change: whoever runs the demo). Idempotent; False when nothing
    changed or the person is another account's already (one account per person)."""
    user = get_user_by_username(db, username)
    if user is None:
        return False
    wanted_code = credit_code if credit_code is not None else user.credit_code
    if (user.citizen_id, user.credit_code, user.display_name) == (citizen_id, wanted_code, name):
        return False
    if citizen_id is not None:
        taken = db.scalar(select(User).where(User.citizen_id == citizen_id, User.id != user.id))
        if taken is not None:
            return False
    if (user.citizen_id, user.credit_code) != (citizen_id, wanted_code):
        _bind(
            db,
            user,
            staff,
            citizen_id=citizen_id if citizen_id != user.citizen_id else None,
            credit_code=wanted_code if wanted_code != user.credit_code else None,
        )
    if user.display_name != name:
        before = user.display_name
        user.display_name = name
        db.flush()
        ledger.record(
            db,
            actor,
            "account.updated",
            subject=f"user:{user.username}",
            purpose="demo: the account acts for a member of the demo city",
            detail={"before": {"display_name": before}, "after": {"display_name": name}},
        )
    return True
