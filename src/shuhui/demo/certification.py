"""Pension certification (无感认证) in the demo: a cycle already run on the demo city, a pensioner
waiting to certify themself, a street office with home visits waiting.

The demo officer of the rule's department (人社局) runs the cycle as it was ``LOOKBACK`` days
ago (``now`` set back as well, so the notices are dated then): the dashboard shows it, the
undetermined are told (站内消息) and the street offices get the home visits of those near the
end of their window. Each account with ``demo_city: {certify: <rule>}`` becomes one of the
recipients that cycle found without evidence — their window over by then, the next not yet open,
and still without evidence today (the rule evaluated on today says so) — the lowest ID not
another account's, a Qingdao-born resident first. The next cycle an officer runs (today, from
the dashboard) suspends that pension, never stops it; the person certifies themself from
我的养老金资格认证 and it resumes with back pay (tests/browser/test_certification_flow.py walks
it). Services only, in the caller's transaction; run again, nothing changes (the cycle's date
is already run, the account already bound to an undetermined recipient).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy.orm import Session

from shuhui.core.clock import as_utc, local_today, utcnow
from shuhui.core.display import mask_citizen_id
from shuhui.core.settings import Settings
from shuhui.datacore.store import DataCore
from shuhui.demo.city import HOME_PREFIX, Prepared, account_user
from shuhui.programs import service as programs
from shuhui.programs.certification import service as certification
from shuhui.programs.certification.models import Certification
from shuhui.programs.certification.windows import add_months
from shuhui.trust.identity.demo import DemoAccount, bind_demo_account, demo_staff
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role
from shuhui.trust.identity.service import get_user_by_username, list_users

# How long ago the demo's cycle ran: its notices are then more than the notice period old and
# the month a lapsed pension is suspended from has begun, so today's cycle suspends it and
# self-certification pays a month back.
LOOKBACK: Final = 75
PAGE: Final = 1_000
STREET_OFFICE: Final = "街道办事处"


def prepare(
    db: Session,
    settings: Settings,
    core: DataCore,
    accounts: Sequence[DemoAccount],
    *,
    actor: str,
    rebind: bool = False,
    now: datetime | None = None,
) -> list[Prepared]:
    """The cycle, the pensioners bound, what waits for the street offices (see the module)."""
    pensioners = [a for a in accounts if a.demo_city is not None and a.demo_city[0] == "certify"]
    if not core.tables() or not pensioners:
        return []
    now = as_utc(now or utcnow())
    library = programs.Library(settings, core)
    done: list[Prepared] = []
    for account in pensioners:
        assert account.demo_city is not None
        rule = library.rule(account.demo_city[1])
        officer = _demo_user(db, accounts, rule.department)
        back = now - timedelta(days=LOOKBACK)
        ran = certification.run(
            db,
            library,
            settings,
            local_today(back),
            actor=officer.username,
            department=officer.department,
            now=back,
        )
        done.append(
            Prepared(
                officer.username,
                officer.department or "",
                f"{ran.run_on.isoformat()} 的资格认证已运行，今日可再运行一次",
                not ran.already_run,
            )
        )
        done.append(_pensioner(db, library, accounts, account, actor, rebind, now))
    for account in accounts:
        if Role.officer in account.roles and (account.department or "").endswith(STREET_OFFICE):
            waiting = certification.visits(db, department=account.department, status="open")
            done.append(
                Prepared(
                    account.username,
                    account.department or "",
                    f"{len(waiting)} 项上门认证任务待办",
                    False,
                )
            )
    return done


def _demo_user(db: Session, accounts: Sequence[DemoAccount], department: str) -> User:
    for a in accounts:
        if Role.officer in a.roles and a.department == department:
            user = get_user_by_username(db, a.username)
            if user is not None:
                return user
    raise LookupError(f"no demo officer of {department}: add one to demo-accounts.yaml")


def _pensioner(
    db: Session,
    library: programs.Library,
    accounts: Sequence[DemoAccount],
    account: DemoAccount,
    actor: str,
    rebind: bool,
    now: datetime,
) -> Prepared:
    user = account_user(db, account)
    waiting = "养老金资格认证待本人完成"
    if not rebind and user.citizen_id:
        mine = certification.standing(db, user.citizen_id)
        if mine.current is not None:
            return Prepared(
                user.username, _member(user.display_name, user.citizen_id), waiting, False
            )
    taken = {u.citizen_id for u in list_users(db) if u.id != user.id and u.citizen_id}
    rows, _ = certification.certifications(db, outcome="undetermined", limit=PAGE)
    chosen = _choose(library, rows, taken, now)
    if chosen is None:
        raise LookupError("nobody in the demo city waits to certify themself: build a bigger city")
    key, name = chosen
    changed = bind_demo_account(
        db,
        user.username,
        name=name,
        actor=actor,
        staff=demo_staff(db, accounts),
        citizen_id=key,
    )
    return Prepared(user.username, _member(name, key), waiting, changed)


def _choose(
    library: programs.Library,
    rows: list[Certification],
    taken: set[str],
    now: datetime,
) -> tuple[str, str] | None:
    """A recipient whose window ended before the demo's cycle and whose next window has not
    opened, still without evidence today (so today's cycle suspends, never certifies, them)."""
    day = local_today(now)
    back = local_today(now - timedelta(days=LOOKBACK))
    fits = [
        c
        for c in rows
        if c.citizen_id not in taken
        and c.window_end < back
        and add_months(c.window_start, 12) > day
    ]
    fits.sort(key=lambda c: (not c.citizen_id.startswith(HOME_PREFIX), c.citizen_id))
    if not fits:
        return None
    with library.connection() as con:
        names = dict(
            con.execute(
                "SELECT citizen_id, name FROM residents WHERE list_contains(?, citizen_id)",
                [[c.citizen_id for c in fits]],
            ).fetchall()
        )
    rule = library.rule(fits[0].rule)
    for c in fits:
        if c.citizen_id not in names:
            continue
        if library.explain(rule, day, c.citizen_id).outcome == "eligible":
            continue  # evidence since the demo's cycle: today's would certify them by data
        return c.citizen_id, str(names[c.citizen_id])
    return None


def _member(name: str, key: str | None) -> str:
    return f"{name}（{mask_citizen_id(key)}）"
