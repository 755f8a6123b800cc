"""Fund-risk checks in the demo (``shuhui.programs.fundrisk``): one detection run over the demo
city as its fund supervisor (the ``auditor`` account), so the alert queue and the auditor's
workbench have findings waiting. Made once: a database with alerts already is left alone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

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
    return [
        Prepared(
            username=SUPERVISOR,
            member=account.display_name,
            waiting=f"基金风险疑点 {found} 个待核查（/hrss/fundrisk）",
            changed=True,
        )
    ]
