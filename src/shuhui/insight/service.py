"""Insight for pages, the API and the CLI: the city's indicators and maps, each figure through
the one engine (``engine``), its definition and inputs alongside, and the lists behind figures
for those who may see them (each such view in the ledger)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from shuhui.core.errors import FieldError, Problem
from shuhui.core.facts import Fact
from shuhui.core.i18n import Text
from shuhui.core.settings import Settings
from shuhui.datacore.store import DataCore
from shuhui.insight import content, engine
from shuhui.insight.content import Indicator, Map
from shuhui.insight.engine import Computed, Figure, Scope, Sources
from shuhui.insight.measures import Inputs, Listing, Measure, measures
from shuhui.trust.ledger import service as ledger

log = logging.getLogger(__name__)
EVERY_TABLE = "*"  # a measure reading every table of the data core (its coverage, say)


def maps(settings: Settings) -> dict[str, Map]:
    return content.maps(settings.content_dir, settings.city)


def indicators(settings: Settings, on: date | None = None) -> dict[str, Indicator]:
    """The indicators in force on ``on`` (default: every one the content holds)."""
    every = content.indicators(settings.content_dir, settings.city)
    if on is None:
        return every
    return {code: ind for code, ind in every.items() if ind.in_force(on)}


def indicator(settings: Settings, code: str) -> Indicator:
    found = indicators(settings).get(code)
    if found is None:
        raise Problem(
            "not-found",
            Text(f"没有指标 {code}", f"no indicator {code}"),
            errors=[FieldError("code", Text("没有这个指标", "no such indicator"))],
        )
    return found


def map_of(settings: Settings, code: str) -> Map:
    found = maps(settings).get(code)
    if found is None:
        raise Problem(
            "not-found",
            Text(f"没有这张图：{code}", f"no map {code}"),
            errors=[FieldError("map", Text("没有这张图", "no such map"))],
        )
    return found


def measure_of(ind: Indicator) -> Measure | None:
    if ind.measure is None:
        return None
    found = measures().get(ind.measure)
    if found is None:
        raise ValueError(f"{ind.code}: no measure {ind.measure}")
    return found


@dataclass(frozen=True)
class Outcome:
    """A figure, or why there is none (the data core has no such table yet, a formula
    failed): one broken figure never takes its page down."""

    indicator: Indicator
    figure: Figure | None
    problem: Text | None


class Reader:
    """Reads figures for one request (or one command): the data core opened once, the ledger's
    size read once."""

    def __init__(self, settings: Settings, db: Session, today: date) -> None:
        self.settings = settings
        self.db = db
        self.today = today
        self.core = DataCore.from_settings(settings)
        self._ledger: int | None = None
        self._tables: dict[str, int] | None = None
        self.place = engine.place_of(self.core, settings.city_content)

    def ledger_size(self) -> int:
        if self._ledger is None:
            self._ledger = ledger.head(self.db)[0]
        return self._ledger

    def table_versions(self, names: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
        """The tables' versions (0: not there); ``*`` stands for every published table."""
        if self._tables is None:
            self._tables = {info.name: info.version for info in self.core.tables()}
        if EVERY_TABLE in names:
            return tuple(sorted(self._tables.items()))
        return tuple((name, self._tables.get(name, 0)) for name in names)

    def sources(self, ind: Indicator) -> Sources:
        m = measure_of(ind)
        tables = ind.tables if m is None else m.tables
        operational = m is not None and m.operational
        ledger_size = self.ledger_size() if operational else None
        return Sources(self.table_versions(tables), ledger_size, self.today)

    def _compute(self, ind: Indicator) -> tuple[list[Fact], Sources]:
        sources = self.sources(ind)
        missing = [name for name, version in sources.tables if version == 0]
        if missing:
            raise _Missing(missing)
        m = measure_of(ind)
        if m is None:
            return engine.sql_facts(self.core, ind), sources
        return m.facts(Inputs(self.db, self.core, self.settings, self.today)), sources

    def computed(self, ind: Indicator) -> Computed:
        return engine.computed(self.place, ind, self.sources, self._compute)

    def outcome(self, ind: Indicator, scope: Scope) -> Outcome:
        try:
            kept = self.computed(ind)
        except _Missing as missing:
            names = "、".join(missing.tables)
            return Outcome(
                ind,
                None,
                Text(f"数据底座中还没有{names}", f"the data core holds no {names} yet"),
            )
        except Exception:
            log.exception("insight: indicator %s failed", ind.code)
            return Outcome(
                ind, None, Text("该指标暂时无法计算，已记录", "this figure cannot be computed now")
            )
        return Outcome(ind, engine.figure(ind, kept, scope, self.today), None)

    def outcomes(self, inds: list[Indicator], scope: Scope) -> list[Outcome]:
        return [self.outcome(ind, scope) for ind in inds]


class _Missing(Exception):
    def __init__(self, tables: list[str]) -> None:
        super().__init__(", ".join(tables))
        self.tables = tables


def of_map(settings: Settings, code: str, today: date) -> list[Indicator]:
    map_of(settings, code)
    return [ind for ind in indicators(settings, today).values() if ind.map == code]


def on_dashboard(settings: Settings, today: date) -> list[tuple[Map, list[Indicator]]]:
    every = indicators(settings, today)
    return [(m, [every[c] for c in m.dashboard if c in every]) for m in maps(settings).values()]


# --- the list behind a figure ------------------------------------------------------------------


def may_list(ind: Indicator, department: str | None, is_officer: bool) -> bool:
    """Lists are for the staff (``is_officer``: an officer or a data operator) of the
    department that answers for the figure."""
    return ind.drill and is_officer and department is not None and department == ind.owner


def listing(
    reader: Reader,
    ind: Indicator,
    scope: Scope,
    *,
    actor: str,
    department: str | None,
    is_officer: bool,
    limit: int = 200,
) -> Listing:
    """The list behind ``ind`` for ``scope``: refused unless the viewer may see it; each view
    an ``insight.list_viewed`` ledger entry in the caller's transaction."""
    m = measure_of(ind)
    if m is None or m.listing is None or not may_list(ind, department, is_officer):
        raise Problem(
            "forbidden",
            Text(
                "只有负责该指标的部门工作人员可以查看明细，其他人看到的是汇总数",
                "only the officers of the department answerable for this figure see its list",
            ),
        )
    kept = reader.computed(ind)
    shown = engine.figure(ind, kept, scope, reader.today)
    found = m.listing(
        Inputs(reader.db, reader.core, reader.settings, reader.today),
        shown.start,
        shown.end,
        scope.district,
        limit,
    )
    ledger.record(
        reader.db,
        actor=actor,
        action="insight.list_viewed",
        detail={
            "indicator": ind.code,
            "start": None if shown.start is None else shown.start.isoformat(),
            "end": None if shown.end is None else shown.end.isoformat(),
            "district": scope.district,
            "rows": len(found.rows),
            "personal": found.personal,
        },
    )
    return found
