"""The one engine every figure goes through: an indicator's facts, computed from its formula
and kept per source version, then summed for whatever a person asks (a time range, a district)
and broken down by district, month and group, with the previous period, the target and the
small cells withheld.

- **Facts, once.** An indicator's formula yields facts (``core.facts.Fact``): its SQL over the
  data core (DuckDB, on a connection that sees only the tables it names) or a domain's figures
  (``measures``). They are computed once per *source version* — the versions of the data-core
  tables read; for figures of the operational database, the size of the audit ledger, which
  every decision and every change a figure counts appends to; and the day, for what is counted
  up to today — and kept in memory. A page, the
  API, the dashboard and the CLI read the same kept facts: no page runs a query of its own.
- **Refresh.** ``live`` figures follow their sources at once; ``hourly`` and ``daily`` ones at
  most once an hour or a day, however often the sources change (a figure a department reviews
  once a day need not follow every call of the data channel).
- **Privacy.** A figure counting people (``people: true``) shows no cell below k
  (``core.suppression``): the total, each district, month and group alike; a withheld cell
  shows as withheld, never as 0.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

from shuhui.core.clock import as_utc, local_today, utcnow
from shuhui.core.facts import Fact, add_months, month_of
from shuhui.core.i18n import Text
from shuhui.core.regions import qingdao_districts, region_by_code
from shuhui.core.suppression import K_MIN, withheld
from shuhui.datacore.store import DataCore
from shuhui.insight.content import Indicator, Target
from shuhui.insight.forecast import Forecast, forecast


@dataclass(frozen=True, slots=True)
class Sources:
    """What a figure was computed from: data-core tables at their versions, the audit ledger's
    size for figures of the operational database, and the day."""

    tables: tuple[tuple[str, int], ...]
    ledger: int | None
    # The day computed on: a figure counted up to today (cases near their deadline, ages, the
    # items in force) is computed again the next day, whatever else changed.
    day: date | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "tables": [{"table": name, "version": version} for name, version in self.tables],
            "ledger_size": self.ledger,
            "day": None if self.day is None else self.day.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class Computed:
    facts: tuple[Fact, ...]
    sources: Sources
    at: datetime
    seconds: float


@dataclass(frozen=True, slots=True)
class Scope:
    """What a person asks for: months from ``start`` to ``end`` (first days, inclusive; None:
    the twelve months to the latest the facts hold) in one district (None: the whole city)."""

    start: date | None = None
    end: date | None = None
    district: str | None = None


@dataclass(frozen=True, slots=True)
class Cell:
    key: str
    label: Text
    value: float | None  # None: no data, or withheld
    withheld: bool = False


@dataclass(frozen=True)
class Figure:
    indicator: Indicator
    value: float | None
    withheld: bool
    start: date | None  # the months summed (None: a stock, as it is now)
    end: date | None
    previous: float | None  # the same number of months just before
    change: float | None  # (value − previous) / previous
    target: Target | None
    attainment: float | None  # value / target
    by_district: tuple[Cell, ...]
    by_month: tuple[Cell, ...]
    by_group: tuple[Cell, ...]
    sources: Sources
    computed_at: datetime
    seconds: float
    district: str | None
    k: int = K_MIN
    notes: list[Text] = field(default_factory=list)
    forecast: Forecast | None = None


# --- computing and keeping the facts -----------------------------------------------------------

Reader = Callable[[Indicator], tuple[list[Fact], Sources]]
_kept: dict[tuple[str, str], Computed] = {}
_locks: dict[tuple[str, str], threading.Lock] = {}
_guard = threading.Lock()
_PERIOD: Final = {"hourly": 3600.0, "daily": 86400.0}
FORECAST_HISTORY: Final = 36  # months a forecast is fitted on, at most


def _fresh(ind: Indicator, held: Computed, sources: Sources, now: datetime) -> bool:
    if held.sources == sources:
        return True
    period = _PERIOD.get(ind.refresh)
    return period is not None and (now - held.at).total_seconds() < period


def computed(
    place: str,
    ind: Indicator,
    sources: Callable[[Indicator], Sources],
    compute: Reader,
    now: datetime | None = None,
) -> Computed:
    """``ind``'s facts: kept ones while they are fresh, else computed now (once, whichever
    threads ask at the same time). ``place`` tells cities apart (the data directory)."""
    now = as_utc(now or utcnow())
    key = (place, ind.code)
    current = sources(ind)
    with _guard:
        held = _kept.get(key)
        lock = _locks.setdefault(key, threading.Lock())
    if held is not None and _fresh(ind, held, current, now):
        return held
    with lock:
        held = _kept.get(key)
        if held is not None and _fresh(ind, held, current, now):
            return held
        began = time.perf_counter()
        facts, read = compute(ind)
        made = Computed(merged(facts), read, now, time.perf_counter() - began)
        with _guard:
            _kept[key] = made
        return made


def merged(facts: Iterable[Fact]) -> tuple[Fact, ...]:
    """Facts that fall in the same district, month and group added into one (a formula that
    counts by day gives a month's days as as many facts): every figure sums them the same, and
    a page then sums a few thousand, not hundreds of thousands. In month order."""
    sums: dict[tuple[str | None, date | None, str | None], list[float]] = {}
    no_base: set[tuple[str | None, date | None, str | None]] = set()
    for f in facts:
        key = (f.district, f.month, f.group)
        held = sums.get(key)
        if held is None:
            sums[key] = [f.value, f.base or 0.0]
        else:
            held[0] += f.value
            held[1] += f.base or 0.0
        if f.base is None:
            no_base.add(key)
    ordered = sorted(
        sums.items(), key=lambda kv: (kv[0][1] or date.min, kv[0][0] or "", kv[0][2] or "")
    )
    return tuple(
        Fact(value, None if key in no_base and not base else base, *key)
        for key, (value, base) in ordered
    )


def forget(place: str | None = None) -> None:
    """Drops kept facts (of one city, or all): tests that rebuild a city in the same place."""
    with _guard:
        for key in [k for k in _kept if place is None or k[0] == place]:
            del _kept[key]


def sql_facts(core: DataCore, ind: Indicator) -> list[Fact]:
    """Runs the indicator's SQL on a connection that sees only its tables. Its columns:
    ``value``, and any of ``base``, ``district``, ``month``, ``grp``."""
    assert ind.sql is not None
    con = core.connect(tables=ind.tables)
    try:
        result = con.execute(ind.sql)
        names = [d[0] for d in result.description or ()]
        rows = result.fetchall()
    finally:
        con.close()
    if "value" not in names:
        raise ValueError(f"{ind.code}: the formula gives no value column")
    at = {name: i for i, name in enumerate(names)}
    return [_fact(row, at) for row in rows]


def _fact(row: tuple[Any, ...], at: dict[str, int]) -> Fact:
    def get(name: str) -> Any:
        i = at.get(name)
        return None if i is None else row[i]

    month = get("month")
    if isinstance(month, datetime):
        month = month.date()
    if isinstance(month, str):
        month = date.fromisoformat(month[:10])
    base = get("base")
    return Fact(
        value=float(get("value") or 0),
        base=None if base is None else float(base),
        district=None if get("district") is None else str(get("district")),
        month=None if month is None else month_of(month),
        group=None if get("grp") is None else str(get("grp")),
    )


# --- a figure for a scope ----------------------------------------------------------------------


def months_between(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month + 1


@dataclass
class _Sum:
    value: float = 0.0
    base: float = 0.0
    n: int = 0

    def add(self, f: Fact) -> None:
        self.value += f.value
        self.base += f.base or 0.0
        self.n += 1


def _shown(ind: Indicator, s: _Sum | None) -> tuple[float | None, bool]:
    """The figure of summed facts, or None; True where it is withheld."""
    if s is None or s.n == 0:
        return None, False
    if ind.people and withheld(s.value, of=s.base if ind.aggregate == "ratio" else None):
        return None, True
    if ind.aggregate == "ratio":
        return (None, False) if s.base == 0 else (s.value / s.base * ind.scale, False)
    return s.value * ind.scale, False


def _summed(facts: Iterable[Fact], by: Callable[[Fact], str | None]) -> dict[str | None, _Sum]:
    sums: dict[str | None, _Sum] = defaultdict(_Sum)
    for f in facts:
        sums[by(f)].add(f)
    return sums


def figure(ind: Indicator, kept: Computed, scope: Scope, today: date | None = None) -> Figure:
    facts = kept.facts
    monthly = [f for f in facts if f.month is not None]
    notes: list[Text] = []
    start = end = None
    if monthly:
        latest = max(f.month for f in monthly if f.month is not None)
        end = month_of(scope.end) if scope.end else latest
        start = month_of(scope.start) if scope.start else add_months(end, -11)
        if start > end:
            start, end = end, start
    in_district = [f for f in facts if scope.district is None or f.district == scope.district]
    if scope.district is not None and not any(f.district is not None for f in facts):
        in_district = list(facts)
        notes.append(Text("该指标只有全市数", "this figure is for the whole city only"))

    def within(f: Fact, a: date | None, b: date | None) -> bool:
        return f.month is None or a is None or b is None or a <= f.month <= b

    chosen = [f for f in in_district if within(f, start, end)]
    value, hidden = _shown(ind, _summed(chosen, lambda f: "all").get("all"))
    previous = change = None
    if start is not None and end is not None and monthly:
        length = months_between(start, end)
        before = [
            f
            for f in in_district
            if f.month is not None
            and add_months(start, -length) <= f.month <= add_months(end, -length)
        ]
        previous, _ = _shown(ind, _summed(before, lambda f: "all").get("all"))
        if value is not None and previous:
            change = (value - previous) / abs(previous)
    year = (end or today or local_today()).year
    target = ind.target(year)
    attainment = (
        None if target is None or value is None or not target.value else value / target.value
    )
    in_time = [f for f in facts if within(f, start, end)]
    ahead = None
    if ind.forecast and end is not None:
        ahead = _forecast(ind, [f for f in in_district if f.month is not None], end, notes)
    return Figure(
        indicator=ind,
        value=value,
        withheld=hidden,
        start=start,
        end=end,
        previous=previous,
        change=change,
        target=target,
        attainment=attainment,
        by_district=_by_district(ind, in_time),
        by_month=_by_month(ind, [f for f in in_district if f.month is not None], start, end),
        by_group=_by_group(ind, chosen),
        sources=kept.sources,
        computed_at=kept.at,
        seconds=kept.seconds,
        district=scope.district,
        notes=notes,
        forecast=ahead,
    )


def _forecast(ind: Indicator, monthly: list[Fact], end: date, notes: list[Text]) -> Forecast | None:
    """The next three months from the last three years of months up to ``end``, as shown. A
    month with no facts is 0 for a sum (nothing happened) and a gap for a ratio; a series with
    a gap or a withheld month is not forecast (a forecast from hidden figures could give them
    away)."""
    months = [f.month for f in monthly if f.month is not None and f.month <= end]
    if not months:
        return None
    first = max(min(months), add_months(end, -(FORECAST_HISTORY - 1)))
    cells = _by_month(ind, monthly, first, end)
    values = []
    for c in cells:
        if c.withheld or (c.value is None and ind.aggregate == "ratio"):
            notes.append(
                Text("有的月份没有数据或已隐去，不做预测", "not forecast: a month is missing")
            )
            return None
        values.append(0.0 if c.value is None else float(c.value))
    if len(values) < 3:
        return None
    series = [(date.fromisoformat(c.key), v) for c, v in zip(cells, values, strict=True)]
    return forecast(series, horizon=3, nonnegative=True)


def _by_district(ind: Indicator, facts: list[Fact]) -> tuple[Cell, ...]:
    if not any(f.district is not None for f in facts):
        return ()
    sums = _summed(facts, lambda f: f.district)
    cells = []
    for region in qingdao_districts():
        value, hidden = _shown(ind, sums.get(region.code))
        cells.append(Cell(region.code, Text(region.name, region.name_en), value, hidden))
    return tuple(cells)


def _by_month(
    ind: Indicator, facts: list[Fact], start: date | None, end: date | None
) -> tuple[Cell, ...]:
    if start is None or end is None:
        return ()
    sums: dict[date | None, _Sum] = defaultdict(_Sum)
    for f in facts:
        if f.month is not None and start <= f.month <= end:
            sums[f.month].add(f)
    cells = []
    month = start
    while month <= end:
        value, hidden = _shown(ind, sums.get(month))
        label = Text(f"{month.year}年{month.month}月", f"{month:%b %Y}")
        cells.append(Cell(month.isoformat(), label, value, hidden))
        month = add_months(month, 1)
    return tuple(cells)


def _by_group(ind: Indicator, facts: list[Fact]) -> tuple[Cell, ...]:
    if not any(f.group is not None for f in facts):
        return ()
    sums = _summed(facts, lambda f: f.group)
    order = list(ind.groups) + sorted(g for g in sums if g is not None and g not in ind.groups)
    cells = []
    for code in order:
        value, hidden = _shown(ind, sums.get(code))
        if value is None and not hidden and code not in ind.groups:
            continue
        cells.append(Cell(code, ind.groups.get(code) or Text(code, code), value, hidden))
    return tuple(cells)


def district_name(code: str | None) -> Text:
    region = None if code is None else region_by_code(code)
    return Text("全市", "Whole city") if region is None else Text(region.name, region.name_en)


def place_of(core: DataCore, content: Path) -> str:
    return f"{core.main.root}|{content}"
