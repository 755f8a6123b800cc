"""Fund-risk checks in the demo (``shuhui.programs.fundrisk``): one detection run over the demo
city as its fund supervisor (the ``auditor`` account), so the alert queue and the auditor's
workbench have findings waiting; then a supervisor's first days with the queue (:func:`_work`),
so the risk map (风险防控一张图) has confirmed breaches, recoveries and a dismissal to show.
Made once: a database with alerts already is left alone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuhui.core.clock import as_utc, local_today, utcnow
from shuhui.core.settings import Settings
from shuhui.datacore.store import DataCore
from shuhui.demo.city import Prepared
from shuhui.programs.fundrisk import service
from shuhui.programs.fundrisk.models import Alert
from shuhui.programs.service import Library
from shuhui.trust.identity.demo import DemoAccount
from shuhui.trust.identity.roles import Role

SUPERVISOR = "auditor"


def prepare(
    db: Session,
    settings: Settings,
    core: DataCore,
    accounts: Sequence[DemoAccount],
    *,
    now: datetime | None = None,
) -> list[Prepared]:
    """Today's detection as the demo fund supervisor (in the caller's transaction)."""
    account = next((a for a in accounts if a.username == SUPERVISOR), None)
    if account is None or Role.officer not in account.roles or not core.tables():
        return []
    if db.scalar(select(func.count()).select_from(Alert)):
        return []
    now = as_utc(now or utcnow())
    summary = service.detect(
        db, settings, Library(settings, core), local_today(now), actor=SUPERVISOR, now=now
    )
    found = sum(c["found"] for c in summary.counts.values())
    worked = _work(db, now)
    return [
        Prepared(
            username=SUPERVISOR,
            member=account.display_name,
            waiting=f"基金风险疑点 {found - worked} 个待核查（/hrss/fundrisk）",
            changed=True,
        )
    ]


# The rule the demo's own walk-through (and its browser test) takes from new to recovered: its
# alerts are all left new.
LEFT_NEW = "risk-pension-after-death"
DISMISSAL = "经核查系数据报送延迟所致，待遇发放无误"


# What the supervisor did with the alerts taken up, in turn: confirmed with half of what it owes
# recovered, confirmed and recovered whole, dismissed, being checked, not yet opened.
STEPS: Final = ("recovering", "recovered", "dismissed", "checking", "new")
TAKEN_UP: Final = 2 * len(STEPS)


def _work(db: Session, now: datetime) -> int:
    """The first :data:`TAKEN_UP` alerts of the other rules, in code order, taken through the
    steps of :data:`STEPS` in turn — each through :func:`service.act`, with its ledger entry,
    as the supervisor's clicks would be. Returns how many were opened."""
    taken = 0
    others = db.scalars(
        select(Alert).where(Alert.rule != LEFT_NEW).order_by(Alert.code).limit(TAKEN_UP)
    )
    for place, a in enumerate(others):
        goal = STEPS[place % len(STEPS)]
        if goal == "new":
            continue
        service.act(db, a, "check", actor=SUPERVISOR, now=now)
        taken += 1
        if goal == "dismissed":
            service.act(db, a, "dismiss", actor=SUPERVISOR, reason=DISMISSAL, now=now)
        elif goal != "checking":
            service.act(db, a, "confirm", actor=SUPERVISOR, now=now)
            owed = a.amount_fen
            if owed:
                part = owed if goal == "recovered" else max(1, owed // 2)
                service.act(db, a, "recover", actor=SUPERVISOR, amount_fen=part, now=now)
    return taken
