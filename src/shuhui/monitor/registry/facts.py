"""The registry's progress as facts (``core.facts.Fact``) for ``shuhui.insight``: the plan's
indicators now, computed by the registry's own ``progress`` so the leaders' figures are the
figures of the registry's pages, never a second definition.

"Now" is the end of the registry's latest month (its newest commissioning or retirement), as on
``/monitor/infrastructure``: a stock, so each fact has no month. A ratio's fact carries its
numerator as the value and its denominator as the base (people for a figure per 10,000 people,
villages for a share of villages), per district, so insight can sum any districts and divide
once, as the registry does for the city — never an average of district ratios.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Final

import duckdb

from shuhui.core.facts import Fact
from shuhui.core.regions import qingdao_districts
from shuhui.datacore.store import DataCore
from shuhui.monitor.registry import content, progress, service
from shuhui.monitor.registry.content import Indicator

# What the registry's denominators are divided by (progress._denominators keeps people in tens of
# thousands and villages in hundreds, ready for its ratio); the facts carry whole people and
# whole villages, and the indicator's scale puts the factor back.
_UNIT: Final = {"per_10k_people": 10_000.0, "share_of_villages": 100.0}


def _latest_month(con: duckdb.DuckDBPyConnection) -> date | None:
    latest = progress.latest_day(con)
    return None if latest is None else progress.first_of_month(latest)


def _facts(con: duckdb.DuckDBPyConnection, indicator: Indicator, month: date) -> list[Fact]:
    """``indicator`` at the end of ``month``, one fact per district."""
    measured = progress._measured(con, indicator, month, month)
    codes = [r.code for r in qingdao_districts()]
    if indicator.denominator == "absolute":
        return [Fact(value=measured.get((month, d), 0.0), district=d) for d in codes]
    unit = _UNIT[indicator.denominator]
    base = progress._for_year(progress._denominators(con, indicator), month.year) or {}
    return [
        Fact(
            value=measured.get((month, d), 0.0),
            base=float(round(base.get(d, 0.0) * unit)),
            district=d,
        )
        for d in codes
    ]


def now(core: DataCore, content_dir: Path, city: str, code: str) -> list[Fact]:
    """The registry indicator ``code`` at the end of the registry's latest month, per district
    (no facts while the registry holds no dated asset)."""
    indicator = service.indicator_of(content_dir, city, code)
    with service.registry(core) as con:
        month = _latest_month(con)
        return [] if month is None else _facts(con, indicator, month)


def city_value(indicator: Indicator, facts: list[Fact]) -> float | None:
    """The city's figure from its districts' facts, as ``progress.series`` computes it."""
    value = sum(f.value for f in facts)
    if indicator.denominator == "absolute":
        return value
    base = sum(f.base or 0.0 for f in facts)
    return None if base <= 0 else value / base * _UNIT[indicator.denominator]


def attainment(core: DataCore, content_dir: Path, city: str) -> list[Fact]:
    """Each indicator's share of its target for the year of the registry's latest month,
    capped at 1 (so that one indicator ahead of its target cannot hide another behind), as a
    fact of base 1 whose group is the indicator's code: their sum over their bases is the
    indicators' mean share. An indicator without a target that year is left out."""
    found: list[Fact] = []
    with service.registry(core) as con:
        month = _latest_month(con)
        if month is None:
            return []
        for indicator in content.indicators(content_dir, city).values():
            target = indicator.target(month.year)
            if target is None or target.value <= 0:
                continue
            value = city_value(indicator, _facts(con, indicator, month))
            share = 0.0 if value is None else min(value / target.value, 1.0)
            found.append(Fact(value=share, base=1.0, group=indicator.code))
    return found
