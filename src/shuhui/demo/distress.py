"""Struggling enterprises in the demo: the HR bureau's demo officer has run the difficulty score
for the day, so the officer's list (/hrss/distress) and to-do card show the city's struggling
enterprises with their reasons, ready for a measure to be started.

The demo enterprise (bound to a member eligible for the job-stabilisation refund, which asks
for no arrears and few layoffs) is a healthy one, so it is not among them: that is what the
data says, and the demo leaves it so. Run again for the same day, nothing changes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from shuhui.core.clock import as_utc, utcnow
from shuhui.core.settings import Settings
from shuhui.datacore.store import DataCore
from shuhui.programs import service as programs
from shuhui.programs.distress import service
from shuhui.trust.identity.demo import DemoAccount
from shuhui.trust.identity.roles import Role
from shuhui.trust.identity.service import get_user_by_username


def prepare(
    db: Session,
    settings: Settings,
    core: DataCore,
    accounts: Sequence[DemoAccount],
    *,
    now: datetime | None = None,
) -> str | None:
    """Runs the score for today as the demo officer of the rule's department (in the caller's
    transaction). Returns what was done, or None when nothing was (no city, already run)."""
    if not core.tables():
        return None
    now = as_utc(now or utcnow())
    library = programs.Library(settings, core)
    department = library.rule(service.RULE).department
    officer = next(
        (
            user
            for a in accounts
            if Role.officer in a.roles
            and a.department == department
            and (user := get_user_by_username(db, a.username)) is not None
        ),
        None,
    )
    if officer is None:
        raise LookupError(f"no demo officer of {department}: add one to demo-accounts.yaml")
    outcome = service.run(db, library, None, actor=officer.username, now=now)
    if not outcome.created:
        return None
    return f"困难企业识别已运行：{outcome.run.found} 家（{officer.username} 的“困难企业”）"
