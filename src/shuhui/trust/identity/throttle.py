"""Wrong passwords slow down, then stop, whoever keeps guessing: per account and per address.

Every wrong password is counted twice: against the account name typed and against the client
address it came from. For each count:

- **per account**: the first 3 failures cost nothing; from the 4th, the next attempt is refused
  until a delay has passed that doubles with each failure (2 s, 4 s, 8 s … at most 60 s); the
  10th failure locks the name for 15 minutes (an ``account.locked`` ledger entry);
- **per address**: an office behind one address holds many people, so the thresholds are higher:
  the delay starts after the 10th failure and the 30th locks the address for 15 minutes
  (``login.address_locked``);
- a count is forgotten 15 minutes after its last failure, so a lockout ends with a clean slate;
  a successful login forgets the account's count (not the address's: logging in to one's own
  account must not buy a guesser more tries at others); an admin's reset forgets it too.

An attempt refused for a delay or a lockout is not checked and not counted. The counts live in
the database (``login_throttles``), updated with one atomic ``UPDATE … SET failures =
failures + 1``, so several server processes share them. Each failure and refusal writes a log
line (logger ``shuhui.identity``); names that do not exist are counted like the others, so the
answers never tell whether an account exists.

The client address is the peer of the server process. Behind a reverse proxy, the proxy must
pass on the client's address (uvicorn's ``--forwarded-allow-ips``), or every person counts as
one address.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import case, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shuhui.core.clock import as_utc, utcnow
from shuhui.core.errors import Problem
from shuhui.trust.identity import service
from shuhui.trust.identity.models import LoginThrottle, User
from shuhui.trust.ledger import service as ledger

log = logging.getLogger("shuhui.identity")


class Scope(StrEnum):
    account = "account"
    address = "address"


@dataclass(frozen=True)
class Policy:
    free_failures: int  # failures before any delay
    lock_after: int  # the failure that locks
    lock_for: timedelta
    max_delay: int  # seconds
    forget_after: timedelta  # a count with no failure for this long starts again

    def delay(self, failures: int) -> int:
        """Seconds before the next attempt after ``failures`` failures (0: none)."""
        if failures <= self.free_failures:
            return 0
        return int(min(2 ** (failures - self.free_failures), self.max_delay))


POLICIES = {
    Scope.account: Policy(3, 10, timedelta(minutes=15), 60, timedelta(minutes=15)),
    Scope.address: Policy(10, 30, timedelta(minutes=15), 60, timedelta(minutes=15)),
}


class Wait(StrEnum):
    """Why a login is refused before its password is checked."""

    delay = "delay"  # a short pause after a few failures
    locked = "locked"  # the temporary lockout after many


@dataclass(frozen=True)
class Refusal:
    """A login refused before the password was checked, or the failure that just locked."""

    scope: Scope
    wait: Wait
    retry_after: int  # seconds
    until: datetime

    def problem(self) -> Problem:
        """As problem+json: 423 for a locked account, 429 for a delay or a locked address."""
        minutes = f"{self.retry_after // 60} 分 {self.retry_after % 60} 秒"
        wait = minutes if self.retry_after >= 60 else f"{self.retry_after} 秒"
        if self.wait is Wait.locked and self.scope is Scope.account:
            slug = "account-locked"
            detail = f"密码连续输错次数过多，账户已临时锁定，请在 {wait}后再试"
        elif self.wait is Wait.locked:
            slug = "login-throttled"
            detail = f"此网络地址登录失败次数过多，已暂停登录，请在 {wait}后再试"
        else:
            slug = "login-throttled"
            detail = f"登录失败次数较多，请在 {wait}后再试"
        return Problem(
            slug,
            detail=detail,
            extra={
                "retry_after": self.retry_after,
                "until": self.until.isoformat(),
                "scope": self.scope.value,
                "wait": self.wait.value,
            },
        )


@dataclass(frozen=True)
class Attempt:
    """What a login attempt came to: the account, or why not (``refusal`` set when a delay or
    lockout applies now, so the caller can say how long to wait)."""

    user: User | None
    refusal: Refusal | None = None
    failures_left: int | None = None  # wrong passwords left before the account locks

    def problem(self) -> Problem:
        if self.refusal is not None:
            return self.refusal.problem()
        extra = {} if self.failures_left is None else {"failures_left": self.failures_left}
        return Problem("invalid-credentials", extra=extra)


def attempt(db: Session, username: str, password: str, address: str) -> Attempt:
    """One login attempt, throttled. The counts it writes must be committed even when the
    attempt fails: the caller answers the refusal without raising."""
    # No NUL in a key: PostgreSQL refuses one in a query parameter outright.
    keys = {
        Scope.account: username.replace("\x00", "")[:128],
        Scope.address: address.replace("\x00", "")[:128],
    }
    now = utcnow()
    waiting = _refusal(db, keys, now)
    if waiting is not None:
        log.warning(
            "login refused: %s until %s",
            waiting.wait.value,
            waiting.until.isoformat(),
            extra={"login": username[:64], "address": address, "scope": waiting.scope.value},
        )
        return Attempt(None, waiting)
    user = service.check_credentials(db, username, password)
    if user is not None:
        service.clear_failures(db, keys[Scope.account])
        return Attempt(user)
    refusals: list[Refusal] = []
    counts: dict[Scope, int] = {}
    for scope, key in keys.items():
        row = _count_failure(db, scope, key, now)
        counts[scope] = row.failures
        refusal = _after_failure(db, row, now, username=username, address=address)
        if refusal is not None:
            refusals.append(refusal)
    log.warning(
        "login failed",
        extra={
            "login": username[:64],
            "address": address,
            "account_failures": counts[Scope.account],
            "address_failures": counts[Scope.address],
        },
    )
    # A lockout just begun is said at once; a delay just begun waits for the next attempt.
    locking = [r for r in refusals if r.wait is Wait.locked]
    if locking:
        return Attempt(None, max(locking, key=lambda r: r.retry_after))
    left = POLICIES[Scope.account].lock_after - counts[Scope.account]
    return Attempt(None, failures_left=left if left <= 5 else None)


def _refusal(db: Session, keys: dict[Scope, str], now: datetime) -> Refusal | None:
    """The longest wait either count imposes now, a lockout before a delay."""
    found: list[Refusal] = []
    for scope, key in keys.items():
        row = db.scalar(
            select(LoginThrottle).where(LoginThrottle.scope == scope, LoginThrottle.key == key)
        )
        if row is None:
            continue
        for wait, until in ((Wait.locked, row.locked_until), (Wait.delay, row.delay_until)):
            if until is not None and as_utc(until) > now:
                seconds = max(1, int((as_utc(until) - now).total_seconds() + 0.999))
                found.append(Refusal(scope, wait, seconds, as_utc(until)))
                break
    if not found:
        return None
    return max(found, key=lambda r: (r.wait is Wait.locked, r.retry_after))


def _count_failure(db: Session, scope: Scope, key: str, now: datetime) -> LoginThrottle:
    """One more failure on ``(scope, key)``, in one atomic statement, so that two processes
    counting at once both count; returns the row as it now is (held by this transaction)."""
    cutoff = now - POLICIES[scope].forget_after
    where = (LoginThrottle.scope == scope.value, LoginThrottle.key == key)
    bump = (
        update(LoginThrottle)
        .where(*where)
        .values(
            failures=case(
                (LoginThrottle.last_failed_at < cutoff, 1), else_=LoginThrottle.failures + 1
            ),
            last_failed_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if not int(getattr(db.execute(bump), "rowcount", 0) or 0):
        try:
            with db.begin_nested():
                db.add(LoginThrottle(scope=scope.value, key=key, failures=1, last_failed_at=now))
        except IntegrityError:  # another process inserted it first: count on its row
            db.execute(bump)
    row = db.scalar(select(LoginThrottle).where(*where).execution_options(populate_existing=True))
    assert row is not None
    return row


def _after_failure(
    db: Session, row: LoginThrottle, now: datetime, *, username: str, address: str
) -> Refusal | None:
    """Sets the delay or lockout the row's count calls for; a lockout just begun is returned
    (and recorded in the ledger once, when the count reaches the threshold)."""
    scope = Scope(row.scope)
    policy = POLICIES[scope]
    if row.failures >= policy.lock_after:
        until = now + policy.lock_for
        row.locked_until, row.delay_until = until, None
        if row.failures == policy.lock_after:
            _record_lockout(db, scope, row, until, username=username, address=address)
        return Refusal(scope, Wait.locked, int(policy.lock_for.total_seconds()), until)
    delay = policy.delay(row.failures)
    row.locked_until = None
    row.delay_until = now + timedelta(seconds=delay) if delay else None
    return None


def _record_lockout(
    db: Session,
    scope: Scope,
    row: LoginThrottle,
    until: datetime,
    *,
    username: str,
    address: str,
) -> None:
    log.warning(
        "login locked out",
        extra={"scope": scope.value, "key": row.key, "until": until.isoformat()},
    )
    if scope is Scope.account:
        ledger.record(
            db,
            "system",
            "account.locked",
            subject=f"user:{row.key}",
            detail={"failures": row.failures, "until": until.isoformat(), "address": address},
        )
    else:
        ledger.record(
            db,
            "system",
            "login.address_locked",
            subject=f"address:{row.key}",
            detail={
                "failures": row.failures,
                "until": until.isoformat(),
                "last_login_name": username[:64],
            },
        )
