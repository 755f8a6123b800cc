"""The open alarms as facts (``core.facts.Fact``) for ``shuhui.insight``, and the list behind
them: what the wall counts (``service.open_counts``), here per district too, so a leader's
figure can be filtered by district and agrees with the wall for the whole city.

Open means not closed (``models.OPEN_STATES``: raised, acknowledged, dispatched, resolved),
as the queue and the wall count it. A count of open alarms is a stock: the facts have no month.
Nothing here reads personal data (an alarm names a device and a monitored site).
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from shuhui.core.facts import Fact
from shuhui.core.regions import qingdao_districts
from shuhui.monitor.alarms.models import OPEN_STATES, STATES, Alarm
from shuhui.monitor.alarms.rules import LEVEL_NAMES, LEVELS
from shuhui.monitor.alarms.service import SCENARIO_NAMES
from shuhui.monitor.devices import SCENARIOS

By = Literal["level", "scenario"]


def open_alarms(db: Session, by: By) -> list[Fact]:
    """Open alarms per district and per level (the group ``"1"``…``"4"``) or per scenario
    (``high_rise``, ``forest``, ``hazchem``): one grouped count. Every district of the city and
    every group has its fact, zero where nothing is open, so that "no alarm open" shows as 0
    rather than as no data."""
    group = Alarm.level if by == "level" else Alarm.scenario
    groups = [str(level) for level in LEVELS] if by == "level" else list(SCENARIOS)
    counts = dict.fromkeys(((r.code, g) for r in qingdao_districts() for g in groups), 0)
    rows = db.execute(
        select(Alarm.district, group, func.count())
        .where(Alarm.state.in_(OPEN_STATES))
        .group_by(Alarm.district, group)
    )
    for district, g, n in rows:
        counts[(district, str(g))] = counts.get((district, str(g)), 0) + int(n)
    return [Fact(value=float(n), district=d, group=g) for (d, g), n in counts.items()]


def open_list(
    db: Session, *, district: str | None = None, limit: int = 200
) -> tuple[list[dict[str, Any]], int]:
    """The open alarms (of one district), most severe first, then those waiting longest, as
    the queue orders them; at most ``limit``, with how many there are in all. Plain facts, as
    ``service.at_sites`` gives them: another domain shows them without the alarms' tables."""
    where: list[ColumnElement[bool]] = [Alarm.state.in_(OPEN_STATES)]
    if district is not None:
        where.append(Alarm.district == district)
    total = int(db.scalar(select(func.count()).select_from(Alarm).where(*where)) or 0)
    rows = db.scalars(
        select(Alarm).where(*where).order_by(Alarm.level, Alarm.raised_at, Alarm.id).limit(limit)
    )
    return [
        {
            "code": a.code,
            "rule": a.rule,
            "level": a.level,
            "level_name": LEVEL_NAMES[a.level][0] if a.level in LEVEL_NAMES else str(a.level),
            "scenario": a.scenario,
            "scenario_name": SCENARIO_NAMES.get(a.scenario, (a.scenario,))[0],
            "state": a.state,
            "state_name": STATES[a.state][0] if a.state in STATES else a.state,
            "site": a.site,
            "district": a.district,
            "raised_at": a.raised_at,
        }
        for a in rows
    ], total
